// The query runtime under the faults pods go through, against the stack's NATS, Cassandra and
// ClickHouse with every processor and worker a real process: query workers SIGKILLed at random
// points (restarted under the same identity or replaced by a new one), a processor SIGKILLed,
// workers scaled 1→3→2, and input that stops. The rows in the tables (ids and values) must be
// exactly what the offline engine computes over the same events.
import { afterAll, describe, expect, it } from 'vitest';
import { jetstreamManager } from '@nats-io/jetstream';
import type { CloudEvent } from '../../../runtime/events/index.js';
import { useStackTargets } from '../processor/stack-targets.js';
import { readDeadLetters, stopProcess, waitFor, type ProcessHandle } from '../processor/support.js';
import {
  closedBefore,
  events,
  leaseOwners,
  offline,
  QUERY_EVENTS,
  scaledTimeout,
  setup,
  tableRows,
  terminalEvents,
  threeQueries,
  type QuerySpec,
  type Setup,
} from './harness.js';
import { startCli } from './support.js';

const s = useStackTargets('qft');
const running: ProcessHandle[] = [];
afterAll(() => {
  // QUERIES_TEST_LOGS=1: each process's warnings and errors, to see why a run failed.
  if (process.env.QUERIES_TEST_LOGS)
    for (const p of running)
      console.log(
        p.logs
          .filter((l) => Number(l.level) >= 40 || /partition|Query worker/i.test(String(l.msg)))
          .slice(-40)
          .map((l) => JSON.stringify(l))
          .join('\n'),
        p.stderr.join('').slice(-1500),
      );
  for (const p of running)
    if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
});

async function start(command: 'process' | 'query-worker', file: string): Promise<ProcessHandle> {
  const p = await startCli(command, file);
  running.push(p);
  return p;
}

async function kill(p: ProcessHandle): Promise<void> {
  p.child.kill('SIGKILL');
  await p.exited;
}

/** Each query's result table's row count: cheaper to poll than reading the rows back. */
function tableCounts(tag: string): Record<string, () => Promise<number>> {
  const clickhouse = async (table: string) => {
    const rs = await s.ch.query({
      query: `SELECT count() AS n FROM ${s.database}.${table} FINAL`,
      format: 'JSONEachRow',
    });
    return Number(((await rs.json()) as { n: string }[])[0]?.n ?? 0);
  };
  const cassandra = async (table: string) =>
    Number(String((await s.cql.execute(`SELECT count(*) FROM ${s.keyspace}.${table}`)).rows[0]!.get(0)));
  return {
    'per-minute': () => clickhouse(`${tag}_minutes`),
    sliding: () => clickhouse(`${tag}_recent`),
    sessions: () => cassandra(`${tag}_sessions`),
  };
}

/** Publishes a day-later terminal event per key, then waits until every table holds the offline rows. */
async function expectOfflineRows(
  st: Setup,
  queries: QuerySpec[],
  published: { evs: CloudEvent[]; seqs: number[] },
): Promise<void> {
  const terminal = Date.parse(published.evs.at(-1)!.time!) + 86_400_000;
  const last = terminalEvents(st.tag, terminal);
  const all = [...published.evs, ...last];
  const seqs = [...published.seqs, ...(await st.publish(last))];
  const out = offline(st.n.consumer, queries, all, seqs);
  const read = tableRows(s, st.tag);
  const count = tableCounts(st.tag);
  for (const q of queries) {
    const want = closedBefore(out.get(q.name)!, terminal);
    expect(want.size, q.name).toBeGreaterThan(0);
    await waitFor(async () => (await count[q.name]!()) >= want.size, ROWS_MS, `${q.name} rows`);
    expect(Object.fromEntries(await read[q.name]!()), q.name).toEqual(Object.fromEntries(want));
  }
}

/** A seeded generator, so that a failing run's kill points can be replayed from its seed. */
function random(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 4294967296;
}

// Both grow with EVENTRUNNER_QUERY_EVENTS.
const RUN_MS = scaledTimeout(240_000);
const ROWS_MS = scaledTimeout(120_000);

