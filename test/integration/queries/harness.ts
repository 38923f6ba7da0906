// What the query runtime's end-to-end tests share: the three queries (tumbling into ClickHouse,
// session into Cassandra, sliding into ClickHouse), the events, the streams and config files of a
// processor and its query workers, what the offline engine says the tables must hold, and the
// rows they do hold.
import { expect } from 'vitest';
import { RetentionPolicy, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import type { CloudEvent } from '../../../runtime/events/index.js';
import { compilePipelineQueries } from '../../../runtime/queries/pipeline.js';
import { runOffline, sortOutput, type QueryInput } from '../../../runtime/queries/index.js';
import type { StackTargets } from '../processor/stack-targets.js';
import { names, natsSetup, publish, writeConfig } from '../processor/support.js';

export interface QuerySpec {
  name: string;
  sql: string;
  outputs: string[];
  partitions: number;
  idleTimeout: string;
}

/**
 * Events per run of the runtime and fault tests: EVENTRUNNER_QUERY_EVENTS when set (100,000 for
 * a full-size run), else 20,000, sized for CI time.
 */
export const QUERY_EVENTS = ((): number => {
  const env = process.env.EVENTRUNNER_QUERY_EVENTS;
  if (env === undefined || env === '') return 20_000;
  const n = Number(env);
  if (!Number.isInteger(n) || n < 600)
    throw new Error(
      `EVENTRUNNER_QUERY_EVENTS: expected a whole number of events, at least 600, got "${env}"`,
    );
  return n;
})();

/** `ms` for 20,000 events, grown in proportion for a larger EVENTRUNNER_QUERY_EVENTS. */
export function scaledTimeout(ms: number): number {
  return Math.round(ms * Math.max(1, QUERY_EVENTS / 20_000));
}

/** The three window kinds the runtime is checked with; `grace` is their grace period. */
export function threeQueries(grace = '5 SECONDS'): QuerySpec[] {
  return [
    {
      name: 'per-minute',
      sql: `SELECT data.country AS country, count(*) AS n, sum(data.amount) AS total FROM orders
            WINDOW TUMBLING (SIZE 1 MINUTE, GRACE PERIOD ${grace}) GROUP BY data.country`,
      outputs: ['minutes'],
      partitions: 4,
      idleTimeout: '1h',
    },
    {
      name: 'sessions',
      sql: `SELECT data.user AS user, count(*) AS n, max(data.amount) AS top FROM orders
            WINDOW SESSION (GAP 20 SECONDS, GRACE PERIOD ${grace}) GROUP BY data.user`,
      outputs: ['sessions'],
      partitions: 3,
      idleTimeout: '1h',
    },
    {
      name: 'sliding',
      sql: `SELECT id, data.user AS user, sum(data.amount) AS total FROM orders
            WINDOW SLIDING (SIZE 10 SECONDS, GRACE PERIOD ${grace}) GROUP BY data.user`,
      outputs: ['recent'],
      partitions: 2,
      idleTimeout: '1h',
    },
  ];
}

const RESULT_COLUMNS = [{ name: 'n', type: 'bigint', from: '/data/n' }];
const COUNTRIES = ['DE', 'FR', 'IT', 'ES', 'NL'];

/** n orders 50 ms apart from `base`, over five countries and 97 users. */
export function events(run: string, n: number, base: number): CloudEvent[] {
  return Array.from({ length: n }, (_, i) => ({
    specversion: '1.0',
    id: `${run}-${i}`,
    source: '/shop/web',
    type: 'com.shop.order.created',
    time: new Date(base + i * 50).toISOString(),
    datacontenttype: 'application/json',
    data: { country: COUNTRIES[i % 5], user: `u${(i * 7) % 97}`, amount: (i % 113) + 0.25 },
  }));
}

/**
 * One event per user and country at `time`: watermarks are per partition, so this reaches every
 * partition of every query and closes every window that ends at least a grace period earlier.
 */
export function terminalEvents(run: string, time: number): CloudEvent[] {
  return Array.from({ length: 97 }, (_, i) => ({
    specversion: '1.0',
    id: `${run}-terminal-${i}`,
    source: '/shop/web',
    type: 'com.shop.order.created',
    time: new Date(time).toISOString(),
    datacontenttype: 'application/json',
    data: { country: COUNTRIES[i % 5], user: `u${i}`, amount: 1 },
  }));
}

export interface Setup {
  tag: string;
  n: ReturnType<typeof names>;
  shuffle: { stream: string; subjectPrefix: string };
  bucket: string;
  processorFile: string;
  workerFile: (id: string) => string;
  /** Publishes to the source stream; returns the stream sequences. */
  publish: (evs: CloudEvent[]) => Promise<number[]>;
}

export interface SetupOptions {
  lease?: string;
  /** The processor's source consumer's ack wait: how soon a killed processor's events come again. */
  ackWaitMs?: number;
  checkpointEvery?: number;
  /**
   * The outputs the queries write to, in both configs; default: the ClickHouse tables `minutes`
   * and `recent` and the Cassandra table `sessions` of threeQueries().
   */
  outputs?: object[];
  /** The processor's defaultOutputs for the events themselves; default ['raw']. */
  defaultOutputs?: string[];
}

export async function setup(
  s: StackTargets,
  tag: string,
  queries: QuerySpec[],
  opts: SetupOptions = {},
): Promise<Setup> {
  const n = names(tag);
  await natsSetup(s.targets.nats, n, { maxDeliver: 20, maxAckPending: 2000, ackWaitMs: opts.ackWaitMs });
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
  const outputs = opts.outputs ?? [
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
    outputs: [ch('raw'), ...outputs],
    defaultOutputs: opts.defaultOutputs ?? ['raw'],
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
      outputs,
      shuffle,
      state: {
        bucket,
        leaseDuration: opts.lease ?? '3s',
        checkpointInterval: '500ms',
        checkpointEvery: opts.checkpointEvery ?? 2000,
      },
      deadLetter: { stream: n.dlqStream, subject: n.dlqSubject },
      processing: { pullBatch: 500, tickInterval: '1s' },
      ops: { port: 0, host: '127.0.0.1' },
      shutdownGracePeriod: '10s',
    });
  return {
    tag,
    n,
    shuffle,
    bucket,
    processorFile,
    workerFile,
    publish: (evs) => publish(s.nc, n.prefix, evs),
  };
}

