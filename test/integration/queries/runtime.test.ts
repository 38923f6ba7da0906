// The distributed query runtime against the stack's NATS, Cassandra and ClickHouse: processors
// shuffle kept events through JetStream, query workers own partitions through KV leases, write
// results through the sinks and checkpoint to KV. Results must equal the offline engine's — with
// a worker SIGKILLed mid-run and restarted, and with an owner paused past its lease. The other
// faults are in faults.test.ts.
import { afterAll, describe, expect, it } from 'vitest';
import { jetstreamManager } from '@nats-io/jetstream';
import { useStackTargets } from '../processor/stack-targets.js';
import { metric, readDeadLetters, stopProcess, waitFor, type ProcessHandle } from '../processor/support.js';
import {
  closedBefore,
  clickhouseRows,
  events,
  offline,
  QUERY_EVENTS,
  scaledTimeout,
  setup,
  tableRows,
  terminalEvents,
  threeQueries,
} from './harness.js';
import { startCli } from './support.js';

const s = useStackTargets('qrt');
const running: ProcessHandle[] = [];
afterAll(async () => {
  if (process.env.QUERIES_TEST_LOGS)
    for (const p of running)
      console.log(
        p.logs
          .filter((l) => !/Serving|Opened sink/.test(String(l.msg)))
          .slice(-25)
          .map((l) => JSON.stringify(l))
          .join('\n'),
        p.stderr.join('').slice(-1500),
      );
  for (const p of running)
    if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
});

const QUERIES = threeQueries();

// Both grow with EVENTRUNNER_QUERY_EVENTS.
const RUN_MS = scaledTimeout(300_000);
const ROWS_MS = scaledTimeout(120_000);

