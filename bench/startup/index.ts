// `npm run bench -- startup [--runs 5]`
// How long the pod programs take from exec to ready: `eventrunner process` (a Pipeline's processor,
// with a ClickHouse output, and with a webhook output that needs no database driver) and
// `eventrunner ingest` (HTTP + gRPC), each spawned from the built CLI as the pods run it, timed until
// its /readyz answers 200, with the CPU the process used by then (wall time on a busy machine is
// mostly waiting for a core; the CPU is what the program itself spends). `node --version`-style
// floor: `eventrunner --version` from exec to exit. Uses the servers of EVENTRUNNER_STACK_ENV when
// set, else starts NATS and ClickHouse. Progress on stderr; one JSON line last on stdout.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { AckPolicy, jetstreamManager } from '@nats-io/jetstream';
import { ensureSchema } from '../../runtime/sinks/index.js';
import type { SinkSpec } from '../../runtime/sinks/index.js';
import { startStack } from '../../test/stack/cli.js';
import type { ClickHouseEnv, NatsEnv } from '../../test/stack/env.js';
import { freePort } from '../../test/stack/net.js';
import { repoRoot } from '../../test/stack/paths.js';

const log = (s: string) => process.stderr.write(`${s}\n`);
const cli = join(repoRoot, 'bin', 'eventrunner.js');

function flag(args: string[], name: string, dflt: number): number {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** CPU milliseconds (user + system) a live process has used. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

interface Timing {
  wallMs: number;
  cpuMs: number;
}

/** Spawns the CLI and times it until GET /readyz on `opsPort` answers 200; then stops it. */
async function timeToReady(args: string[], opsPort: number): Promise<Timing> {
  const started = performance.now();
  const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${args[0]} exited during start-up:\n${output}`);
      if (performance.now() - started > 60_000) throw new Error(`${args[0]} not ready after 60s:\n${output}`);
      const ok = await fetch(`http://127.0.0.1:${opsPort}/readyz`)
        .then((r) => r.status === 200)
        .catch(() => false);
      if (ok) return { wallMs: performance.now() - started, cpuMs: cpuMs(child.pid!) };
      await new Promise((r) => setTimeout(r, 5));
    }
  } finally {
    const exited = new Promise((r) => child.once('exit', r));
    if (child.exitCode === null) child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}

/** `eventrunner --version` from exec to exit: Node's own start plus the CLI entry. */
async function timeVersion(): Promise<Timing> {
  const started = performance.now();
  const child = spawn(process.execPath, [cli, '--version'], { stdio: ['ignore', 'ignore', 'inherit'] });
  let cpu = 0;
  // Sampled until the very end: /proc/<pid>/stat is gone once it is reaped.
  const timer = setInterval(() => {
    try {
      cpu = cpuMs(child.pid!);
    } catch {
      // exited
    }
  }, 2);
  await new Promise((r) => child.once('exit', r));
  clearInterval(timer);
  return { wallMs: performance.now() - started, cpuMs: cpu };
}

