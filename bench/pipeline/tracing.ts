// `npm run bench -- pipeline --tracing [--events N] [--repeat N]`: what tracing costs the
// processor. One stream of N events (default 100,000) is drained through the rules into Cassandra
// and ClickHouse again and again by `eventrunner process`, in interleaved rounds of four variants:
// `without` (the processor built from the last commit, before tracing existed), `off` (this build,
// no OTEL_* endpoint: the default), `on-1%` and `on-100%` (spans exported over OTLP to a real
// Jaeger, parent-based ratio sampling; the events carry no traceparent, so each is a new trace).
// Reports the median events/s of each variant over --repeat rounds and its ratio to `without`.
// Progress on stderr; one JSON line last on stdout.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  AckPolicy,
  DeliverPolicy,
  jetstream,
  jetstreamManager,
  type JetStreamManager,
} from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { toNatsMessage } from '../../runtime/events/index.js';
import { ensureSchema, type SinkSpec } from '../../runtime/sinks/index.js';
import { cassandraCredentials, startCassandra } from '../../test/stack/cassandra.js';
import { startClickHouse } from '../../test/stack/clickhouse.js';
import { startJaeger } from '../../test/stack/jaeger.js';
import { startNats } from '../../test/stack/nats.js';
import { BENCH_COLUMNS, BENCH_RULES, shopEvent } from './events.js';
import { cpuSeconds, log, median, rate } from './measure.js';

const repo = join(fileURLToPath(new URL('.', import.meta.url)), '../..');

interface Variant {
  name: string;
  /** The CLI entry point: this build, or the one from the last commit. */
  bin: string;
  env: Record<string, string>;
}

/**
 * The processor as built from the last commit, in a scratch directory: `git archive` (the index
 * and work tree are not touched), this checkout's node_modules, `tsc`.
 */
function buildWithoutTracing(): string {
  const dir = mkdtempSync(join(tmpdir(), 'bench-untraced-'));
  execFileSync('bash', ['-c', `git -C "${repo}" archive HEAD | tar -x -C "${dir}"`]);
  symlinkSync(join(repo, 'node_modules'), join(dir, 'node_modules'));
  return compile(dir, dir);
}

/**
 * This checkout, compiled into a scratch directory of its own: the shared dist/ may be rebuilt
 * while the benchmark runs.
 */
function buildThisCheckout(): string {
  const dir = mkdtempSync(join(tmpdir(), 'bench-traced-'));
  for (const d of ['node_modules', 'api', 'crds', 'package.json']) symlinkSync(join(repo, d), join(dir, d));
  mkdirSync(join(dir, 'bin'));
  copyFileSync(join(repo, 'bin/eventrunner.js'), join(dir, 'bin/eventrunner.js'));
  return compile(repo, dir);
}

/** tsc of `src` into `out`/dist; returns out/bin/eventrunner.js. */
function compile(src: string, out: string): string {
  const tsc = join(repo, 'node_modules/typescript/bin/tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', join(out, 'dist')], {
    cwd: src,
    stdio: 'inherit',
  });
  if (!existsSync(join(out, 'dist/cli/main.js'))) throw new Error(`tsc in ${src} wrote no dist/cli/main.js`);
  if (r.status !== 0)
    log(`tsc in ${src} reported type errors (exit ${r.status}); its output is used as emitted`);
  return join(out, 'bin/eventrunner.js');
}