describe('query runtime: processors, shuffle stream, query workers', { timeout: RUN_MS }, () => {
  it('lands the offline results in Cassandra and ClickHouse with a worker SIGKILLed mid-run; late events dead-lettered', async () => {
    const tag = `t${Math.random().toString(36).slice(2, 7)}`;
    const st = await setup(s, tag, QUERIES);
    const N = QUERY_EVENTS;
    const base = Date.now() - 3_600_000;
    const evs = events(tag, N, base);
    const processor = await startCli('process', st.processorFile);
    running.push(processor);
    const w1 = await startCli('query-worker', st.workerFile('w1'));
    const w2 = await startCli('query-worker', st.workerFile('w2'));
    running.push(w1, w2);

    const started = performance.now();
    const seqs = await st.publish(evs.slice(0, N / 2));
    // Kill w1 while it holds partitions mid-run, restart it under the same identity.
    await waitFor(
      async () => (await metric(w1, 'eventrunner_sink_batch_rows_count')) > 5,
      20_000,
      'w1 writing',
    );
    w1.child.kill('SIGKILL');
    await w1.exited;
    const killedAt = performance.now();
    seqs.push(...(await st.publish(evs.slice(N / 2))));
    const w1b = await startCli('query-worker', st.workerFile('w1'));
    running.push(w1b);
    await waitFor(
      () =>
        w1b.logs.some((l) => l.msg === 'Restored partition from checkpoint' || l.msg === 'Started partition'),
      30_000,
      'w1 partitions back',
    );
    const recoveryMs = performance.now() - killedAt;
    // Late: far behind every partition's watermark.
    const late = events(`${tag}late`, 3, base - 600_000).map((e, i) => ({
      ...e,
      data: { ...(e.data as object), user: `u${i}` },
    }));
    const lateSeqs = await st.publish(late);

    // A terminal event a day later closes every other window (idle advance is tested on its own).
    const terminal = Date.parse(evs.at(-1)!.time!) + 86_400_000;
    const last = terminalEvents(tag, terminal);
    const lastSeqs = await st.publish(last);
    const offlineOut = offline(
      st.n.consumer,
      QUERIES,
      [...evs, ...late, ...last],
      [...seqs, ...lateSeqs, ...lastSeqs],
    );
    const expected = new Map(
      [...offlineOut].map(([name, o]) => [name, { ...o, rows: closedBefore(o, terminal) }]),
    );
    const read = tableRows(s, tag);
    for (const q of QUERIES) {
      const want = expected.get(q.name)!.rows;
      await waitFor(async () => (await read[q.name]!()).size >= want.size, ROWS_MS, `${q.name} rows`);
    }
    const elapsed = performance.now() - started;
    for (const q of QUERIES) {
      const got = await read[q.name]!();
      const want = expected.get(q.name)!.rows;
      expect(got.size, q.name).toBe(want.size);
      expect(Object.fromEntries(got), q.name).toEqual(Object.fromEntries(want));
    }
    // Every query saw the three late events; each went to the dead-letter stream with its query.
    await waitFor(
      async () => (await readDeadLetters(s.nc, st.n.dlqStream)).length >= 9,
      30_000,
      'late dead letters',
    );
    const dls = await readDeadLetters(s.nc, st.n.dlqStream);
    expect(dls.every((d) => d.reason === 'late')).toBe(true);
    expect(new Set(dls.map((d) => d.id))).toEqual(new Set(late.map((e) => e.id)));
    for (const q of QUERIES) expect(expected.get(q.name)!.late.length).toBe(3);

    console.log(
      JSON.stringify({
        events: N,
        seconds: elapsed / 1000,
        eventsPerSecond: Math.round(N / (elapsed / 1000)),
        recoveryMs: Math.round(recoveryMs),
      }),
    );
    for (const p of [processor, w2, w1b]) expect((await stopProcess(p)).code).toBe(0);
  });

  it('an owner paused past its lease (SIGSTOP, then SIGCONT) writes nothing; the new owner writes every row', async () => {
    const tag = `f${Math.random().toString(36).slice(2, 7)}`;
    // No idle advance here: a terminal event a day later closes every other window.
    const queries = [{ ...QUERIES[0]!, partitions: 1, idleTimeout: '1h' }];
    const st = await setup(s, tag, queries, { lease: '3s' });
    const base = Date.now() - 3_600_000;
    const evs = events(tag, 4000, base);
    const terminal = Date.parse(evs.at(-1)!.time!) + 86_400_000;
    evs.push({ ...evs.at(-1)!, id: `${tag}-terminal`, time: new Date(terminal).toISOString() });
    const processor = await startCli('process', st.processorFile);
    const a = await startCli('query-worker', st.workerFile('a'));
    running.push(processor, a);
    await waitFor(() => a.logs.some((l) => l.msg === 'Started partition'), 30_000, 'a owns the partition');
    const b = await startCli('query-worker', st.workerFile('b'));
    running.push(b);
    const seqs = await st.publish(evs.slice(0, 2000));
    // Let a write and checkpoint what the first half closes, so that no write of it is in flight
    // when it stops: the processor has acked every event (after its shuffle publish was accepted)
    // and the shuffle stream is empty (a acks only after a checkpoint, which follows its writes).
    // Rows that stop changing are not enough: a second window's rows may still be on their way.
    const jsm = await jetstreamManager(s.nc);
    await waitFor(
      async () => {
        const c = await jsm.consumers.info(st.n.stream, st.n.consumer);
        const sh = await jsm.streams.info(st.shuffle.stream);
        return (
          c.num_pending === 0 &&
          c.num_ack_pending === 0 &&
          sh.state.messages === 0 &&
          (await clickhouseRows(s, `${tag}_minutes`)).size > 0
        );
      },
      60_000,
      'a wrote and checkpointed the first half',
    );
    const writesBefore = await metric(a, 'eventrunner_sink_batch_rows_count');
    a.child.kill('SIGSTOP');
    await waitFor(
      () => b.logs.some((l) => l.msg === 'Restored partition from checkpoint'),
      30_000,
      'b takes over',
    );
    seqs.push(...(await st.publish(evs.slice(2000))));
    a.child.kill('SIGCONT');
    await waitFor(
      () => a.logs.some((l) => /Lease taken over|Partition lost/.test(String(l.msg))),
      30_000,
      'a fenced',
    );

    const out = offline(st.n.consumer, queries, evs, seqs).get('per-minute')!;
    const want = closedBefore(out, terminal);
    await waitFor(async () => (await clickhouseRows(s, `${tag}_minutes`)).size >= want.size, 120_000, 'rows');
    expect(Object.fromEntries(await clickhouseRows(s, `${tag}_minutes`))).toEqual(Object.fromEntries(want));
    // The paused owner wrote no row after it resumed: its sink saw no batch since.
    expect(await metric(a, 'eventrunner_sink_batch_rows_count')).toBe(writesBefore);
    for (const p of [processor, a, b]) expect((await stopProcess(p)).code).toBe(0);
  });
});