export async function main(args: string[]): Promise<void> {
  const runs = flag(args, 'runs', 5);
  const envFile = process.env.EVENTRUNNER_STACK_ENV;
  const stack = envFile ? undefined : await startStack(['nats', 'clickhouse'], log);
  const env = envFile
    ? (JSON.parse(readFileSync(envFile, 'utf8')) as { nats: NatsEnv; clickhouse: ClickHouseEnv })
    : { nats: stack!.env.nats!, clickhouse: stack!.env.clickhouse! };
  const id = `startup${Date.now().toString(36)}`;
  const dir = mkdtempSync(join(tmpdir(), 'eventrunner-bench-startup-'));
  const nc = await connect({ servers: env.nats.url });
  const webhook = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200).end());
  });
  try {
    const jsm = await jetstreamManager(nc);
    const stream = `BENCH_${id}`;
    const subjectPrefix = `bench.${id}`;
    await jsm.streams.add({ name: stream, subjects: [`${subjectPrefix}.>`] });
    await jsm.streams.add({ name: `${stream}_DLQ`, subjects: [`dlq.${id}`] });
    await jsm.consumers.add(stream, { durable_name: 'processor', ack_policy: AckPolicy.Explicit });
    const clickhouse: SinkSpec = {
      clickhouse: { url: env.clickhouse.url, database: 'bench', table: `startup_${id}`, manageSchema: true },
    };
    await ensureSchema(clickhouse);
    await new Promise<void>((r) => webhook.listen(0, '127.0.0.1', r));
    const webhookUrl = `http://127.0.0.1:${(webhook.address() as { port: number }).port}/hook`;

    const processConfig = (name: string, sink: SinkSpec, opsPort: number) => {
      const file = join(dir, `process-${name}.json`);
      writeFileSync(
        file,
        JSON.stringify({
          pipeline: { namespace: 'bench', name: 'startup' },
          nats: { url: env.nats.url },
          sources: [{ eventSource: 'shop', stream, consumer: 'processor' }],
          rules: { source: 'rule All "everything" { when true then Route("out"); }' },
          outputs: [{ name: 'out', sink }],
          delivery: { maxDeliver: 5, backoff: ['1s'], maxAckPending: 1000 },
          deadLetter: { stream: `${stream}_DLQ`, subject: `dlq.${id}` },
          ops: { port: opsPort, host: '127.0.0.1' },
          logLevel: 'warn',
        }),
      );
      return file;
    };
    writeFileSync(join(dir, 'tokens'), 'bench: bench-token-0123456789\n');
    const ingestConfig = (opsPort: number, httpPort: number, grpcPort: number) => {
      const file = join(dir, 'ingest.yaml');
      writeFileSync(
        file,
        [
          `nats: {url: "${env.nats.url}"}`,
          `stream: {name: ${stream}, subjectPrefix: ${subjectPrefix}}`,
          `http: {port: ${httpPort}, host: 127.0.0.1}`,
          `grpc: {port: ${grpcPort}, host: 127.0.0.1}`,
          `ops: {port: ${opsPort}, host: 127.0.0.1}`,
          'auth: {tokensFile: tokens}',
          'logLevel: warn',
        ].join('\n'),
      );
      return file;
    };

    const programs: Record<string, () => Promise<Timing>> = {
      version: timeVersion,
      'process-clickhouse': async () => {
        const ops = await freePort();
        return timeToReady(['process', '--config', processConfig('clickhouse', clickhouse, ops)], ops);
      },
      'process-webhook': async () => {
        const ops = await freePort();
        const sink: SinkSpec = { http: { url: webhookUrl } };
        return timeToReady(['process', '--config', processConfig('webhook', sink, ops)], ops);
      },
      ingest: async () => {
        const [ops, http, grpc] = [await freePort(), await freePort(), await freePort()];
        return timeToReady(['ingest', '--config', ingestConfig(ops, http, grpc)], ops);
      },
    };
    const results: Record<string, { wallMs: number[]; cpuMs: number[] }> = {};
    for (const name of Object.keys(programs)) results[name] = { wallMs: [], cpuMs: [] };
    // Interleaved, so that a burst of load elsewhere does not land on one program only.
    for (let r = 0; r < runs; r++) {
      for (const [name, run] of Object.entries(programs)) {
        const t = await run();
        results[name]!.wallMs.push(Math.round(t.wallMs));
        results[name]!.cpuMs.push(Math.round(t.cpuMs));
        log(`run ${r + 1} ${name}: ready in ${Math.round(t.wallMs)} ms wall, ${Math.round(t.cpuMs)} ms CPU`);
      }
    }
    const summary = Object.fromEntries(
      Object.entries(results).map(([name, r]) => [
        name,
        { wallMs: median(r.wallMs), cpuMs: median(r.cpuMs), runs: r },
      ]),
    );
    for (const [name, s] of Object.entries(summary))
      log(`${name}: median ${s.wallMs} ms wall, ${s.cpuMs} ms CPU`);
    process.stdout.write(
      `${JSON.stringify({ bench: 'startup', runs, ...summary, targets: { wallMs: 1000 } })}\n`,
    );
  } finally {
    webhook.close();
    await nc.close();
    await stack?.stop();
  }
}
