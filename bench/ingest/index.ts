// `npm run bench -- ingest [--runs N] [--events N] [--single-events N] [--batch-size N]
//                          [--concurrency N] [--streams N] [--stream-size N] [--window N] [--modes a,b]
//                          [--schema]`
// Ingest throughput and latency against the raw JetStream publish rate, all in one run on one
// private NATS: the ingest server runs as `eventrunner ingest` in its own process, and every mode's
// load comes from a separate load-generator process (loadgen.ts). Each mode runs --runs times
// (interleaved, so drift hits all modes alike); the medians are reported. Progress goes to stderr,
// one JSON line to stdout.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { startNats } from '../../test/stack/nats.js';
import { freePort } from '../../test/stack/net.js';
import type { LoadSpec } from './loadgen.js';
import { median, type ModeResult } from './payload.js';
import { benchSchemaSet } from './schema.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const log = (msg: string) => process.stderr.write(`[bench ingest] ${msg}\n`);

// BENCH_INGEST_CPU_PROFILE=<dir> writes a V8 CPU profile of the ingest process there.
function tsProcess(file: string, args: string[]): ChildProcess {
  const profileDir = process.env.BENCH_INGEST_CPU_PROFILE;
  const profile = file === 'cli-entry.ts' && profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [];
  return spawn(process.execPath, [...profile, '--import', 'tsx', join(here, file), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function runLoadgen(spec: LoadSpec): Promise<ModeResult> {
  return new Promise((resolve, reject) => {
    const child = tsProcess('loadgen.ts', [JSON.stringify(spec)]);
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`load generator (${spec.mode}) exited ${code}: ${err}`));
      resolve(JSON.parse(out.trim().split('\n').pop()!) as ModeResult);
    });
  });
}

