// `npm run bench -- pipeline [--events N] [--raw-events N] [--repeat N] [--rate R] [--latency-seconds S]`
// (`--tracing`: the cost of tracing instead, see tracing.ts)
// Starts its own NATS, Cassandra and ClickHouse, pre-fills a stream with N realistic CloudEvents
// (default 1,000,000) and measures in one run: (a) the raw limits — consume+ack from JetStream,
// the Cassandra driver's prepared upserts and ClickHouse JSONEachRow inserts into the same tables
// (each the median of --repeat runs over --raw-events events) — and (b) `eventrunner process`
// draining the same stream through rules into both sinks; then end-to-end latency at a fixed
// offered rate. Progress on stderr; one JSON line on stdout.
import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import cassandra from 'cassandra-driver';
import { createClient } from '@clickhouse/client';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { startNats } from '../../test/stack/nats.js';
import { startCassandra, cassandraCredentials } from '../../test/stack/cassandra.js';
import { startClickHouse } from '../../test/stack/clickhouse.js';
import { toNatsMessage } from '../../runtime/events/index.js';
import { ensureSchema, type SinkSpec } from '../../runtime/sinks/index.js';
import { BENCH_COLUMNS, BENCH_RULES, shopEvent } from './events.js';
import { measureLatency } from './latency.js';
import {
  coreBusy,
  coreTicks,
  cpuDelta,
  cpuSeconds,
  gcMs,
  handleQuantiles,
  histogramBuckets,
  histogramDelta,
  histogramQuantile,
  log,
  median,
  percentile,
  perThousand,
  rate,
  rssMb,
  sharedCoreCeiling,
} from './measure.js';
import { rawCassandra, rawClickHouse, rawConsume } from './raw.js';

const repo = join(fileURLToPath(new URL('.', import.meta.url)), '../..');

/**
 * Rows of a large table: one count(*) over a million rows outlasts the server's read timeout on
 * this machine, so count token ranges, a few at a time.
 */
async function countCassandra(cql: cassandra.Client, table: string): Promise<number> {
  const ranges = 256;
  const step = 2n ** 64n / BigInt(ranges);
  const bounds = Array.from({ length: ranges + 1 }, (_, i) => -(2n ** 63n) + step * BigInt(i));
  let next = 0;
  let total = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next < ranges) {
        const i = next++;
        const lo = cassandra.types.Long.fromString(bounds[i]!.toString());
        const hi = cassandra.types.Long.fromString(
          (i === ranges - 1 ? 2n ** 63n - 1n : bounds[i + 1]!).toString(),
        );
        const op = i === 0 ? '>=' : '>';
        const rs = await cql.execute(
          `SELECT count(*) FROM ${table} WHERE token(id) ${op} ? AND token(id) <= ?`,
          [lo, hi],
          {
            prepare: true,
            readTimeout: 60_000,
          },
        );
        total += Number(rs.first().get(0));
      }
    }),
  );
  return total;
}

/**
 * Empties the table and waits until Cassandra has no compaction running and no flush or
 * compaction queued (its virtual tables), so that each measured phase starts from the same state
 * instead of paying for the flushes and compactions of the phase before it.
 */
