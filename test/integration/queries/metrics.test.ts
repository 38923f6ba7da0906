// The query worker's per-query metrics, read from its real /metrics endpoint while it runs two
// queries against the stack's NATS and ClickHouse: partitions owned, watermark and its delay, state
// keys, the least recent checkpoint's age, and the inputs, results, late events and checkpoints
// counted, each labelled with its query. The expected values come from the engine run over the
// same inputs, partition by partition, in this test (no worker involved).
import { afterAll, describe, expect, it } from 'vitest';
import { jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import type { CloudEvent } from '../../../runtime/events/index.js';
import { compilePipelineQueries } from '../../../runtime/queries/pipeline.js';
import type { PartitionState, QueryInput } from '../../../runtime/queries/index.js';
import type { PartitionStatus } from '../../../runtime/query-worker/status.js';
import { useStackTargets } from '../processor/stack-targets.js';
import { stopProcess, waitFor, type ProcessHandle } from '../processor/support.js';
import { events, setup, type QuerySpec } from './harness.js';
import { startCli } from './support.js';

const s = useStackTargets('qmet');
const running: ProcessHandle[] = [];
afterAll(() => {
  for (const p of running)
    if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
});

const QUERIES: QuerySpec[] = [
  {
    name: 'per-minute',
    sql: `SELECT data.country AS country, count(*) AS n FROM orders
          WINDOW TUMBLING (SIZE 1 MINUTE, GRACE PERIOD 5 SECONDS) GROUP BY data.country`,
    outputs: ['minutes'],
    partitions: 2,
    idleTimeout: '1h',
  },
  {
    name: 'sliding',
    sql: `SELECT id, data.user AS user, sum(data.amount) AS total FROM orders
          WINDOW SLIDING (SIZE 10 SECONDS, GRACE PERIOD 5 SECONDS) GROUP BY data.user`,
    outputs: ['recent'],
    partitions: 3,
    idleTimeout: '1h',
  },
];

/** Every sample of the endpoint: metric name → query label → value. */
async function scrape(p: ProcessHandle): Promise<Map<string, Map<string, number>>> {
  const res = await fetch(`http://127.0.0.1:${p.opsPort()}/metrics`, { signal: AbortSignal.timeout(10_000) });
  expect(res.status).toBe(200);
  const out = new Map<string, Map<string, number>>();
  for (const line of (await res.text()).split('\n')) {
    const m = /^(eventrunner_query_\w+)\{([^}]*)\} (\S+)$/.exec(line);
    const query = m ? /(?:^|,)query="([^"]*)"/.exec(m[2]!)?.[1] : undefined;
    if (!m || query === undefined) continue;
    const byQuery = out.get(m[1]!) ?? new Map<string, number>();
    byQuery.set(query, Number(m[3]));
    out.set(m[1]!, byQuery);
  }
  return out;
}

/** What each query's partitions hold after the inputs, in order: the engine alone, per partition. */
function expected(pipeline: string, inputs: QueryInput[]) {
  const { compiled, problems } = compilePipelineQueries(
    { namespace: 'test', name: pipeline },
    {
      sources: [{ eventSource: 'shop', as: 'orders' }],
      queries: QUERIES.map((q) => ({ ...q, maxStateKeys: 1_000_000 })),
      outputs: QUERIES.flatMap((q) => q.outputs.map((name) => ({ name }))),
    },
  );
  expect(problems).toEqual([]);
  return new Map(
    compiled.map((q) => {
      const parts = new Map<number, { state: PartitionState; results: number; late: number }>();
      for (const input of inputs) {
        const key = q.keyOf(input);
        if (key === undefined) continue;
        const p = q.partitionOf(key, q.partitions);
        const part = parts.get(p) ?? { state: q.createState(), results: 0, late: 0 };
        parts.set(p, part);
        const out = part.state.push([input]);
        part.results += out.results.length;
        part.late += out.late.length;
      }
      const all = [...parts.values()];
      const watermarks = all.map((x) => x.state.watermark).filter((w) => Number.isFinite(w));
      return [
        q.name,
        {
          partitions: q.partitions,
          withInput: all.length,
          stateKeys: all.reduce((n, x) => n + x.state.stateKeys, 0),
          results: all.reduce((n, x) => n + x.results, 0),
          late: all.reduce((n, x) => n + x.late, 0),
          watermark: Math.min(...watermarks),
        },
      ] as const;
    }),
  );
}

