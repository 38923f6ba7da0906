// `npm run bench -- queries runtime [--events N] [--keys N] [--partitions N] [--runs N] [--raw-events N]
//   [--spacing-ms MS] [--no-recovery] [--cpu-prof DIR]`:
// the distributed query runtime end to end. Starts its own NATS and ClickHouse and, in one run,
// measures (a) the raw JetStream limits — async publish and pull consume+ack of the same events
// with the client alone — and (b) a Pipeline with one windowed query (a 10-minute tumbling count
// and sum per key over --keys keys) draining --events events: the processor (built CLI) shuffles
// them, one query worker (built CLI) aggregates and writes the result rows into ClickHouse. Then
// (c) recovery: the worker, holding a window open over --keys keys, is SIGKILLed and started again
// under its identity (a container restarted in its pod), and the time from the kill until the
// first result row of the window its restarted self closes, and until the last one, is taken.
// --spacing-ms sets the event time between events (1.2 ms: a million events span two windows; 6 ms:
// ten, so windows close while keys repeat); --cpu-prof writes the processor's and the worker's CPU
// profiles of each drain into DIR. Medians of --runs runs; progress on stderr, one JSON line last
// on stdout.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { RetentionPolicy, jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/nats-core';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { toNatsMessage, type CloudEvent } from '../../runtime/events/index.js';
import { compilePipelineQueries } from '../../runtime/queries/pipeline.js';
import type { CompiledQuery } from '../../runtime/queries/index.js';
import { startClickHouse } from '../../test/stack/clickhouse.js';
import { startNats } from '../../test/stack/nats.js';
import { cpuSeconds, median, rate, rssMb } from '../pipeline/measure.js';
import { rawConsume } from '../pipeline/raw.js';

