// What the end-to-end tests of patterns and joins share: a stream per source (orders, payments),
// the shuffle stream and state bucket, processor and query-worker config files with lookup tables,
// results into a ClickHouse table, and the offline engine's rows over the same events (with each
// input's table row where the query joins one).
import { expect } from 'vitest';
import { RetentionPolicy, jetstreamManager } from '@nats-io/jetstream';
import type { CloudEvent } from '../../../runtime/events/index.js';
import { compilePipelineQueries } from '../../../runtime/queries/pipeline.js';
import {
  runOffline,
  sortOutput,
  type CompiledQuery,
  type QueryInput,
} from '../../../runtime/queries/index.js';
import type { StackTargets } from '../processor/stack-targets.js';
import { names, natsSetup, publish, writeConfig, type Names } from '../processor/support.js';
import type { QuerySpec } from './harness.js';

export interface TableSpec {
  name: string;
  key: string;
  cache?: { ttl: string; maxEntries: number };
  /** The Sink spec of the table (scylla or clickhouse) and its credential files. */
  sink: object;
  credentials?: object;
}

export interface JoinSetup {
  tag: string;
  /** Per source name: its stream's names. */
  streams: Map<string, Names>;
  dlqStream: string;
  shuffle: { stream: string; subjectPrefix: string };
  bucket: string;
  processorFile: string;
  workerFile: (id: string) => string;
  /** Publishes to a source's stream; returns the stream sequences. */
  publish: (source: string, evs: CloudEvent[]) => Promise<number[]>;
  /** The ClickHouse table results land in. */
  resultTable: string;
}

export async function joinSetup(
  s: StackTargets,
  tag: string,
  sources: string[],
  queries: QuerySpec[],
  opts: { tables?: TableSpec[]; lease?: string; checkpointEvery?: number; ackWaitMs?: number } = {},
): Promise<JoinSetup> {
  const streams = new Map<string, Names>();
  for (const src of sources) {
    const n = names(`${tag}${src.slice(0, 2)}`);
    const { nc } = await natsSetup(s.targets.nats, n, {
      maxDeliver: 1000,
      maxAckPending: 4000,
      ackWaitMs: opts.ackWaitMs,
    });
    await nc.close();
    streams.set(src, n);
  }
  const first = streams.get(sources[0]!)!;
  const jsm = await jetstreamManager(s.nc);
  const shuffle = { stream: `SH_${first.consumer}`, subjectPrefix: `sh.${first.consumer}` };
  await jsm.streams.add({
    name: shuffle.stream,
    subjects: [`${shuffle.subjectPrefix}.>`],
    retention: RetentionPolicy.Workqueue,
    duplicate_window: 600e9,
  });
  const bucket = `Q_${first.consumer}`;
  const resultTable = `${tag}_results`;
  const outputs = [
    {
      name: 'results',
      sink: {
        clickhouse: {
          url: s.targets.clickhouse.url,
          database: s.database,
          table: resultTable,
          manageSchema: true,
          batch: { maxRows: 5000, maxDelay: '100ms' },
        },
      },
    },
  ];
  const qs = queries.map((q) => ({ ...q, outputs: ['results'], maxStateKeys: 1_000_000 }));
  const tables = opts.tables ?? [];
  const pipeline = { namespace: 'test', name: first.consumer };
  const dead = { stream: first.dlqStream, subject: first.dlqSubject };
  const processorFile = writeConfig({
    pipeline,
    nats: { url: s.targets.nats },
    sources: sources.map((src) => ({
      eventSource: src,
      as: src,
      stream: streams.get(src)!.stream,
      consumer: streams.get(src)!.consumer,
    })),
    outputs,
    // The processor only shuffles: events themselves are stored nowhere.
    defaultOutputs: [],
    queries: qs,
    ...(tables.length
      ? { tables: tables.map((t) => ({ name: t.name, sink: 'reference', key: t.key })) }
      : {}),
    shuffle,
    delivery: { maxDeliver: 1000, backoff: ['200ms'], maxAckPending: 4000 },
    deadLetter: dead,
    processing: { pullBatch: 500 },
    ops: { port: 0, host: '127.0.0.1' },
  });
  const workerFile = (id: string) =>
    writeConfig({
      pipeline,
      workerId: id,
      nats: { url: s.targets.nats },
      sources,
      queries: qs,
      outputs,
      ...(tables.length ? { tables } : {}),
      shuffle,
      state: {
        bucket,
        leaseDuration: opts.lease ?? '3s',
        checkpointInterval: '500ms',
        checkpointEvery: opts.checkpointEvery ?? 5000,
      },
      deadLetter: dead,
      processing: { pullBatch: 1000, tickInterval: '1s' },
      ops: { port: 0, host: '127.0.0.1' },
      shutdownGracePeriod: '10s',
    });
  return {
    tag,
    streams,
    dlqStream: first.dlqStream,
    shuffle,
    bucket,
    processorFile,
    workerFile,
    resultTable,
    publish: (source, evs) => publish(s.nc, streams.get(source)!.prefix, evs),
  };
}

export interface Published {
  source: string;
  event: CloudEvent;
  seq: number;
  /** Lookup rows the event must be joined with, by table. */
  rows?: Record<string, Record<string, unknown> | null>;
}

/** The queries compiled as the processor and the workers compile them. */
export function compiledQueries(
  pipeline: string,
  sources: string[],
  queries: QuerySpec[],
  tables: { name: string; key: string }[] = [],
): CompiledQuery[] {
  const { compiled, problems } = compilePipelineQueries(
    { namespace: 'test', name: pipeline },
    {
      sources: sources.map((src) => ({ eventSource: src, as: src })),
      queries: queries.map((q) => ({ ...q, outputs: ['results'], maxStateKeys: 1_000_000 })),
      outputs: [{ name: 'results' }],
      tables,
    },
  );
  expect(problems).toEqual([]);
  return compiled;
}

/**
 * The offline engine's result rows (id → data) for each query over the inputs in publishing order
 * (each source in the order its stream keeps; how the sources interleave does not matter).
 */
export function offlineRows(
  pipeline: string,
  sources: string[],
  queries: QuerySpec[],
  inputs: Published[],
  tables: { name: string; key: string }[] = [],
): Map<string, Map<string, unknown>> {
  const compiled = compiledQueries(pipeline, sources, queries, tables);
  const all: QueryInput[] = inputs.map((p) => ({
    source: p.source,
    seq: p.seq,
    event: p.event as unknown as Record<string, unknown>,
    ...(p.rows ? { rows: p.rows } : {}),
  }));
  return new Map(
    compiled.map((q) => {
      const mine = all.filter((i) => q.sources.includes(i.source));
      const out = sortOutput(runOffline(q, mine, { partitions: q.partitions }));
      return [q.name, new Map(out.results.map((r) => [r.id, r.data]))] as const;
    }),
  );
}

/** The result rows of one query in the ClickHouse results table: id → data. */
export async function resultRows(
  s: StackTargets,
  table: string,
  type: string,
): Promise<Map<string, unknown>> {
  const rs = await s.ch
    .query({
      query: `SELECT id, data FROM ${s.database}.${table} FINAL WHERE type = '${type}'`,
      format: 'JSONEachRow',
    })
    .catch((err: Error) => {
      // The Sink creates the table with its first write.
      if (/UNKNOWN_TABLE|doesn't exist|does not exist/i.test(err.message)) return undefined;
      throw err;
    });
  if (!rs) return new Map();
  const rows = (await rs.json()) as { id: string; data: string }[];
  return new Map(rows.map((r) => [r.id, JSON.parse(r.data) as unknown]));
}
