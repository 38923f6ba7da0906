// `npm run bench -- replay [--events N] [--repeat N] [--concurrency C]`
// Starts its own NATS and the outputs bench's webhook receiver (a process of its own), pre-fills a
// stream with N shop CloudEvents and the Pipeline's dead-letter stream with N dead letters of them
// (in the processor's own format), and measures in one run, --repeat times each:
//   drain    `eventrunner process` draining its durable consumer into the webhook output
//   replay   `eventrunner replay-worker` replaying the whole stream (from sequence 1) through the
//            same config: selection into its work stream, then the processor loop, until it reports
//            the Replay finished
//   redrive  the same worker redriving every dead letter
// Progress on stderr; one JSON line last on stdout with the medians and the ratios to the drain.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { headers as natsHeaders } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { DeadLetterPublisher } from '../../runtime/process/deadletter.js';
import { toNatsMessage } from '../../runtime/events/index.js';
import {
  progressKey,
  replayBucketName,
  type ReplayPlan,
  type ReplayProgress,
} from '../../runtime/replay/plan.js';
import { startNats } from '../../test/stack/nats.js';
import { BENCH_RULES, shopEvent } from '../pipeline/events.js';
import { median } from '../pipeline/measure.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const repo = join(here, '../..');
const log = (s: string) => process.stderr.write(`[bench replay] ${s}\n`);

function flags(args: string[]) {
  const get = (name: string, def: number) => {
    const i = args.indexOf(`--${name}`);
    if (i < 0) return def;
    const v = Number(args[i + 1]);
    if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} needs a positive number`);
    return v;
  };
  return { events: get('events', 50_000), repeat: get('repeat', 3), concurrency: get('concurrency', 32) };
}

async function startReceiver(): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(repo, 'bench/outputs/receiver.ts')], {
    cwd: repo,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve((JSON.parse(out.split('\n')[0]!) as { port: number }).port);
    });
    child.once('exit', (code) => reject(new Error(`receiver exited (${code})`)));
  });
  return { url: `http://127.0.0.1:${port}`, child };
}

async function received(url: string): Promise<number> {
  return ((await (await fetch(`${url}/count`)).json()) as { events: number }).events;
}

function run(args: string[], waitFor: string): { child: ChildProcess; started: Promise<number> } {
  const child = spawn(process.execPath, [join(repo, 'bin/eventrunner.js'), ...args], {
    cwd: repo,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const started = new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      if (out.length < 100_000) out += d.toString();
      if (out.includes(waitFor)) resolve(performance.now());
    });
    child.once('exit', (code) => reject(new Error(`${args[0]} exited (${code}): ${out.slice(-2000)}`)));
  });
  return { child, started };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
}