describe('query worker metrics', () => {
  it('exports each query’s partitions, watermark and delay, state keys, checkpoint age and counts on /metrics', async () => {
    const tag = `m${Math.random().toString(36).slice(2, 7)}`;
    const ch = (name: string) => ({
      name,
      sink: {
        clickhouse: {
          url: s.targets.clickhouse.url,
          database: s.database,
          table: `${tag}_${name}`,
          manageSchema: true,
          batch: { maxRows: 1000, maxDelay: '100ms' },
        },
        columns: [{ name: 'n', type: 'bigint', from: '/data/n' }],
      },
    });
    const st = await setup(s, tag, QUERIES, { outputs: [ch('minutes'), ch('recent')], defaultOutputs: [] });
    const workerStarted = Date.now();
    // Start-up waits are generous: on a loaded machine a process from source takes a while.
    const worker = await startCli('query-worker', st.workerFile('w'), 180_000);
    running.push(worker);
    const processor = await startCli('process', st.processorFile, 180_000);
    running.push(processor);

    const jsm = await jetstreamManager(s.nc);
    const drained = () =>
      waitFor(
        async () => (await jsm.streams.info(st.shuffle.stream)).state.messages === 0,
        120_000,
        'shuffle stream checkpointed and acked',
      );
    // A minute of orders, then — once they are in — copies of the first 200 with new ids, whose
    // windows have closed by then: late for both queries.
    // 20 s into a minute: the copies' minute window ends before the watermark the minute reaches.
    const base = Math.floor((Date.now() - 3_600_000) / 60_000) * 60_000 + 20_000;
    const onTime = events(tag, 1200, base);
    const late: CloudEvent[] = onTime.slice(0, 200).map((e) => ({ ...e, id: `${e.id}-again` }));
    const seqs = await st.publish(onTime);
    await waitFor(
      async () => (await jsm.streams.info(st.shuffle.stream)).state.last_seq >= 2 * onTime.length,
      120_000,
      'on-time events shuffled',
    );
    await drained();
    seqs.push(...(await st.publish(late)));
    await waitFor(
      async () => (await jsm.streams.info(st.shuffle.stream)).state.last_seq >= 2 * (onTime.length + 200),
      120_000,
      'late events shuffled',
    );
    await drained();
    const emptyAt = Date.now();

    const inputs: QueryInput[] = [...onTime, ...late].map((e, i) => ({
      source: 'orders',
      seq: seqs[i]!,
      event: e as unknown as Record<string, unknown>,
    }));
    const want = expected(st.n.consumer, inputs);
    const before = Date.now();
    const got = await scrape(worker);
    const after = Date.now();
    const value = (metric: string, query: string) => got.get(metric)?.get(query);

    const kv = await new Kvm(s.nc).open(st.bucket);
    // A partition given up and taken again (a loaded machine) replays from its checkpoint, and the
    // replayed inputs, results and late events count again: then the counts are at least these.
    const replayed = worker.logs.some((l) => /Restored partition|Partition failed/.test(String(l.msg)));
    const atLeast = (got: number | undefined, n: number) =>
      replayed ? expect(got).toBeGreaterThanOrEqual(n) : expect(got).toBe(n);
    for (const [query, w] of want) {
      expect(w.late).toBeGreaterThan(0);
      expect(value('eventrunner_query_partitions_owned', query)).toBe(w.partitions);
      atLeast(value('eventrunner_query_inputs_total', query), inputs.length);
      atLeast(value('eventrunner_query_results_total', query), w.results);
      atLeast(value('eventrunner_query_late_events_total', query), w.late);
      expect(value('eventrunner_query_state_keys', query)).toBe(w.stateKeys);
      expect(value('eventrunner_query_watermark_seconds', query)).toBe(w.watermark / 1000);
      const delay = value('eventrunner_query_watermark_delay_seconds', query)!;
      expect(delay).toBeGreaterThanOrEqual((before - w.watermark) / 1000);
      expect(delay).toBeLessThanOrEqual((after - w.watermark) / 1000);
      // Every partition with input checkpointed after its last input, before the stream was empty.
      expect(value('eventrunner_query_checkpoints_total', query)).toBeGreaterThanOrEqual(w.withInput);
      const statuses: PartitionStatus[] = [];
      for (let p = 0; p < w.partitions; p++) {
        const e = await kv.get(`status.${query}.${p}`);
        if (e?.operation === 'PUT') statuses.push(e.json<PartitionStatus>());
      }
      expect(statuses.reduce((n, x) => n + x.stateKeys, 0)).toBe(w.stateKeys);
      const age = value('eventrunner_query_last_checkpoint_age_seconds', query)!;
      // No older than the worker; no younger than the time since the stream was seen empty.
      expect(age).toBeGreaterThanOrEqual((before - emptyAt) / 1000);
      expect(age).toBeLessThanOrEqual((after - workerStarted) / 1000);
    }
    for (const p of [processor, worker]) expect((await stopProcess(p)).code).toBe(0);
  }, 300_000);
});
