// The distributed query runtime against the stack's NATS, Cassandra and ClickHouse: processors
// shuffle kept events through JetStream, query workers own partitions through KV leases, write
// results through the sinks and checkpoint to KV. Results must equal the offline engine's — with
// a worker SIGKILLed mid-run and restarted, and with an owner paused past its lease.
import { afterAll, describe, expect, it } from 'vitest';
import { RetentionPolicy, jetstreamManager } from '@nats-io/jetstream';
import type { CloudEvent } from '../../../runtime/events/index.js';
import { compilePipelineQueries } from '../../../runtime/queries/pipeline.js';
import { runOffline, sortOutput, type QueryInput } from '../../../runtime/queries/index.js';
import { useStackTargets } from '../processor/stack-targets.js';
import {
  metric,
  names,
  natsSetup,
  publish,
  readDeadLetters,
  stopProcess,
  waitFor,
  writeConfig,
  type ProcessHandle,
} from '../processor/support.js';
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

const QUERIES = [
  {
    name: 'per-minute',
    sql: `SELECT data.country AS country, count(*) AS n, sum(data.amount) AS total FROM orders
          WINDOW TUMBLING (SIZE 1 MINUTE, GRACE PERIOD 5 SECONDS) GROUP BY data.country`,
    outputs: ['minutes'],
    partitions: 4,
    idleTimeout: '1h',
  },
  {
    name: 'sessions',
    sql: `SELECT data.user AS user, count(*) AS n, max(data.amount) AS top FROM orders
          WINDOW SESSION (GAP 20 SECONDS, GRACE PERIOD 5 SECONDS) GROUP BY data.user`,
    outputs: ['sessions'],
    partitions: 3,
    idleTimeout: '1h',
  },
  {
    name: 'sliding',
    sql: `SELECT id, data.user AS user, sum(data.amount) AS total FROM orders
          WINDOW SLIDING (SIZE 10 SECONDS, GRACE PERIOD 5 SECONDS) GROUP BY data.user`,
    outputs: ['recent'],
    partitions: 2,
    idleTimeout: '1h',
  },
];

const RESULT_COLUMNS = [{ name: 'n', type: 'bigint', from: '/data/n' }];

function events(run: string, n: number, base: number): CloudEvent[] {
  return Array.from({ length: n }, (_, i) => ({
    specversion: '1.0',
    id: `${run}-${i}`,
    source: '/shop/web',
    type: 'com.shop.order.created',
    time: new Date(base + i * 50).toISOString(),
    datacontenttype: 'application/json',
    data: {
      country: ['DE', 'FR', 'IT', 'ES', 'NL'][i % 5],
      user: `u${(i * 7) % 97}`,
      amount: (i % 113) + 0.25,
    },
  }));
}

interface Setup {
  n: ReturnType<typeof names>;
  shuffle: { stream: string; subjectPrefix: string };
  bucket: string;
  processorFile: string;
  workerFile: (id: string) => string;
}