async function resetCassandra(cql: cassandra.Client, table: string): Promise<void> {
  await cql.execute(`TRUNCATE ${table}`, [], { readTimeout: 120_000 });
  const deadline = performance.now() + 300_000;
  for (;;) {
    const tasks = (await cql.execute('SELECT kind FROM system_views.sstable_tasks')).rowLength;
    const pools = await cql.execute(
      'SELECT name, active_tasks, pending_tasks FROM system_views.thread_pools',
    );
    const busy = pools.rows.filter(
      (r) =>
        /Compaction|Flush/.test(String(r.get('name'))) &&
        Number(r.get('active_tasks')) + Number(r.get('pending_tasks')) > 0,
    );
    if (tasks === 0 && busy.length === 0) return;
    if (performance.now() > deadline)
      throw new Error(`cassandra still compacting or flushing after 5 minutes (${tasks} sstable tasks)`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Pins every thread of a process to the given cores (taskset's list syntax). */
function pin(pid: number, cpus: string): void {
  execFileSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' });
}

/** The processor's per-event handling time (message taken → writes queued), a histogram on /metrics. */
const HANDLE_HISTOGRAM = 'eventrunner_processor_handle_duration_seconds';
/** Time to write one batch to a sink (write issued → acknowledged), per output. */
const BATCH_HISTOGRAM = 'eventrunner_sink_batch_duration_seconds';
/** How often the latency phase asks each sink for the followed rows it has not shown. */
const CASSANDRA_POLL_MS = 10;
const CLICKHOUSE_POLL_MS = 50;
/** The Cassandra output's batch delay. */
const CASSANDRA_BATCH_DELAY_MS = 20;

function flags(args: string[]) {
  const get = (name: string, def: number) => {
    const i = args.indexOf(`--${name}`);
    if (i < 0) return def;
    const v = Number(args[i + 1]);
    if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} needs a positive number`);
    return v;
  };
  const events = get('events', 1_000_000);
  return {
    events,
    rawEvents: get('raw-events', Math.min(events, 200_000)),
    repeat: get('repeat', 3),
    rate: get('rate', 5000),
    latencySeconds: get('latency-seconds', 20),
    cassandraConcurrency: get('cassandra-concurrency', 256),
    clickhouseRows: get('clickhouse-rows', 10000),
    clickhouseDelayMs: get('clickhouse-delay-ms', 1000),
    maxAckPending: get('max-ack-pending', 10000),
    warmupRounds: get('warmup-rounds', 12),
    semiSpaceMb: args.includes('--semi-space-mb') ? get('semi-space-mb', 16) : undefined,
    // By default Cassandra gets a core of its own and everything else shares the other, as a
    // database runs on its own nodes; --shared-cpu lets every process use both cores.
    isolateCassandra: !args.includes('--shared-cpu'),
  };
}

export async function main(args: string[]): Promise<void> {
  // --tracing: what tracing costs the processor, off and on (tracing.ts).
  if (args.includes('--tracing')) return (await import('./tracing.js')).tracingMain(args);
  const f = flags(args);
  log(`options ${JSON.stringify(f)}`);
  const [nats, cas, chs] = [
    await startNats('bench-nats'),
    await startCassandra('bench-cassandra'),
    await startClickHouse('bench-clickhouse'),
  ];
  log(
    `servers up: nats ${nats.url}, cassandra ${cas.contactPoint} ${cas.version}, clickhouse ${chs.url} ${chs.version}`,
  );
  const cores = (await import('node:os')).availableParallelism();
  if (f.isolateCassandra) {
    if (cores < 2) throw new Error('--shared-cpu is needed on a single core');
    // Every thread of each process: Cassandra on the last core, the rest (this process and its
    // driver clients, NATS, ClickHouse, and later the processor) on the others.
    const others = `0-${cores - 2}`;
    pin(cas.process.pid!, String(cores - 1));
    for (const pid of [nats.process.pid!, chs.process.pid!, process.pid]) pin(pid, others);
    log(`cassandra pinned to core ${cores - 1}; everything else to ${others}`);
  }
  const nc = await connect({ servers: nats.url });
  const cql = new cassandra.Client({
    contactPoints: [cas.contactPoint],
    localDataCenter: cas.localDataCenter,
    credentials: cassandraCredentials,
    pooling: { coreConnectionsPerHost: { 0: 2 } },
  });
  const ch = createClient({ url: chs.url, max_open_connections: 4 });
  let child: ReturnType<typeof spawn> | undefined;
  try {
    await cql.connect();
    const scylla: SinkSpec = {
      scylla: {
        contactPoints: [cas.contactPoint],
        localDataCenter: cas.localDataCenter,
        keyspace: 'bench',
        table: 'events',
        consistency: 'LOCAL_ONE',
        replicationFactor: 1,
        manageSchema: true,
        batch: { maxRows: 500, maxDelay: `${CASSANDRA_BATCH_DELAY_MS}ms` },
      },
      columns: BENCH_COLUMNS,
    };
    const clickhouse: SinkSpec = {
      clickhouse: {
        url: chs.url,
        database: 'bench',
        table: 'events',
        manageSchema: true,
        batch: { maxRows: f.clickhouseRows, maxDelay: `${f.clickhouseDelayMs}ms` },
      },
      columns: BENCH_COLUMNS,
    };
    await ensureSchema(scylla, cassandraCredentials);
    await ensureSchema(clickhouse);

    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'BENCH', subjects: ['bench.>'], max_bytes: 4 * 1024 ** 3 });
    const run = randomUUID().slice(0, 8);
    const fillStart = performance.now();
    const js = jetstream(nc);
    let inflight: Promise<unknown>[] = [];
    for (let i = 0; i < f.events; i++) {
      const m = toNatsMessage(shopEvent(run, i), 'bench');
      const h = natsHeaders();
      for (const [k, v] of Object.entries(m.headers)) h.set(k, v);
      // A loaded machine may take more than the default 5 s to confirm a publish.
      inflight.push(js.publish(m.subject, m.body, { headers: h, msgID: m.msgId, timeout: 30_000 }));
      if (inflight.length >= 4000) {
        await Promise.all(inflight);
        inflight = [];
      }
      if (i > 0 && i % 200_000 === 0) log(`pre-filled ${i}`);
    }
    await Promise.all(inflight);
    const bytes = (await jsm.streams.info('BENCH')).state.bytes;
    log(
      `pre-filled ${f.events} events (${Math.round(bytes / f.events)} bytes each) in ${((performance.now() - fillStart) / 1000).toFixed(1)}s`,
    );

    /** Events/s of `events` raw upserts into the bench table (rawCassandra). */
    const cassandraRate = (events: number, label: string, started?: () => void) =>
      rawCassandra(
        cql,
        { keyspace: 'bench', table: 'events' },
        BENCH_COLUMNS,
        events,
        f.cassandraConcurrency,
        `${label}-${run}`,
        started,
      );
    // Warm the servers (JIT, caches, connection pools) so the first measured run is not the cold one.
    // Cassandra's JIT keeps speeding writes up for several hundred thousand of them: warm it in
    // rounds of 100,000 writes (each on an emptied, quiet table) until two rounds in a row are no
    // more than 5% faster than the best before them (at most --warmup-rounds, default 12), so the raw limit is a
    // warm server's.
    const warm = Math.min(f.rawEvents, 20_000);
    await rawConsume(nc, 'BENCH', warm, 'warmup');
    let warmCassandraRows = 0;
    let bestWarm = 0;
    let flat = 0;
    for (let round = 0; round < f.warmupRounds && flat < 2; round++) {
      await resetCassandra(cql, 'bench.events');
      const n = 100_000;
      const r = await cassandraRate(n, `warm${round}`);
      warmCassandraRows += n;
      log(`cassandra warm-up round ${round + 1}: ${Math.round(r)}/s`);
      flat = r > bestWarm * 1.05 ? 0 : flat + 1;
      bestWarm = Math.max(bestWarm, r);
    }
    await rawClickHouse(ch, 'bench.events', BENCH_COLUMNS, warm, 20000, `warm-${run}`);
    log(`warmed up (cassandra with ${warmCassandraRows} writes)`);

    // (a) raw limits
    // CPU of every process on the machine, to show where each run's cycles go (2 cores shared).
    const cpuNow = (processor?: number): Record<string, number> => ({
      nats: cpuSeconds(nats.process.pid!),
      cassandra: cpuSeconds(cas.process.pid!),
      clickhouse: cpuSeconds(chs.process.pid!),
      bench: ((u) => (u.user + u.system) / 1e6)(process.cpuUsage()),
      ...(processor ? { processor: cpuSeconds(processor) } : {}),
    });
    const raw = { nats: [] as number[], cassandra: [] as number[], clickhouse: [] as number[] };
    const rawCassandraCpuSum: Record<string, number> = {};
    /** One raw Cassandra run: its rate, and every process's CPU added to the sum. */
    const timedCassandraRun = async (label: string) => {
      await resetCassandra(cql, 'bench.events');
      // From the first timed write on: building the rows beforehand is not the driver's work.
      let c0 = cpuNow();
      raw.cassandra.push(await cassandraRate(f.rawEvents, label, () => (c0 = cpuNow())));
      for (const [k, v] of Object.entries(cpuDelta(c0, cpuNow())))
        rawCassandraCpuSum[k] = (rawCassandraCpuSum[k] ?? 0) + v;
    };
    for (let r = 0; r < f.repeat; r++) {
      raw.nats.push(await rawConsume(nc, 'BENCH', f.rawEvents, `raw${r}`));
      await timedCassandraRun(`raw${r}`);
      raw.clickhouse.push(
        await rawClickHouse(ch, 'bench.events', BENCH_COLUMNS, f.rawEvents, 20000, `raw${r}-${run}`),
      );
      log(
        `raw run ${r + 1}: nats ${Math.round(raw.nats[r]!)}/s, cassandra ${Math.round(raw.cassandra[r]!)}/s, clickhouse ${Math.round(raw.clickhouse[r]!)}/s`,
      );
    }

    // (b) eventrunner process draining the stream through rules into both sinks
    await resetCassandra(cql, 'bench.events');
    await jsm.consumers.add('BENCH', {
      durable_name: 'eventrunner',
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      max_ack_pending: f.maxAckPending,
      max_deliver: 5,
      ack_wait: 60e9,
    });
    const dir = mkdtempSync(join(tmpdir(), 'bench-pipeline-'));
    writeFileSync(join(dir, 'user'), cassandraCredentials.username);
    writeFileSync(join(dir, 'pass'), cassandraCredentials.password);
    await jsm.streams.add({ name: 'BENCH_DLQ', subjects: ['bench-dlq'] });
    const config = {
      pipeline: { namespace: 'bench', name: 'pipeline' },
      nats: { url: nats.url },
      sources: [{ eventSource: 'shop', stream: 'BENCH', consumer: 'eventrunner' }],
      rules: { source: BENCH_RULES },
      outputs: [
        {
          name: 'store',
          sink: scylla,
          credentials: { usernameFile: join(dir, 'user'), passwordFile: join(dir, 'pass') },
          writeConcurrency: f.cassandraConcurrency,
        },
        { name: 'analytics', sink: clickhouse, maxConcurrentBatches: 2 },
      ],
      delivery: { maxDeliver: 5, backoff: ['1s'], maxAckPending: f.maxAckPending },
      deadLetter: { stream: 'BENCH_DLQ', subject: 'bench-dlq' },
      processing: { pullBatch: 1000, lagInterval: '1s' },
      ops: { port: 0, host: '127.0.0.1' },
      logLevel: 'info',
    };
    writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
    child = spawn(
      process.execPath,
      [
        // EVENTRUNNER_BENCH_PROFILE=<dir>: write a V8 CPU profile of the processor there.
        ...(process.env.EVENTRUNNER_BENCH_PROFILE
          ? ['--cpu-prof', '--cpu-prof-dir', process.env.EVENTRUNNER_BENCH_PROFILE]
          : []),
        ...(f.semiSpaceMb ? [`--max-semi-space-size=${f.semiSpaceMb}`] : []),
        // EVENTRUNNER_BENCH_NODE_ARGS: more Node/V8 flags for the processor (space-separated).
        ...(process.env.EVENTRUNNER_BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
        // Its garbage-collection pauses, summed below (stdout carries them next to its logs).
        '--trace-gc',
        // The built CLI, as the processor pods run it (`npm run bench` builds first).
        join(repo, 'bin/eventrunner.js'),
        'process',
        '--config',
        join(dir, 'config.json'),
      ],
      { cwd: repo, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const pid = child.pid!;
    if (f.isolateCassandra) pin(pid, `0-${cores - 2}`);
    let processingAt: number | undefined;
    let out = '';
    let opsPort: number | undefined;
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      opsPort ??= Number(/"port":(\d+)[^\n]*"msg":"Serving operations endpoint"/.exec(out)?.[1]) || undefined;
      if (processingAt === undefined && out.includes('"msg":"Processing events"'))
        processingAt = performance.now();
    });
    let cpu0 = 0;
    let all0 = cpuNow(pid);
    let cores0 = coreTicks();
    while (processingAt === undefined) {
      if (child.exitCode !== null) throw new Error(`processor exited: ${out}`);
      cpu0 = cpuSeconds(pid);
      all0 = cpuNow(pid);
      cores0 = coreTicks();
      await new Promise((r) => setTimeout(r, 5));
    }
    const rss: number[] = [];
    let info = await jsm.consumers.info('BENCH', 'eventrunner');
    let lastLog = performance.now();
    while (info.num_pending > 0 || info.num_ack_pending > 0) {
      await new Promise((r) => setTimeout(r, 250));
      rss.push(rssMb(pid));
      info = await jsm.consumers.info('BENCH', 'eventrunner');
      if (performance.now() - lastLog > 10_000) {
        lastLog = performance.now();
        log(
          `eventrunner: ${f.events - info.num_pending - info.num_ack_pending} done, rss ${rss.at(-1)!.toFixed(0)} MB`,
        );
      }
    }
    const drainMs = performance.now() - processingAt;
    const drainCoreBusy = coreBusy(cores0, coreTicks());
    const cpu = cpuSeconds(pid) - cpu0;
    const gc = gcMs(out.slice(out.indexOf('"msg":"Processing events"')));
    writeFileSync(join(dir, 'processor.log'), out);
    log(`processor output (logs, --trace-gc): ${join(dir, 'processor.log')}`);
    const drainCpu = perThousand(cpuDelta(all0, cpuNow(pid)), f.events);
    const eventsPerSec = rate(f.events, drainMs);
    log(
      `eventrunner drained ${f.events} events in ${(drainMs / 1000).toFixed(1)}s: ${eventsPerSec}/s, ${cpu.toFixed(1)} CPU s`,
    );
    const rowsCassandra = await countCassandra(cql, 'bench.events');
    const [chCount] = await (
      await ch.query({
        query: `SELECT count() AS c FROM bench.events FINAL WHERE id LIKE '${run}-%'`,
        format: 'JSONEachRow',
      })
    ).json<{ c: string }>();
    const dlq = (await jsm.streams.info('BENCH_DLQ')).state.messages;
    // The processor's own handling time, from its /metrics: over the drain, then over the latency phase.
    if (!opsPort) throw new Error('the processor did not log its operations port');
    const scrape = async () => {
      const text = await (await fetch(`http://127.0.0.1:${opsPort}/metrics`)).text();
      return {
        handle: histogramBuckets(text, HANDLE_HISTOGRAM),
        // Write issued → acknowledged, per batch, from the processor's side (its sink histograms).
        cassandraBatch: histogramBuckets(text, BATCH_HISTOGRAM, 'output="store",result="ok"'),
        clickhouseBatch: histogramBuckets(text, BATCH_HISTOGRAM, 'output="analytics",result="ok"'),
      };
    };
    const afterDrain = await scrape();
    const handleAfterDrain = afterDrain.handle;

    // Latency at a fixed offered rate, the processor still running.
    log(`latency: ${f.rate}/s for ${f.latencySeconds}s`);
    const lat = await measureLatency(nc, cql, ch, {
      rate: f.rate,
      seconds: f.latencySeconds,
      sampleEvery: 25,
      cassandraPollMs: CASSANDRA_POLL_MS,
      clickhousePollMs: CLICKHOUSE_POLL_MS,
      prefix: 'bench',
      stream: 'BENCH',
      run: `lat-${run}`,
      cassandraTable: 'bench.events',
      clickhouseTable: 'bench.events',
    });
    const afterLatency = await scrape();
    const handleLatency = histogramDelta(afterLatency.handle, handleAfterDrain);
    const batchMs = (later: Map<number, number>, earlier: Map<number, number>) => {
      const d = histogramDelta(later, earlier);
      const q = (p: number) => histogramQuantile(d, p);
      const ms = (v: { value: number; le: number } | null) =>
        v && Number.isFinite(v.value) ? { ms: Math.round(v.value * 1e4) / 10, bucketMs: v.le * 1000 } : null;
      return { batches: q(0.5)?.count ?? 0, p50: ms(q(0.5)), p99: ms(q(0.99)) };
    };
    const ms = (xs: number[]) =>
      xs.length ? { p50: percentile(xs, 50), p99: percentile(xs, 99), samples: xs.length } : null;
    // Cassandra gets slower per write as its table grows (flushes, compaction) and faster as its JIT
    // warms; the eventrunner run comes after the raw runs, so measure the raw limit again after it
    // (the processor idle) and take the median of all runs.
    const cassandraBefore = [...raw.cassandra];
    for (let r = 0; r < f.repeat; r++) {
      await timedCassandraRun(`post${r}`);
      log(`raw cassandra after the drain, run ${r + 1}: ${Math.round(raw.cassandra.at(-1)!)}/s`);
    }
    // Per 1,000 writes over every raw Cassandra run, before and after the drain.
    const rawCassandraCpu = perThousand(rawCassandraCpuSum, raw.cassandra.length * f.rawEvents);
    const rawLimits = {
      nats: Math.round(median(raw.nats)),
      cassandra: Math.round(median(raw.cassandra)),
      clickhouse: Math.round(median(raw.clickhouse)),
    };
    const slowest = Math.min(rawLimits.nats, rawLimits.cassandra, rawLimits.clickhouse);
    const q = Math.max(1, Math.floor(rss.length / 5));
    const result = {
      benchmark: 'pipeline',
      events: f.events,
      rawEvents: f.rawEvents,
      repeat: f.repeat,
      eventsPerSec,
      drainSeconds: Math.round(drainMs) / 1000,
      cpuMsPer1kEvents: Math.round((cpu * 1e8) / f.events) / 100,
      // Garbage-collection pause time per 1,000 events while draining (--trace-gc).
      gcMsPer1kEvents: {
        scavenge: Math.round((gc.scavenge * 100) / (f.events / 1000)) / 100,
        markCompact: Math.round((gc.markCompact * 100) / (f.events / 1000)) / 100,
      },
      peakRssMb: Math.round(Math.max(...rss)),
      rssEarlyMb: Math.round(median(rss.slice(0, q))),
      rssLateMb: Math.round(median(rss.slice(-q))),
      latencyRate: f.rate,
      latencyP50Ms: lat.latenciesMs.length ? percentile(lat.latenciesMs, 50) : null,
      latencyP99Ms: lat.latenciesMs.length ? percentile(lat.latenciesMs, 99) : null,
      latencySamples: lat.latenciesMs.length,
      latencyMissing: lat.missing,
      latencyPollMs: { cassandra: CASSANDRA_POLL_MS, clickhouse: CLICKHOUSE_POLL_MS },
      // At the offered rate, separated: publish → row visible in each sink (ms, polled every
      // latencyPollMs), and the processor's own handling of each event (µs, message taken → every
      // write queued to its outputs' batches) from its eventrunner_processor_handle_duration_seconds
      // histogram on /metrics, interpolated inside its buckets as histogram_quantile does.
      // Each sink's figure is when the read that found the row answered; `resolutionMs` is, per
      // sample, that minus when the last read that missed it was sent (the row became visible in
      // between). `publishAckMs`: publish → JetStream's acknowledgement (the followed events).
      // `writeMs`: the processor's write issued → acknowledged per batch (its
      // eventrunner_sink_batch_duration_seconds over the latency phase, in its buckets).
      latencySeparated: {
        cassandraMs: ms(lat.cassandraMs),
        cassandraResolutionMs: ms(lat.cassandraResolutionMs),
        // Publish → the processor issued the row's write (the row's writetime: exact), and the
        // lower bound of publish → visible (the later of that and the last read that missed it).
        cassandraIssuedMs: ms(lat.cassandraIssuedMs),
        cassandraLowerMs: ms(lat.cassandraLowerMs),
        // Reads of the check that failed (timed out on a loaded server) and were asked again.
        checkReadErrors: {
          cassandra: lat.cassandraReadErrors.length,
          clickhouse: lat.clickhouseReadErrors.length,
          ...(lat.cassandraReadErrors[0] ? { firstCassandra: lat.cassandraReadErrors[0] } : {}),
          ...(lat.clickhouseReadErrors[0] ? { firstClickHouse: lat.clickhouseReadErrors[0] } : {}),
        },
        cassandraWriteMs: batchMs(afterLatency.cassandraBatch, afterDrain.cassandraBatch),
        clickhouseMs: ms(lat.clickhouseMs),
        clickhouseResolutionMs: ms(lat.clickhouseResolutionMs),
        clickhouseWriteMs: batchMs(afterLatency.clickhouseBatch, afterDrain.clickhouseBatch),
        publishAckMs: ms(lat.publishAckMs),
        cassandraBatchDelayMs: CASSANDRA_BATCH_DELAY_MS,
        clickhouseBatchDelayMs: f.clickhouseDelayMs,
        bothMs: ms(lat.latenciesMs),
        processing: handleQuantiles(handleLatency),
      },
      // The same handling time while draining the backlog (every event, saturated).
      processingDuringDrain: handleQuantiles(handleAfterDrain),
      // CPU ms per 1,000 events of each process: during the raw Cassandra runs and the drain.
      cpuMsPer1k: { rawCassandra: rawCassandraCpu, eventrunner: drainCpu },
      // How busy each core was during the drain (/proc/stat), in percent.
      coreBusyPercentDuringDrain: drainCoreBusy,
      raw: rawLimits,
      rawCassandraRuns: {
        before: cassandraBefore.map(Math.round),
        after: raw.cassandra.slice(cassandraBefore.length).map(Math.round),
      },
      slowestRaw: slowest,
      ratioToSlowestRaw: Math.round((eventsPerSec / slowest) * 100) / 100,
      // With Cassandra on its own core, the processor shares the others with NATS and ClickHouse.
      // Were the processor to do nothing but the driver's writes (as the raw client does), those
      // cores would still carry the driver, NATS and ClickHouse: the most any processor could reach.
      ...(f.isolateCassandra
        ? { sharedCores: sharedCoreCeiling(cores - 1, rawCassandraCpu, drainCpu, slowest) }
        : {}),
      check: {
        cassandraRows: rowsCassandra,
        clickhouseRows: Number(chCount?.c),
        deadLettered: dlq,
      },
      servers: { cassandra: cas.version, clickhouse: chs.version },
      cores,
      cassandraIsolated: f.isolateCassandra,
    };
    process.stdout.write(JSON.stringify(result) + '\n');
  } finally {
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child!.once('exit', r));
    }
    await nc.close().catch(() => undefined);
    await cql.shutdown().catch(() => undefined);
    await ch.close().catch(() => undefined);
    await Promise.all([nats.stop(), cas.stop(), chs.stop()]);
  }
}