export async function main(args: string[]): Promise<void> {
  const f = flags(args);
  log(`options ${JSON.stringify(f)}`);
  const nats = await startNats('bench-replay-nats');
  const receiver = await startReceiver();
  const nc = await connect({ servers: nats.url });
  const dir = mkdtempSync(join(tmpdir(), 'bench-replay-'));
  const children: ChildProcess[] = [];
  try {
    const jsm = await jetstreamManager(nc);
    const js = jetstream(nc);
    await jsm.streams.add({ name: 'OUT', subjects: ['out.>'], max_bytes: 2 * 1024 ** 3 });
    await jsm.streams.add({ name: 'OUT_DLQ', subjects: ['out-dlq'], duplicate_window: 3600e9 });
    const id = randomUUID().slice(0, 8);
    const events = Array.from({ length: f.events }, (_, i) => shopEvent(id, i));
    const dl = new DeadLetterPublisher(js, 'out-dlq', 'OUT_DLQ', 'bench/shop');
    for (let i = 0; i < events.length; i += 2000) {
      await Promise.all(
        events.slice(i, i + 2000).map(async (e, j) => {
          const m = toNatsMessage(e, 'out');
          const h = natsHeaders();
          for (const [k, v] of Object.entries(m.headers)) h.set(k, v);
          await js.publish(m.subject, m.body, { headers: h, msgID: m.msgId });
          // The dead letter a sink outage would leave of the same event.
          await dl.publish({
            reason: 'output notify: HTTP 503 Service Unavailable',
            output: 'notify',
            subject: m.subject,
            stream: 'OUT',
            sequence: i + j + 1,
            deliveries: 5,
            data: typeof m.body === 'string' ? new TextEncoder().encode(m.body) : m.body,
            headers: h,
          });
        }),
      );
    }
    log(`pre-filled ${f.events} events and ${f.events} dead letters`);
    const config = (consumer: string) => ({
      pipeline: { namespace: 'bench', name: 'shop' },
      nats: { url: nats.url },
      sources: [{ eventSource: 'shop', stream: 'OUT', consumer }],
      rules: { source: BENCH_RULES },
      outputs: [
        {
          name: 'notify',
          sink: { http: { url: `${receiver.url}/hook`, mode: 'binary', maxConcurrency: f.concurrency } },
        },
      ],
      delivery: { maxDeliver: 5, backoff: ['1s'], maxAckPending: 10_000 },
      deadLetter: { stream: 'OUT_DLQ', subject: 'out-dlq' },
      processing: { pullBatch: 1000, lagInterval: '1s' },
      ops: { port: 0, host: '127.0.0.1' },
      logLevel: 'info',
    });
    const kv = await new Kvm(nc).create(replayBucketName('bench', 'shop'), { history: 1 });

    let delivered = 0;
    const drain: number[] = [];
    const replay: number[] = [];
    const redrive: number[] = [];
    const worker = async (name: string, spec: Partial<ReplayPlan>, consumer: string): Promise<number> => {
      const file = join(dir, `${name}.json`);
      writeFileSync(file, JSON.stringify(config(consumer)));
      const plan: ReplayPlan = { namespace: 'bench', name, uid: randomUUID(), pipeline: 'shop', ...spec };
      const before = await received(receiver.url);
      const w = run(
        ['replay-worker', '--config', file, '--replay', JSON.stringify(plan)],
        '"msg":"Connected to NATS"',
      );
      children.push(w.child);
      const t0 = await w.started;
      let p: ReplayProgress | undefined;
      for (;;) {
        const e = await kv.get(progressKey(plan));
        p = e && e.operation === 'PUT' ? (e.json() as ReplayProgress) : undefined;
        if (p?.finished) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      const ms = performance.now() - t0;
      await stop(w.child);
      if (p.error || p.done + p.failed !== p.total || p.total !== f.events)
        throw new Error(`${name}: ${JSON.stringify(p)}`);
      // The rules drop some events: the receiver gets what the drain delivered, no less, no more.
      if ((await received(receiver.url)) - before !== delivered)
        throw new Error(`${name}: the receiver got another count than the drain delivered`);
      return (p.total / ms) * 1000;
    };

    for (let r = 0; r < f.repeat; r++) {
      // The Pipeline's normal drain of its durable consumer.
      const consumer = `pl${r}`;
      await jsm.consumers.add('OUT', {
        durable_name: consumer,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        max_ack_pending: 10_000,
        max_deliver: 5,
        ack_wait: 60e9,
      });
      const file = join(dir, `drain${r}.json`);
      writeFileSync(file, JSON.stringify(config(consumer)));
      const before = await received(receiver.url);
      const p = run(['process', '--config', file], '"msg":"Processing events"');
      children.push(p.child);
      const t0 = await p.started;
      for (;;) {
        const info = await jsm.consumers.info('OUT', consumer);
        if (info.num_pending === 0 && info.num_ack_pending === 0) break;
        await new Promise((res) => setTimeout(res, 20));
      }
      drain.push((f.events / (performance.now() - t0)) * 1000);
      delivered = (await received(receiver.url)) - before;
      if (delivered === 0) throw new Error('drain: the receiver got nothing');
      await stop(p.child);

      replay.push(await worker(`replay${r}`, { from: { sequence: 1 } }, consumer));
      // Each run redrives every dead letter: the previous run's marks are cleared first.
      for await (const k of await kv.keys('redriven.>')) await kv.purge(k);
      redrive.push(await worker(`redrive${r}`, { deadLetters: {} }, consumer));
      log(
        `run ${r + 1}: drain ${Math.round(drain[r]!)}/s, replay ${Math.round(replay[r]!)}/s, redrive ${Math.round(redrive[r]!)}/s`,
      );
    }
    const m = { drain: median(drain), replay: median(replay), redrive: median(redrive) };
    const result = {
      benchmark: 'replay',
      events: f.events,
      repeat: f.repeat,
      concurrency: f.concurrency,
      drainEventsPerSec: Math.round(m.drain),
      replayEventsPerSec: Math.round(m.replay),
      redriveEventsPerSec: Math.round(m.redrive),
      replayRatioToDrain: Math.round((m.replay / m.drain) * 100) / 100,
      redriveRatioToDrain: Math.round((m.redrive / m.drain) * 100) / 100,
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    for (const c of children) await stop(c);
    await nc.close();
    receiver.child.kill('SIGTERM');
    await nats.stop();
  }
}