async function setup(tag: string, queries: typeof QUERIES, lease = '3s'): Promise<Setup> {
  const n = names(tag);
  await natsSetup(s.targets.nats, n, { maxDeliver: 20, maxAckPending: 2000 });
  const jsm = await jetstreamManager(s.nc);
  const shuffle = { stream: `SH_${n.consumer}`, subjectPrefix: `sh.${n.consumer}` };
  await jsm.streams.add({
    name: shuffle.stream,
    subjects: [`${shuffle.subjectPrefix}.>`],
    retention: RetentionPolicy.Workqueue,
    duplicate_window: 600e9,
  });
  const bucket = `Q_${n.consumer}`;
  const ch = (table: string) => ({
    name: table,
    sink: {
      clickhouse: {
        url: s.targets.clickhouse.url,
        database: s.database,
        table: `${tag}_${table}`,
        manageSchema: true,
        batch: { maxRows: 1000, maxDelay: '100ms' },
      },
      columns: RESULT_COLUMNS,
    },
  });
  const outputs = [
    ch('raw'),
    ch('minutes'),
    ch('recent'),
    {
      name: 'sessions',
      sink: {
        scylla: {
          contactPoints: [s.targets.cassandra.contactPoint],
          localDataCenter: s.targets.cassandra.localDataCenter,
          keyspace: s.keyspace,
          table: `${tag}_sessions`,
          consistency: 'LOCAL_ONE',
          manageSchema: true,
          replicationFactor: 1,
        },
        columns: RESULT_COLUMNS,
      },
      credentials: {
        usernameFile: s.targets.cassandra.usernameFile,
        passwordFile: s.targets.cassandra.passwordFile,
      },
    },
  ];
  const pipeline = { namespace: 'test', name: n.consumer };
  const processorFile = writeConfig({
    pipeline,
    nats: { url: s.targets.nats },
    sources: [{ eventSource: 'shop', as: 'orders', stream: n.stream, consumer: n.consumer }],
    outputs: outputs.filter((o) => o.name === 'raw').concat(outputs.filter((o) => o.name !== 'raw')),
    defaultOutputs: ['raw'],
    queries,
    shuffle,
    delivery: { maxDeliver: 20, backoff: ['200ms'], maxAckPending: 2000 },
    deadLetter: { stream: n.dlqStream, subject: n.dlqSubject },
    ops: { port: 0, host: '127.0.0.1' },
  });
  const workerFile = (id: string) =>
    writeConfig({
      pipeline,
      workerId: id,
      nats: { url: s.targets.nats },
      sources: ['orders'],
      queries,
      outputs: outputs.filter((o) => o.name !== 'raw'),
      shuffle,
      state: { bucket, leaseDuration: lease, checkpointInterval: '500ms', checkpointEvery: 2000 },
      deadLetter: { stream: n.dlqStream, subject: n.dlqSubject },
      processing: { pullBatch: 500, tickInterval: '1s' },
      ops: { port: 0, host: '127.0.0.1' },
      shutdownGracePeriod: '10s',
    });
  return { n, shuffle, bucket, processorFile, workerFile };
}

/** What the offline engine says each query writes: id → data. */
function offline(pipeline: string, queries: typeof QUERIES, evs: CloudEvent[], seqs: number[]) {
  const { compiled, problems } = compilePipelineQueries(
    { namespace: 'test', name: pipeline },
    {
      sources: [{ eventSource: 'shop', as: 'orders' }],
      queries: queries.map((q) => ({ ...q, maxStateKeys: 1_000_000 })),
      outputs: queries.flatMap((q) => q.outputs.map((name) => ({ name }))),
    },
  );
  expect(problems).toEqual([]);
  const inputs: QueryInput[] = evs.map((e, i) => ({
    source: 'orders',
    seq: seqs[i]!,
    event: e as unknown as Record<string, unknown>,
  }));
  return new Map(
    compiled.map((q) => {
      const out = sortOutput(runOffline(q, inputs, { partitions: q.partitions }));
      return [
        q.name,
        {
          rows: new Map(out.results.map((r) => [r.id, r.data])),
          times: new Map(out.results.map((r) => [r.id, r.time])),
          late: out.late,
        },
      ] as const;
    }),
  );
}

async function clickhouseRows(table: string): Promise<Map<string, unknown>> {
  const rs = await s.ch.query({
    query: `SELECT id, data FROM ${s.database}.${table} FINAL`,
    format: 'JSONEachRow',
  });
  const rows = (await rs.json()) as { id: string; data: string }[];
  return new Map(rows.map((r) => [r.id, JSON.parse(r.data) as unknown]));
}

async function cassandraRows(table: string): Promise<Map<string, unknown>> {
  const rs = await s.cql.execute(`SELECT id, data FROM ${s.keyspace}.${table}`, [], { fetchSize: 100000 });
  return new Map(rs.rows.map((r) => [String(r.id), JSON.parse(String(r.data)) as unknown]));
}

const tableRows = (tag: string) => ({
  'per-minute': () => clickhouseRows(`${tag}_minutes`),
  sliding: () => clickhouseRows(`${tag}_recent`),
  sessions: () => cassandraRows(`${tag}_sessions`),
});