const repo = join(fileURLToPath(new URL('.', import.meta.url)), '../..');
const log = (m: string) => process.stderr.write(`[bench queries runtime] ${m}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const WINDOW_MS = 600_000;
const BASE = Date.UTC(2026, 0, 1);
const SQL = `SELECT data.k AS k, count(*) AS n, sum(data.v) AS total FROM orders
  WINDOW TUMBLING (SIZE 10 MINUTES, GRACE PERIOD 10 SECONDS) GROUP BY data.k`;

interface Flags {
  events: number;
  keys: number;
  partitions: number;
  runs: number;
  rawEvents: number;
  spacingMs: number;
  recovery: boolean;
  cpuProf?: string;
}

/** Event i: a uniform pseudo-random key, an amount, `spacing` ms after the one before. */
function event(
  run: string,
  i: number,
  keys: number,
  spacing = 1.2,
  time = BASE + Math.floor(i * spacing),
): CloudEvent {
  const r = (Math.imul(i + 1, 2654435761) >>> 0) / 4294967296;
  return {
    specversion: '1.0',
    id: `${run}-${i}`,
    source: '/shop/web',
    type: 'com.shop.order.created',
    time: new Date(time).toISOString(),
    datacontenttype: 'application/json',
    data: { k: `k${Math.floor(r * keys)}`, v: Math.round(r * 1e6) / 100, country: 'DE' },
  };
}

/** Publishes with up to 2,000 in flight, as ingest does (Nats-Msg-Id = event id); events/s. */
async function publishAll(nc: NatsConnection, prefix: string, evs: Iterable<CloudEvent>): Promise<number> {
  const js = jetstream(nc);
  let inflight: Promise<unknown>[] = [];
  let n = 0;
  const start = performance.now();
  for (const e of evs) {
    const m = toNatsMessage(e, prefix);
    const h = natsHeaders();
    for (const [k, v] of Object.entries(m.headers)) h.set(k, v);
    inflight.push(js.publish(m.subject, m.body, { headers: h, msgID: m.msgId, timeout: 60_000 }));
    n++;
    if (inflight.length >= 2000) {
      await Promise.all(inflight);
      inflight = [];
    }
  }
  await Promise.all(inflight);
  return rate(n, performance.now() - start);
}

function* range(run: string, from: number, to: number, keys: number, spacing = 1.2): Generator<CloudEvent> {
  for (let i = from; i < to; i++) yield event(run, i, keys, spacing);
}

/** One event per partition at `time`, keyed so that each partition gets one: it closes their windows. */
function closers(q: CompiledQuery, run: string, time: number, keys: number): CloudEvent[] {
  const out = new Map<number, CloudEvent>();
  for (let k = 0; out.size < q.partitions; k++) {
    const e = { ...event(`${run}-close`, k, keys, 0, time), data: { k: `close${k}`, v: 0 } };
    const key = q.keyOf({ source: 'orders', seq: 0, event: e as unknown as Record<string, unknown> })!;
    const p = q.partitionOf(key, q.partitions);
    if (!out.has(p)) out.set(p, { ...e, id: `${run}-close-${p}` });
  }
  return [...out.values()];
}

/** The result rows the query gives: one per (window, key) with events; their counts sum to the events. */
function expectedRows(run: string, events: number, keys: number, spacing: number): number {
  const seen = new Set<string>();
  for (let i = 0; i < events; i++) {
    const e = event(run, i, keys, spacing);
    seen.add(`${Math.floor(Date.parse(e.time!) / WINDOW_MS)}|${(e.data as { k: string }).k}`);
  }
  return seen.size;
}

interface Child {
  proc: ChildProcess;
  out: string;
  exited: Promise<number | null>;
}

function startCli(command: string, file: string, profile?: { dir: string; name: string }): Child {
  const prof = profile
    ? ['--cpu-prof', '--cpu-prof-dir', profile.dir, '--cpu-prof-name', `${profile.name}.cpuprofile`]
    : [];
  const proc = spawn(
    process.execPath,
    [...prof, join(repo, 'bin/eventrunner.js'), command, '--config', file],
    {
      cwd: repo,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const c: Child = {
    proc,
    out: '',
    exited: new Promise((resolve) => proc.once('exit', (code) => resolve(code))),
  };
  proc.stdout!.on('data', (d: Buffer) => {
    c.out += d.toString();
    if (c.out.length > 2_000_000) c.out = c.out.slice(-1_000_000);
  });
  void c.exited.then((code) => {
    if (code) log(`${command} exited with ${code}: ${c.out.slice(-2000)}`);
  });
  return c;
}

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 600_000, every = 50) {
  const deadline = performance.now() + ms;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(every);
  }
}

const count = async (ch: ClickHouseClient, table: string, final = false) => {
  const rs = await ch.query({
    query: `SELECT count() AS c, sum(n) AS s FROM ${table}${final ? ' FINAL' : ''}`,
    format: 'JSONEachRow',
  });
  const [row] = await rs.json<{ c: string; s: string | null }>();
  return { rows: Number(row!.c), events: Number(row!.s ?? 0) };
};

interface Env {
  nc: NatsConnection;
  jsm: JetStreamManager;
  ch: ClickHouseClient;
  natsUrl: string;
  chUrl: string;
  dir: string;
  f: Flags;
}

/** Streams, bucket, table and config files of one Pipeline named `run`. */
async function pipeline(env: Env, run: string) {
  const { jsm, f } = env;
  await jsm.streams.add({ name: `EV_${run}`, subjects: [`ev.${run}.>`], max_bytes: 4 * 1024 ** 3 });
  await jsm.streams.add({ name: `DLQ_${run}`, subjects: [`dlq.${run}`] });
  const shuffle = { stream: `SH_${run}`, subjectPrefix: `sh.${run}` };
  await jsm.streams.add({
    name: shuffle.stream,
    subjects: [`${shuffle.subjectPrefix}.>`],
    retention: RetentionPolicy.Workqueue,
    duplicate_window: 120e9,
  });
  await jsm.consumers.add(`EV_${run}`, {
    durable_name: 'processor',
    ack_policy: 'explicit',
    max_ack_pending: 10_000,
  });
  const queries = [
    {
      name: 'per-key',
      sql: SQL,
      outputs: ['results'],
      partitions: f.partitions,
      idleTimeout: '1h',
      maxStateKeys: 10_000_000,
    },
  ];
  const table = (name: string) => ({
    clickhouse: {
      url: env.chUrl,
      database: 'bench',
      table: name,
      manageSchema: true,
      batch: { maxRows: 10_000, maxDelay: '200ms' },
    },
    columns: [{ name: 'n', type: 'bigint', from: '/data/n' }],
  });
  // The events themselves go to a table of their own: the processor shuffles only events it routes.
  const store = { name: 'store', sink: table(`e_${run}`) };
  const outputs = [
    {
      name: 'results',
      sink: table(`r_${run}`),
    },
  ];
  const pl = { namespace: 'bench', name: run };
  const deadLetter = { stream: `DLQ_${run}`, subject: `dlq.${run}` };
  const ops = { port: 0, host: '127.0.0.1' };
  const processorFile = join(env.dir, `${run}-processor.json`);
  writeFileSync(
    processorFile,
    JSON.stringify({
      pipeline: pl,
      nats: { url: env.natsUrl },
      sources: [{ eventSource: 'shop', as: 'orders', stream: `EV_${run}`, consumer: 'processor' }],
      outputs: [store, ...outputs],
      defaultOutputs: ['store'],
      queries,
      shuffle,
      delivery: { maxDeliver: 5, backoff: ['1s'], maxAckPending: 10_000 },
      processing: { pullBatch: 1000 },
      deadLetter,
      ops,
    }),
  );
  const workerFile = join(env.dir, `${run}-worker.json`);
  writeFileSync(
    workerFile,
    JSON.stringify({
      pipeline: pl,
      workerId: `${run}-w`,
      nats: { url: env.natsUrl },
      sources: ['orders'],
      queries,
      outputs,
      shuffle,
      state: { bucket: `Q_${run}`, leaseDuration: '10s' },
      deadLetter,
      processing: { pullBatch: 1000 },
      ops,
    }),
  );
  const { compiled } = compilePipelineQueries(pl, {
    sources: [{ eventSource: 'shop', as: 'orders' }],
    queries,
    outputs: [{ name: 'results' }],
  });
  return { processorFile, workerFile, query: compiled[0]!, table: `bench.r_${run}`, prefix: `ev.${run}` };
}

const partitionsUp = (w: Child, n: number) =>
  (w.out.match(/"msg":"(Started partition|Restored partition from checkpoint)"/g) ?? []).length >= n;

/** The drain: every event into the stream first, then processor and worker until every row is in ClickHouse. */
async function drain(env: Env, run: string) {
  const { f, ch } = env;
  const p = await pipeline(env, run);
  // Ten windows after the last event: every window with events closes.
  const closing = closers(p.query, run, BASE + f.events * f.spacingMs + 10 * WINDOW_MS, f.keys);
  await publishAll(env.nc, p.prefix, [...range(run, 0, f.events, f.keys, f.spacingMs), ...closing]);
  const want = expectedRows(run, f.events, f.keys, f.spacingMs);
  const prof = (name: string) => (f.cpuProf ? { dir: f.cpuProf, name: `${name}-${run}` } : undefined);
  const worker = startCli('query-worker', p.workerFile, prof('worker'));
  await until('worker owns every partition', () => partitionsUp(worker, f.partitions), 60_000);
  const processor = startCli('process', p.processorFile, prof('processor'));
  await until('processor running', () => processor.out.includes('"msg":"Processing events"'), 60_000, 5);
  const t0 = performance.now();
  const load0 = loadavg()[0]!;
  const cpu0 = { processor: cpuSeconds(processor.proc.pid!), worker: cpuSeconds(worker.proc.pid!) };
  const rss: { at: number; mb: number }[] = [];
  let last = 0;
  await until(
    `${want} result rows`,
    async () => {
      rss.push({ at: performance.now() - t0, mb: rssMb(worker.proc.pid!) });
      const c = (await count(ch, p.table).catch(() => ({ rows: 0, events: 0 }))).rows;
      if (c - last >= 50_000 || (c >= want && c !== last)) log(`${run}: ${c}/${want} rows`);
      last = c;
      // A write retried after a timeout can land a row twice (the table replaces it by id later):
      // done when the distinct rows are all there.
      return c >= want && (await count(ch, p.table, true)).rows >= want;
    },
    1_800_000,
    250,
  );
  const ms = performance.now() - t0;
  const cpu = {
    processor: cpuSeconds(processor.proc.pid!) - cpu0.processor,
    worker: cpuSeconds(worker.proc.pid!) - cpu0.worker,
  };
  const got = await count(ch, p.table, true);
  // RSS over the drain: the worker's, sampled every quarter second, at each quarter of the time.
  const at = (q: number) => Math.round(rss[Math.min(rss.length - 1, Math.floor(q * rss.length))]!.mb);
  const result = {
    eventsPerSecond: rate(f.events, ms),
    seconds: Math.round(ms / 100) / 10,
    cpuMsPer1000: {
      processor: Math.round((cpu.processor * 1e7) / f.events) / 10,
      worker: Math.round((cpu.worker * 1e7) / f.events) / 10,
    },
    workerRssMb: {
      start: at(0.1),
      q1: at(0.25),
      q2: at(0.5),
      q3: at(0.75),
      end: at(1),
      max: Math.round(Math.max(...rss.map((r) => r.mb))),
      // At each tenth of the drain: flat once the state has its keys, if nothing piles up.
      tenths: Array.from({ length: 10 }, (_, i) => at((i + 1) / 10)),
    },
    // One-minute load average of the machine when the drain started and ended.
    loadAverage: [load0, loadavg()[0]!].map((l) => Math.round(l * 10) / 10),
    rows: got.rows,
    rowsExpected: want,
    // Every event counted once in the rows (the closing events' windows stay open).
    eventsCounted: got.events,
  };
  processor.proc.kill('SIGTERM');
  worker.proc.kill('SIGTERM');
  await Promise.all([processor.exited, worker.exited]);
  return result;
}

/** Recovery: SIGKILL the worker holding one open window over the keys, start it again, time the results. */
async function recovery(env: Env, run: string) {
  const { f, ch } = env;
  const p = await pipeline(env, run);
  // Every key once, all in one window that stays open.
  const keyed = Array.from({ length: f.keys }, (_, i) => ({
    ...event(run, i, f.keys, 0, BASE + i),
    data: { k: `k${i}`, v: 1 },
  }));
  let worker = startCli('query-worker', p.workerFile);
  await until('worker owns every partition', () => partitionsUp(worker, f.partitions), 60_000);
  const processor = startCli('process', p.processorFile);
  await publishAll(env.nc, p.prefix, keyed);
  // Checkpointed and acked: the shuffle stream is empty.
  await until(
    'state checkpointed',
    async () => (await env.jsm.streams.info(`SH_${run}`)).state.messages === 0,
    600_000,
    100,
  );
  const rssBefore = rssMb(worker.proc.pid!);
  worker.proc.kill('SIGKILL');
  const killed = performance.now();
  await worker.exited;
  await publishAll(env.nc, p.prefix, closers(p.query, run, BASE + 2 * WINDOW_MS, f.keys));
  worker = startCli('query-worker', p.workerFile);
  await until(
    'first row',
    async () => (await count(ch, p.table).catch(() => ({ rows: 0 }))).rows > 0,
    120_000,
    20,
  );
  const firstRowMs = performance.now() - killed;
  await until('every row', async () => (await count(ch, p.table)).rows >= f.keys, 120_000, 50);
  const allRowsMs = performance.now() - killed;
  const got = await count(ch, p.table, true);
  processor.proc.kill('SIGTERM');
  worker.proc.kill('SIGTERM');
  await Promise.all([processor.exited, worker.exited]);
  return {
    firstRowMs: Math.round(firstRowMs),
    allRowsMs: Math.round(allRowsMs),
    rows: got.rows,
    workerRssMbBefore: Math.round(rssBefore),
  };
}

export async function runtimeBench(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      events: { type: 'string', default: '1000000' },
      keys: { type: 'string', default: '100000' },
      partitions: { type: 'string', default: '4' },
      runs: { type: 'string', default: '3' },
      'raw-events': { type: 'string' },
      'spacing-ms': { type: 'string', default: '1.2' },
      'no-recovery': { type: 'boolean', default: false },
      'cpu-prof': { type: 'string' },
    },
  });
  const events = Number(values.events);
  const f: Flags = {
    events,
    keys: Number(values.keys),
    partitions: Number(values.partitions),
    runs: Number(values.runs),
    rawEvents: Number(values['raw-events'] ?? Math.min(events, 200_000)),
    spacingMs: Number(values['spacing-ms']),
    recovery: !values['no-recovery'],
    ...(values['cpu-prof'] ? { cpuProf: values['cpu-prof'] } : {}),
  };
  for (const [flag, v] of Object.entries({ events, keys: f.keys, partitions: f.partitions, runs: f.runs }))
    if (!Number.isInteger(v) || v < 1)
      throw new Error(`--${flag}: must be a whole number ≥ 1, got ${String(v)}`);
  if (!(f.spacingMs > 0)) throw new Error(`--spacing-ms: must be a number of milliseconds > 0`);
  log(`options ${JSON.stringify(f)}`);
  const nats = await startNats('bench-nats');
  const chs = await startClickHouse('bench-clickhouse');
  const dir = mkdtempSync(join(tmpdir(), 'bench-queries-runtime-'));
  const nc = await connect({ servers: nats.url });
  const ch = createClient({ url: chs.url });
  try {
    await ch.command({ query: 'CREATE DATABASE IF NOT EXISTS bench' });
    const env: Env = { nc, jsm: await jetstreamManager(nc), ch, natsUrl: nats.url, chUrl: chs.url, dir, f };
    const raw = { publish: [] as number[], consume: [] as number[] };
    const drains = [];
    const recoveries = [];
    for (let r = 0; r < f.runs; r++) {
      const stream = `RAW${r}`;
      await env.jsm.streams.add({ name: stream, subjects: [`raw${r}.>`], max_bytes: 4 * 1024 ** 3 });
      raw.publish.push(await publishAll(nc, `raw${r}`, range(`raw${r}`, 0, f.rawEvents, f.keys)));
      raw.consume.push(await rawConsume(nc, stream, f.rawEvents, 'raw'));
      await env.jsm.streams.delete(stream);
      log(
        `raw run ${r + 1}: publish ${raw.publish.at(-1)}/s, consume+ack ${Math.round(raw.consume.at(-1)!)}/s`,
      );
      const d = await drain(env, `d${r}`);
      log(`drain run ${r + 1}: ${JSON.stringify(d)}`);
      drains.push(d);
      if (!f.recovery) continue;
      const rec = await recovery(env, `k${r}`);
      log(`recovery run ${r + 1}: ${JSON.stringify(rec)}`);
      recoveries.push(rec);
    }
    const limit = Math.min(median(raw.publish), median(raw.consume));
    const eventsPerSecond = median(drains.map((d) => d.eventsPerSecond));
    const summary = {
      bench: 'queries-runtime',
      events: f.events,
      keys: f.keys,
      partitions: f.partitions,
      runs: f.runs,
      rawLimits: { publish: Math.round(median(raw.publish)), consume: Math.round(median(raw.consume)) },
      eventsPerSecond,
      ratioToSlowerRawLimit: Math.round((eventsPerSecond / limit) * 100) / 100,
      cpuMsPer1000: {
        processor: median(drains.map((d) => d.cpuMsPer1000.processor)),
        worker: median(drains.map((d) => d.cpuMsPer1000.worker)),
      },
      workerRssMb: drains.map((d) => d.workerRssMb),
      rowsAgree: drains.every((d) => d.rows === d.rowsExpected && d.eventsCounted === f.events),
      recovery: recoveries.length
        ? {
            firstRowMs: median(recoveries.map((r) => r.firstRowMs)),
            allRowsMs: median(recoveries.map((r) => r.allRowsMs)),
            rowsAgree: recoveries.every((r) => r.rows === f.keys),
          }
        : null,
      drains,
      recoveries,
    };
    process.stdout.write(`${JSON.stringify(summary)}\n`);
  } finally {
    await nc.close().catch(() => undefined);
    await ch.close().catch(() => undefined);
    await chs.stop().catch(() => undefined);
    await nats.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}