describe('query runtime under faults', { timeout: RUN_MS }, () => {
  it('lands the offline rows while workers are SIGKILLed at five random points and a processor once', async () => {
    const seed = Date.now() % 1_000_000;
    const rnd = random(seed);
    const tag = `k${Math.random().toString(36).slice(2, 7)}`;
    // A killed processor's unacked events come again after the ack wait, behind newer ones: the
    // grace period covers that, so no event is late and the contract promises identical rows.
    const queries = threeQueries('3 MINUTES');
    const st = await setup(s, tag, queries, { lease: '3s', ackWaitMs: 3000 });
    const N = QUERY_EVENTS;
    const evs = events(tag, N, Date.now() - 7_200_000);
    let processor = await start('process', st.processorFile);
    const workers = [
      await start('query-worker', st.workerFile('w1')),
      await start('query-worker', st.workerFile('w2')),
    ];
    const ids = ['w1', 'w2'];
    const seqs: number[] = [];
    const chunks = 6;
    for (let c = 0; c < chunks; c++) {
      seqs.push(...(await st.publish(evs.slice((c * N) / chunks, ((c + 1) * N) / chunks))));
      if (c === chunks - 1) break;
      // Fault timing, not readiness: the kill lands at a random point of the chunk's processing.
      await new Promise((r) => setTimeout(r, Math.floor(rnd() * 2000)));
      const i = Math.floor(rnd() * workers.length);
      await kill(workers[i]!);
      // Every other kill restarts under the same identity (a StatefulSet pod); the others bring a
      // new identity, which takes the partitions over only once their leases expire.
      if (c % 2 === 1) ids[i] = `${ids[i]}x`;
      workers[i] = await start('query-worker', st.workerFile(ids[i]!));
      if (c === 2) {
        await kill(processor);
        processor = await start('process', st.processorFile);
      }
    }
    await expectOfflineRows(st, queries, { evs, seqs }).catch((err: Error) => {
      throw new Error(`${err.message} (kill points from seed ${seed})`, { cause: err });
    });
    expect((await readDeadLetters(s.nc, st.n.dlqStream)).filter((d) => d.reason === 'late')).toEqual([]);
    for (const p of [processor, ...workers]) expect((await stopProcess(p)).code).toBe(0);
  });

  it('lands the offline rows while workers scale 1→3→2, each partition owned by one live worker', async () => {
    const tag = `r${Math.random().toString(36).slice(2, 7)}`;
    const queries = threeQueries();
    const st = await setup(s, tag, queries, { lease: '3s' });
    const total = queries.reduce((n, q) => n + q.partitions, 0);
    const N = QUERY_EVENTS;
    const evs = events(tag, N, Date.now() - 7_200_000);
    const processor = await start('process', st.processorFile);
    const w1 = await start('query-worker', st.workerFile('w1'));
    const owned = async (live: string[], most: number) => {
      const owners = await leaseOwners(s, st.bucket);
      const per = live.map((id) => [...owners.values()].filter((o) => o === id).length);
      return owners.size === total && per.every((n) => n > 0 && n <= most);
    };
    await waitFor(() => owned(['w1'], total), 30_000, 'w1 owns every partition');
    const seqs = await st.publish(evs.slice(0, N / 3));
    const w2 = await start('query-worker', st.workerFile('w2'));
    const w3 = await start('query-worker', st.workerFile('w3'));
    // Up: every worker ends with its fair share, ⌈partitions ÷ workers⌉ at most.
    await waitFor(
      () => owned(['w1', 'w2', 'w3'], Math.ceil(total / 3)),
      60_000,
      'partitions spread over three',
    );
    seqs.push(...(await st.publish(evs.slice(N / 3, (2 * N) / 3))));
    // Down: a scaled-away pod drains (last checkpoint, leases released) and exits cleanly.
    expect((await stopProcess(w3)).code).toBe(0);
    await waitFor(() => owned(['w1', 'w2'], Math.ceil(total / 2)), 60_000, 'partitions back on two');
    seqs.push(...(await st.publish(evs.slice((2 * N) / 3))));
    await expectOfflineRows(st, queries, { evs, seqs });
    for (const p of [processor, w1, w2]) expect((await stopProcess(p)).code).toBe(0);
  });

  it('closes the windows of input that stopped once its partitions are idle', async () => {
    const tag = `i${Math.random().toString(36).slice(2, 7)}`;
    const queries = [{ ...threeQueries('1 SECOND')[0]!, idleTimeout: '2s', partitions: 2 }];
    const st = await setup(s, tag, queries);
    // Half a minute of orders ten minutes ago, and nothing after: without the idle advance the
    // last window of each partition would stay open.
    const evs = events(tag, 600, Date.now() - 600_000);
    const processor = await start('process', st.processorFile);
    const seqs = await st.publish(evs);
    // The worker starts on a full shuffle stream: a partition idle before any input would move its
    // watermark to the wall clock, and these orders would all be late.
    const jsm = await jetstreamManager(s.nc);
    await waitFor(
      async () => (await jsm.streams.info(st.shuffle.stream)).state.messages === evs.length,
      60_000,
      'every order shuffled',
    );
    const worker = await start('query-worker', st.workerFile('w1'));
    const want = offline(st.n.consumer, queries, evs, seqs).get('per-minute')!.rows;
    const read = tableRows(s, tag)['per-minute']!;
    const count = tableCounts(tag)['per-minute']!;
    await waitFor(async () => (await count()) >= want.size, 60_000, 'every window closed');
    expect(Object.fromEntries(await read())).toEqual(Object.fromEntries(want));
    for (const p of [processor, worker]) expect((await stopProcess(p)).code).toBe(0);
  }, 120_000);
});