describe('query runtime: processors, shuffle stream, query workers', () => {
  it('lands the offline results in Cassandra and ClickHouse with a worker SIGKILLed mid-run; late events dead-lettered', async () => {
    const tag = `t${Math.random().toString(36).slice(2, 7)}`;
    const st = await setup(tag, QUERIES);
    const N = 20_000;
    const base = Date.now() - 3_600_000;
    const evs = events(tag, N, base);
    const processor = await startCli('process', st.processorFile);
    running.push(processor);
    const w1 = await startCli('query-worker', st.workerFile('w1'));
    const w2 = await startCli('query-worker', st.workerFile('w2'));
    running.push(w1, w2);

    const started = performance.now();
    const seqs = await publish(s.nc, st.n.prefix, evs.slice(0, N / 2));
    // Kill w1 while it holds partitions mid-run, restart it under the same identity.
    await waitFor(
      async () => (await metric(w1, 'eventrunner_sink_batch_rows_count')) > 5,
      20_000,
      'w1 writing',
    );
    w1.child.kill('SIGKILL');
    await w1.exited;
    const killedAt = performance.now();
    seqs.push(...(await publish(s.nc, st.n.prefix, evs.slice(N / 2))));
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
    const lateSeqs = await publish(s.nc, st.n.prefix, late);

    // A terminal event a day later closes every other window (idle advance is tested on its own).
    const terminal = Date.parse(evs.at(-1)!.time!) + 86_400_000;
    // Watermarks are per partition: one terminal event per user and country reaches every partition.
    const last = Array.from({ length: 97 }, (_, i) => ({
      ...evs[0]!,
      id: `${tag}-terminal-${i}`,
      time: new Date(terminal).toISOString(),
      data: { country: ['DE', 'FR', 'IT', 'ES', 'NL'][i % 5], user: `u${i}`, amount: 1 },
    }));
    const lastSeqs = await publish(s.nc, st.n.prefix, last);
    const offlineOut = offline(
      st.n.consumer,
      QUERIES,
      [...evs, ...late, ...last],
      [...seqs, ...lateSeqs, ...lastSeqs],
    );
    const expected = new Map(
      [...offlineOut].map(([name, o]) => [
        name,
        { ...o, rows: new Map([...o.rows].filter(([id]) => Date.parse(o.times.get(id)!) < terminal)) },
      ]),
    );
    const read = tableRows(tag);
    for (const q of QUERIES) {
      const want = expected.get(q.name)!.rows;
      await waitFor(
        async () => (await read[q.name as keyof typeof read]()).size >= want.size,
        120_000,
        `${q.name} rows`,
      );
    }
    const elapsed = performance.now() - started;
    for (const q of QUERIES) {
      const got = await read[q.name as keyof typeof read]();
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
  }, 300_000);

  it('an owner paused past its lease (SIGSTOP, then SIGCONT) writes nothing; the new owner writes every row', async () => {
    const tag = `f${Math.random().toString(36).slice(2, 7)}`;
    // No idle advance here: a terminal event a day later closes every other window.
    const queries = [{ ...QUERIES[0]!, partitions: 1, idleTimeout: '1h' }];
    const st = await setup(tag, queries, '3s');
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
    const seqs = await publish(s.nc, st.n.prefix, evs.slice(0, 2000));
    // Let a write what the first half closes, so that no write of it is in flight when it stops.
    let last = -1;
    await waitFor(
      async () => {
        const n = (await clickhouseRows(`${tag}_minutes`)).size;
        const stable = n > 0 && n === last;
        last = n;
        return stable;
      },
      60_000,
      'a wrote the first half',
    );
    const writesBefore = await metric(a, 'eventrunner_sink_batch_rows_count');
    a.child.kill('SIGSTOP');
    await waitFor(
      () => b.logs.some((l) => l.msg === 'Restored partition from checkpoint'),
      30_000,
      'b takes over',
    );
    seqs.push(...(await publish(s.nc, st.n.prefix, evs.slice(2000))));
    a.child.kill('SIGCONT');
    await waitFor(
      () => a.logs.some((l) => /Lease taken over|Partition lost/.test(String(l.msg))),
      30_000,
      'a fenced',
    );

    const out = offline(st.n.consumer, queries, evs, seqs).get('per-minute')!;
    const want = new Map([...out.rows].filter(([id]) => Date.parse(out.times.get(id)!) < terminal));
    await waitFor(async () => (await clickhouseRows(`${tag}_minutes`)).size >= want.size, 120_000, 'rows');
    expect(Object.fromEntries(await clickhouseRows(`${tag}_minutes`))).toEqual(Object.fromEntries(want));
    // The paused owner wrote no row after it resumed: its sink saw no batch since.
    expect(await metric(a, 'eventrunner_sink_batch_rows_count')).toBe(writesBefore);
    for (const p of [processor, a, b]) expect((await stopProcess(p)).code).toBe(0);
  }, 300_000);
});