export interface OfflineQuery {
  /** id → data of every result row. */
  rows: Map<string, unknown>;
  times: Map<string, string>;
  late: { source: string; seq: number }[];
}

/** What the offline engine computes for each query over the events with their stream sequences. */
export function offline(
  pipeline: string,
  queries: QuerySpec[],
  evs: CloudEvent[],
  seqs: number[],
): Map<string, OfflineQuery> {
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

/** The offline rows of windows that end before `terminal` (those its terminal events close). */
export function closedBefore(out: OfflineQuery, terminal: number): Map<string, unknown> {
  return new Map([...out.rows].filter(([id]) => Date.parse(out.times.get(id)!) < terminal));
}

export async function clickhouseRows(s: StackTargets, table: string): Promise<Map<string, unknown>> {
  const rs = await s.ch.query({
    query: `SELECT id, data FROM ${s.database}.${table} FINAL`,
    format: 'JSONEachRow',
  });
  const rows = (await rs.json()) as { id: string; data: string }[];
  return new Map(rows.map((r) => [r.id, JSON.parse(r.data) as unknown]));
}

export async function cassandraRows(s: StackTargets, table: string): Promise<Map<string, unknown>> {
  const rs = await s.cql.execute(`SELECT id, data FROM ${s.keyspace}.${table}`, [], { fetchSize: 100000 });
  return new Map(rs.rows.map((r) => [String(r.id), JSON.parse(String(r.data)) as unknown]));
}

/** Each query's result table, read back as id → data. */
export function tableRows(s: StackTargets, tag: string): Record<string, () => Promise<Map<string, unknown>>> {
  return {
    'per-minute': () => clickhouseRows(s, `${tag}_minutes`),
    sliding: () => clickhouseRows(s, `${tag}_recent`),
    sessions: () => cassandraRows(s, `${tag}_sessions`),
  };
}

/** The owner of every partition lease in the state bucket: `<query>.<partition>` → worker id. */
export async function leaseOwners(s: StackTargets, bucket: string): Promise<Map<string, string>> {
  const kv = await new Kvm(s.nc).open(bucket);
  const out = new Map<string, string>();
  for await (const k of await kv.keys('lease.>')) {
    const e = await kv.get(k);
    if (e?.operation === 'PUT') out.set(k.slice('lease.'.length), (e.json() as { owner: string }).owner);
  }
  return out;
}