function flags(args: string[]) {
  const get = (name: string, def: number) => {
    const i = args.indexOf(`--${name}`);
    if (i < 0) return def;
    const v = Number(args[i + 1]);
    if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} needs a positive number`);
    return v;
  };
  return { events: get('events', 100_000), repeat: get('repeat', 3) };
}

/** Recreates the durable consumer at the start of the stream, so every drain reads all of it. */
async function freshConsumer(jsm: JetStreamManager): Promise<void> {
  await jsm.consumers.delete('BENCH', 'eventrunner').catch(() => undefined);
  await jsm.consumers.add('BENCH', {
    durable_name: 'eventrunner',
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    max_ack_pending: 10_000,
    max_deliver: 5,
    ack_wait: 60e9,
  });
}

export async function tracingMain(args: string[]): Promise<void> {
  const f = flags(args);
  log(`options ${JSON.stringify(f)}`);
  log('building the processor of the last commit (without tracing)');
  const without = buildWithoutTracing();
  log('building this checkout');
  const thisBuild = buildThisCheckout();
  const [nats, cas, chs, jaeger] = [
    await startNats('bench-nats'),
    await startCassandra('bench-cassandra'),
    await startClickHouse('bench-clickhouse'),
    await startJaeger('bench-jaeger'),
  ];
  log(
    `servers up: nats ${nats.url}, cassandra ${cas.contactPoint}, clickhouse ${chs.url}, jaeger ${jaeger.otlpUrl}`,
  );
  const nc = await connect({ servers: nats.url });
  try {
    const scylla: SinkSpec = {
      scylla: {
        contactPoints: [cas.contactPoint],
        localDataCenter: cas.localDataCenter,
        keyspace: 'bench',
        table: 'events',
        consistency: 'LOCAL_ONE',
        replicationFactor: 1,
        manageSchema: true,
        batch: { maxRows: 500, maxDelay: '20ms' },
      },
      columns: BENCH_COLUMNS,
    };
    const clickhouse: SinkSpec = {
      clickhouse: {
        url: chs.url,
        database: 'bench',
        table: 'events',
        manageSchema: true,
        batch: { maxRows: 10_000, maxDelay: '1000ms' },
      },
      columns: BENCH_COLUMNS,
    };
    await ensureSchema(scylla, cassandraCredentials);
    await ensureSchema(clickhouse);
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'BENCH', subjects: ['bench.>'], max_bytes: 4 * 1024 ** 3 });
    await jsm.streams.add({ name: 'BENCH_DLQ', subjects: ['bench-dlq'] });
    const run = randomUUID().slice(0, 8);
    const js = jetstream(nc);
    let inflight: Promise<unknown>[] = [];
    for (let i = 0; i < f.events; i++) {
      const m = toNatsMessage(shopEvent(run, i), 'bench');
      const h = natsHeaders();
      for (const [k, v] of Object.entries(m.headers)) h.set(k, v);
      inflight.push(js.publish(m.subject, m.body, { headers: h, msgID: m.msgId }));
      if (inflight.length >= 4000) {
        await Promise.all(inflight);
        inflight = [];
      }
    }
    await Promise.all(inflight);
    log(`pre-filled ${f.events} events`);

    const dir = mkdtempSync(join(tmpdir(), 'bench-tracing-'));
    writeFileSync(join(dir, 'user'), cassandraCredentials.username);
    writeFileSync(join(dir, 'pass'), cassandraCredentials.password);
    writeFileSync(
      join(dir, 'config.json'),
      JSON.stringify({
        pipeline: { namespace: 'bench', name: 'pipeline' },
        nats: { url: nats.url },
        sources: [{ eventSource: 'shop', stream: 'BENCH', consumer: 'eventrunner' }],
        rules: { source: BENCH_RULES },
        outputs: [
          {
            name: 'store',
            sink: scylla,
            credentials: { usernameFile: join(dir, 'user'), passwordFile: join(dir, 'pass') },
            writeConcurrency: 256,
          },
          { name: 'analytics', sink: clickhouse, maxConcurrentBatches: 2 },
        ],
        delivery: { maxDeliver: 5, backoff: ['1s'], maxAckPending: 10_000 },
        deadLetter: { stream: 'BENCH_DLQ', subject: 'bench-dlq' },
        processing: { pullBatch: 1000, lagInterval: '1s' },
        ops: { port: 0, host: '127.0.0.1' },
        logLevel: 'info',
      }),
    );
    const traced = (ratio: string) => ({
      OTEL_EXPORTER_OTLP_ENDPOINT: jaeger.otlpUrl,
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: ratio,
    });
    const variants: Variant[] = [
      { name: 'without', bin: without, env: {} },
      { name: 'off', bin: thisBuild, env: {} },
      { name: 'on-1%', bin: thisBuild, env: traced('0.01') },
      { name: 'on-100%', bin: thisBuild, env: traced('1') },
    ];
    const results = new Map<string, { eventsPerSec: number; cpuMsPer1k: number }[]>(
      variants.map((v) => [v.name, []]),
    );

    /** One drain of the whole stream by a fresh processor of this variant. */
    const drain = async (v: Variant) => {
      await freshConsumer(jsm);
      // Nothing of the caller's OTEL_* settings leaks into a variant.
      const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OTEL_')));
      const child = spawn(process.execPath, [v.bin, 'process', '--config', join(dir, 'config.json')], {
        cwd: repo,
        stdio: ['ignore', 'pipe', 'inherit'],
        env: { ...env, ...v.env },
      });
      let out = '';
      let processingAt: number | undefined;
      let cpu0 = 0;
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (processingAt === undefined && out.includes('"msg":"Processing events"')) {
          processingAt = performance.now();
          cpu0 = cpuSeconds(child.pid!);
        }
      });
      while (processingAt === undefined) {
        if (child.exitCode !== null) throw new Error(`processor exited: ${out}`);
        await new Promise((r) => setTimeout(r, 5));
      }
      let info = await jsm.consumers.info('BENCH', 'eventrunner');
      while (info.num_pending > 0 || info.num_ack_pending > 0) {
        await new Promise((r) => setTimeout(r, 100));
        info = await jsm.consumers.info('BENCH', 'eventrunner');
      }
      const ms = performance.now() - processingAt;
      const cpu = cpuSeconds(child.pid!) - cpu0;
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      return { eventsPerSec: rate(f.events, ms), cpuMsPer1k: Math.round((cpu * 1e7) / f.events) / 10 };
    };

    // A first drain warms the servers (JIT, caches, pools); it is not counted.
    log('warm-up drain');
    await drain(variants[1]!);
    for (let r = 0; r < f.repeat; r++) {
      // Each round in another order, so no variant always runs first or after the same one.
      const order = variants.map((_, i) => variants[(i + r) % variants.length]!);
      for (const v of order) {
        const res = await drain(v);
        results.get(v.name)!.push(res);
        log(`round ${r + 1} ${v.name}: ${res.eventsPerSec} events/s, ${res.cpuMsPer1k} CPU ms per 1,000`);
      }
    }
    const summary = Object.fromEntries(
      [...results].map(([name, runs]) => [
        name,
        {
          eventsPerSec: Math.round(median(runs.map((x) => x.eventsPerSec))),
          cpuMsPer1k: Math.round(median(runs.map((x) => x.cpuMsPer1k)) * 10) / 10,
          runs: runs.map((x) => x.eventsPerSec),
        },
      ]),
    );
    const base = summary.without!.eventsPerSec;
    const ratios = Object.fromEntries(
      Object.entries(summary).map(([name, s]) => [name, Math.round((s.eventsPerSec / base) * 1000) / 1000]),
    );
    process.stdout.write(
      JSON.stringify({
        benchmark: 'pipeline-tracing',
        events: f.events,
        repeat: f.repeat,
        variants: summary,
        ratioToWithout: ratios,
      }) + '\n',
    );
  } finally {
    await nc.close().catch(() => undefined);
    await Promise.all([nats.stop(), cas.stop(), chs.stop(), jaeger.stop()]);
  }
}