async function waitReady(opsUrl: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`ingest exited during start-up:\n${output()}`);
    try {
      if ((await fetch(`${opsUrl}/readyz`)).status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`ingest not ready after 60s:\n${output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function main(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      runs: { type: 'string', default: '3' },
      events: { type: 'string', default: '60000' },
      'single-events': { type: 'string', default: '20000' },
      'batch-size': { type: 'string', default: '100' },
      concurrency: { type: 'string', default: '16' },
      streams: { type: 'string', default: '4' },
      'stream-size': { type: 'string', default: '5000' },
      window: { type: 'string', default: '1024' },
      modes: { type: 'string', default: 'raw,raw-async,http-batch,grpc-stream,http-single,plain-single' },
      // Also run each HTTP/gRPC mode against a second ingest that checks every event against a
      // realistic order schema (schema.ts), and report the ratio with/without.
      schema: { type: 'boolean', default: false },
    },
  });
  const runs = Number(values.runs);
  const events = Number(values.events);
  const window = Number(values.window);
  const dir = mkdtempSync(join(tmpdir(), 'eventrunner-bench-ingest-'));
  const nats = await startNats('nats-bench-ingest');
  log(`NATS at ${nats.url}`);
  const nc = await connect({ servers: nats.url });
  const jsm = await jetstreamManager(nc);
  const stream = 'BENCH_INGEST';
  const subjectPrefix = 'er.bench.shop';
  await jsm.streams.add({
    name: stream,
    subjects: [`${subjectPrefix}.>`],
    duplicate_window: 120_000_000_000,
  });

  const token = 'bench-token-0123456789';
  writeFileSync(join(dir, 'tokens'), `bench: ${token}\n`);
  const [httpPort, grpcPort, opsPort] = [await freePort(), await freePort(), await freePort()];
  writeFileSync(
    join(dir, 'ingest.yaml'),
    [
      `nats: {url: "${nats.url}"}`,
      `stream: {name: ${stream}, subjectPrefix: ${subjectPrefix}}`,
      `http: {port: ${httpPort}, host: 127.0.0.1}`,
      `grpc: {port: ${grpcPort}, host: 127.0.0.1}`,
      `ops: {port: ${opsPort}, host: 127.0.0.1}`,
      'auth: {tokensFile: tokens}',
      'limits: {maxBodyBytes: 8Mi, maxBatchEvents: 10000}',
      `publish: {maxInFlight: ${window}, maxQueued: 65536, timeoutMs: 30000}`,
      'logLevel: warn',
    ].join('\n'),
  );
  const ingest = tsProcess('cli-entry.ts', ['ingest', '--config', join(dir, 'ingest.yaml')]);
  let ingestOut = '';
  ingest.stdout!.on('data', (d: Buffer) => (ingestOut += d.toString()));
  ingest.stderr!.on('data', (d: Buffer) => (ingestOut += d.toString()));
  // The same ingest with the schema set the operator would render: every event is checked.
  const schemaPorts = [await freePort(), await freePort(), await freePort()];
  let schemaIngest: ChildProcess | undefined;
  let schemaOut = '';
  if (values.schema) {
    writeFileSync(join(dir, 'schemas.json'), benchSchemaSet());
    const lines = readFileSync(join(dir, 'ingest.yaml'), 'utf8')
      .split('\n')
      .map((l) =>
        l
          .replace(`port: ${httpPort},`, `port: ${schemaPorts[0]},`)
          .replace(`port: ${grpcPort},`, `port: ${schemaPorts[1]},`)
          .replace(`port: ${opsPort},`, `port: ${schemaPorts[2]},`),
      );
    writeFileSync(join(dir, 'ingest-schema.yaml'), [...lines, 'schemaSet: {file: schemas.json}'].join('\n'));
    schemaIngest = tsProcess('cli-entry.ts', ['ingest', '--config', join(dir, 'ingest-schema.yaml')]);
    schemaIngest.stdout!.on('data', (d: Buffer) => (schemaOut += d.toString()));
    schemaIngest.stderr!.on('data', (d: Buffer) => (schemaOut += d.toString()));
  }
  // plain-single's server: bare node:http publishing the same way (plain-http.ts).
  const plainPort = await freePort();
  const plainServer = values.modes.split(',').includes('plain-single')
    ? tsProcess('plain-http.ts', [
        JSON.stringify({ natsUrl: nats.url, stream, subjectPrefix, port: plainPort }),
      ])
    : undefined;
  try {
    if (plainServer) {
      let plainOut = '';
      await new Promise<void>((resolve, reject) => {
        plainServer.stdout!.on(
          'data',
          (d: Buffer) => (plainOut += d.toString()).includes('ready') && resolve(),
        );
        plainServer.stderr!.on('data', (d: Buffer) => (plainOut += d.toString()));
        plainServer.once('exit', () => reject(new Error(`plain-http exited during start-up:\n${plainOut}`)));
      });
    }
    await waitReady(`http://127.0.0.1:${opsPort}`, ingest, () => ingestOut);
    if (schemaIngest) await waitReady(`http://127.0.0.1:${schemaPorts[2]}`, schemaIngest, () => schemaOut);
    log('ingest ready');

    const base = {
      natsUrl: nats.url,
      subjectPrefix,
      stream,
      httpUrl: `http://127.0.0.1:${httpPort}/events`,
      grpcAddress: `127.0.0.1:${grpcPort}`,
      token,
      batchSize: Number(values['batch-size']),
      streamSize: Number(values['stream-size']),
    };
    const wanted = new Set(values.modes.split(','));
    const allSpecs: Omit<LoadSpec, 'idPrefix'>[] = [
      { ...base, mode: 'raw', events, concurrency: window },
      { ...base, mode: 'raw-async', events, concurrency: window },
      { ...base, mode: 'http-batch', events, concurrency: Number(values.concurrency) },
      { ...base, mode: 'grpc-stream', events, concurrency: Number(values.streams) },
      {
        ...base,
        mode: 'http-single',
        events: Number(values['single-events']),
        concurrency: Number(values.concurrency),
      },
      {
        ...base,
        mode: 'plain-single',
        httpUrl: `http://127.0.0.1:${plainPort}/events`,
        events: Number(values['single-events']),
        concurrency: Number(values.concurrency),
      },
    ];
    const plain = allSpecs.filter((s) => wanted.has(s.mode));
    // Each mode under its own label; with --schema, every HTTP/gRPC mode twice, right after each other.
    const specs: { label: string; spec: Omit<LoadSpec, 'idPrefix'>; process: ChildProcess }[] = plain.flatMap(
      (spec) => [
        { label: spec.mode, spec, process: spec.mode === 'plain-single' ? plainServer! : ingest },
        ...(schemaIngest && spec.mode !== 'raw' && spec.mode !== 'raw-async'
          ? [
              {
                label: `${spec.mode}+schema`,
                spec: {
                  ...spec,
                  httpUrl: `http://127.0.0.1:${schemaPorts[0]}/events`,
                  grpcAddress: `127.0.0.1:${schemaPorts[1]}`,
                },
                process: schemaIngest,
              },
            ]
          : []),
      ],
    );
    const results = new Map<string, ModeResult[]>();
    const cpu = new Map<string, { loadgen: number; ingest: number; nats: number }[]>();
    // With --schema, a mode and its +schema twin swap places every other run, so that whatever the
    // run before leaves behind (the purge, a warm cache) does not favour one of them.
    const order = (run: number) =>
      run % 2 === 1
        ? specs
        : specs.flatMap((s, i) =>
            s.label.endsWith('+schema')
              ? []
              : specs[i + 1]?.label === `${s.label}+schema`
                ? [specs[i + 1]!, s]
                : [s],
          );
    for (let run = 1; run <= runs; run++) {
      for (const { label, spec, process: target } of order(run)) {
        const r = await runLoadgen({
          ...spec,
          idPrefix: `${label}-${run}`,
          targetPid: target.pid,
          natsPid: nats.process.pid,
        });
        const perK = (s: number) => Number(((s * 1e6) / spec.events).toFixed(1));
        cpu.set(label, [
          ...(cpu.get(label) ?? []),
          {
            loadgen: perK(r.cpuSeconds),
            ingest: perK(r.targetCpuSeconds),
            nats: perK(r.natsCpuSeconds),
          },
        ]);
        if (r.errors > 0) throw new Error(`${label} run ${run}: ${r.errors} errors, first: ${r.firstError}`);
        const stored = (await jsm.streams.info(stream)).state.messages;
        if (stored !== spec.events)
          throw new Error(`${label} run ${run}: ${stored} events stored, expected ${spec.events}`);
        await jsm.streams.purge(stream);
        log(
          `run ${run}/${runs} ${label.padEnd(18)} ${Math.round(r.eventsPerSecond)} events/s  ` +
            `p50 ${r.p50Ms.toFixed(2)}ms p99 ${r.p99Ms.toFixed(2)}ms`,
        );
        results.set(label, [...(results.get(label) ?? []), r]);
      }
    }
    const summary = (mode: string) => {
      const rs = results.get(mode);
      if (!rs) return undefined;
      const cs = cpu.get(mode)!;
      return {
        eventsPerSecond: Math.round(median(rs.map((r) => r.eventsPerSecond))),
        p50Ms: Number(median(rs.map((r) => r.p50Ms)).toFixed(3)),
        p99Ms: Number(median(rs.map((r) => r.p99Ms)).toFixed(3)),
        ...(rs[0]!.eventP50Ms !== undefined
          ? {
              perEventStoredMs: {
                p50: Number(median(rs.map((r) => r.eventP50Ms!)).toFixed(3)),
                p99: Number(median(rs.map((r) => r.eventP99Ms!)).toFixed(3)),
              },
            }
          : {}),
        runs: rs.map((r) => Math.round(r.eventsPerSecond)),
        cpuMicrosPerEvent: {
          loadgen: median(cs.map((c) => c.loadgen)),
          ingest: median(cs.map((c) => c.ingest)),
          nats: median(cs.map((c) => c.nats)),
        },
      };
    };
    // Two baselines. `js.publish` is the NATS client's own JetStream publish, windowed: the raw
    // async publish the target refers to. `async-publisher` is the publish primitive ingest itself
    // uses, bare: the ratio to it is what ingest's HTTP/gRPC handling costs on top.
    // Ratios pair each run of a mode with the same run of the baseline (drift on a shared machine
    // hits both alike), then take the median over runs.
    const ratio = (mode: string, base: string) => {
      const ms = results.get(mode);
      const bs = results.get(base);
      if (!ms || !bs) return undefined;
      return Number(median(ms.map((m, i) => m.eventsPerSecond / bs[i]!.eventsPerSecond)).toFixed(3));
    };
    const modes = Object.fromEntries(
      ['http-single', 'http-batch', 'grpc-stream'].flatMap((m) => {
        const sm = summary(m);
        if (!sm) return [];
        return [
          [
            m,
            {
              ...sm,
              ratioToRaw: ratio(m, 'raw'),
              ratioToAsyncPublisher: ratio(m, 'raw-async'),
              ...(m === 'http-single' && results.has('plain-single')
                ? { ratioToPlainHttp: ratio(m, 'plain-single') }
                : {}),
            },
          ],
        ];
      }),
    );
    // With --schema: events/s with a schema on every event over events/s without, paired per run.
    const schemaModes = ['http-single', 'http-batch', 'grpc-stream'].flatMap((m) => {
      const withSchema = summary(`${m}+schema`);
      if (!withSchema) return [];
      return [[m, { ...withSchema, ratioToWithoutSchema: ratio(`${m}+schema`, m) }]];
    });
    const batchRatio = ratio('http-batch', 'raw');
    const batchRatioAsync = ratio('http-batch', 'raw-async');
    process.stdout.write(
      JSON.stringify({
        benchmark: 'ingest',
        runs,
        eventsPerRun: Object.fromEntries(specs.map((sp) => [sp.label, sp.spec.events])),
        settings: {
          batchSize: base.batchSize,
          httpConnections: Number(values.concurrency),
          grpcStreams: Number(values.streams),
          eventsPerStream: base.streamSize,
          publishWindow: window,
        },
        latency:
          'p50/p99 per request (HTTP), per stream call (gRPC), per publish (raw); gRPC perEventStoredMs: each event from its write by the client to its JetStream timestamp',
        cpu: 'CPU microseconds per event of each process (load generator, ingest or the plain server, nats-server)',
        raw: {
          'js.publish': summary('raw'),
          'async-publisher': summary('raw-async'),
          'plain-http': summary('plain-single'),
        },
        modes,
        ...(schemaModes.length
          ? {
              withSchema: {
                what: 'the same modes against an ingest checking every event against a realistic order schema (bench/ingest/schema.ts)',
                modes: Object.fromEntries(schemaModes),
                target: {
                  required: 0.9,
                  met: schemaModes.every(
                    ([, s]) => ((s as { ratioToWithoutSchema?: number }).ratioToWithoutSchema ?? 0) >= 0.9,
                  ),
                },
              },
            }
          : {}),
        target: {
          required: 0.8,
          batchRatioToRaw: batchRatio,
          met: batchRatio === undefined ? undefined : batchRatio >= 0.8,
          batchRatioToAsyncPublisher: batchRatioAsync,
          metAgainstAsyncPublisher: batchRatioAsync === undefined ? undefined : batchRatioAsync >= 0.8,
          grpcStreamRatioToAsyncPublisher: ratio('grpc-stream', 'raw-async'),
        },
        machine: { cpus: cpus().length, node: process.version },
      }) + '\n',
    );
  } finally {
    for (const p of [ingest, schemaIngest, plainServer]) {
      if (!p) continue;
      p.kill('SIGTERM');
      await new Promise((r) => (p.exitCode !== null ? r(null) : p.once('exit', r)));
    }
    await nc.close();
    await nats.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
