// `npm run bench -- outputs [--events N] [--repeat N] [--concurrency C] [--mode binary|structured]`
// Starts its own NATS and a webhook receiver (a process of its own), pre-fills a stream with N shop
// CloudEvents, and measures in one run, --repeat times each:
//   raw       a plain `fetch` (undici) client posting the same requests to the same receiver, C at
//             once; and the same with node:http on keep-alive connections (a stiffer baseline)
//   webhook   `eventrunner process` draining the stream into a webhook output (maxConcurrency C)
//   chained   Pipeline A draining the stream into an eventSource Sink (another stream), Pipeline B
//             draining that stream into the webhook: both processors at once, end to end
// Progress on stderr; one JSON line last on stdout with the medians and the ratios webhook/raw and
// chained/webhook.
import { spawn, type ChildProcess } from 'node:child_process';
import { Agent, request } from 'node:http';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
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
import { binaryRow, headerObject, structuredRow, STRUCTURED_TYPE } from '../../runtime/sinks/http-encode.js';
import { startNats } from '../../test/stack/nats.js';
import { BENCH_RULES, shopEvent } from '../pipeline/events.js';
import { cpuSeconds, median } from '../pipeline/measure.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const repo = join(here, '../..');
const log = (s: string) => process.stderr.write(`[bench outputs] ${s}\n`);

function flags(args: string[]) {
  const get = (name: string, def: number) => {
    const i = args.indexOf(`--${name}`);
    if (i < 0) return def;
    const v = Number(args[i + 1]);
    if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} needs a positive number`);
    return v;
  };
  const i = args.indexOf('--mode');
  const mode = i < 0 ? 'binary' : args[i + 1];
  if (mode !== 'binary' && mode !== 'structured') throw new Error('--mode is binary or structured');
  return {
    events: get('events', 100_000),
    repeat: get('repeat', 3),
    concurrency: get('concurrency', 32),
    mode,
  };
}

/** Starts the receiver process; resolves with its URL. */
async function startReceiver(): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'receiver.ts')], {
    cwd: repo,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n')[0];
      if (out.includes('\n')) resolve((JSON.parse(line!) as { port: number }).port);
    });
    child.once('exit', (code) => reject(new Error(`receiver exited (${code})`)));
  });
  return { url: `http://127.0.0.1:${port}`, child };
}

async function received(url: string): Promise<number> {
  return ((await (await fetch(`${url}/count`)).json()) as { events: number }).events;
}

/** Events/s of posting every event's request with `concurrency` fetch calls at once. */
async function rawFetch(
  url: string,
  requests: { headers: Record<string, string>; body: Buffer }[],
  concurrency: number,
): Promise<number> {
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < requests.length) {
        const r = requests[next++]!;
        const res = await fetch(`${url}/hook`, { method: 'POST', headers: r.headers, body: r.body });
        await res.arrayBuffer();
        if (res.status !== 204) throw new Error(`receiver answered ${res.status}`);
      }
    }),
  );
  return (requests.length / (performance.now() - start)) * 1000;
}

/** The same with node:http over keep-alive connections (the stiffer baseline: no WHATWG layers). */
async function rawHttp(
  url: string,
  requests: { headers: Record<string, string>; body: Buffer }[],
  concurrency: number,
): Promise<number> {
  const u = new URL(`${url}/hook`);
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const post = (r: (typeof requests)[number]) =>
    new Promise<void>((resolve, reject) => {
      const req = request(
        {
          hostname: u.hostname,
          port: u.port,
          path: u.pathname,
          method: 'POST',
          agent,
          headers: { ...r.headers, 'content-length': r.body.length },
        },
        (res) => {
          res.resume();
          res.once('end', () =>
            res.statusCode === 204 ? resolve() : reject(new Error(`${res.statusCode}`)),
          );
        },
      );
      req.once('error', reject);
      req.end(r.body);
    });
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < requests.length) await post(requests[next++]!);
    }),
  );
  const rate = (requests.length / (performance.now() - start)) * 1000;
  agent.destroy();
  return rate;
}

interface Processor {
  child: ChildProcess;
  /** Resolves at the "Processing events" log line, with performance.now() then. */
  processing: Promise<number>;
}

function startProcessor(dir: string, name: string, config: object): Processor {
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(config));
  const child = spawn(process.execPath, [join(repo, 'bin/eventrunner.js'), 'process', '--config', file], {
    cwd: repo,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const processing = new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      if (out.length < 100_000) out += d.toString();
      if (out.includes('"msg":"Processing events"')) resolve(performance.now());
    });
    child.once('exit', (code) =>
      reject(new Error(`processor ${name} exited (${code}): ${out.slice(-2000)}`)),
    );
  });
  return { child, processing };
}

async function stop(p: Processor): Promise<void> {
  if (p.child.exitCode !== null) return;
  p.processing.catch(() => undefined);
  p.child.kill('SIGTERM');
  await new Promise((r) => p.child.once('exit', r));
}

async function addConsumer(jsm: JetStreamManager, stream: string, name: string): Promise<void> {
  await jsm.consumers.add(stream, {
    durable_name: name,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    max_ack_pending: 10_000,
    max_deliver: 5,
    ack_wait: 60e9,
  });
}

async function drained(jsm: JetStreamManager, stream: string, consumer: string): Promise<void> {
  for (;;) {
    const info = await jsm.consumers.info(stream, consumer);
    if (info.num_pending === 0 && info.num_ack_pending === 0) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function main(args: string[]): Promise<void> {
  const f = flags(args);
  log(`options ${JSON.stringify(f)}`);
  const nats = await startNats('bench-outputs-nats');
  const receiver = await startReceiver();
  const nc = await connect({ servers: nats.url });
  const dir = mkdtempSync(join(tmpdir(), 'bench-outputs-'));
  const running: Processor[] = [];
  try {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'OUT', subjects: ['out.>'], max_bytes: 2 * 1024 ** 3 });
    await jsm.streams.add({ name: 'OUT_DLQ', subjects: ['out-dlq'] });
    const run = randomUUID().slice(0, 8);
    const events = Array.from({ length: f.events }, (_, i) => shopEvent(run, i));
    const js = jetstream(nc);
    for (let i = 0; i < events.length; i += 4000) {
      await Promise.all(
        events.slice(i, i + 4000).map((e) => {
          const m = toNatsMessage(e, 'out');
          const h = natsHeaders();
          for (const [k, v] of Object.entries(m.headers)) h.set(k, v);
          return js.publish(m.subject, m.body, { headers: h, msgID: m.msgId });
        }),
      );
    }
    log(`pre-filled ${f.events} events; receiver at ${receiver.url}`);
    // What the webhook output sends for each event, for the raw client to send as it is.
    const requests = events.map((e) => {
      const row = f.mode === 'binary' ? binaryRow(e) : structuredRow(e);
      const headers = row.headers ? headerObject(row.headers) : { 'content-type': STRUCTURED_TYPE };
      return { headers, body: row.body };
    });
    const webhook = { http: { url: `${receiver.url}/hook`, mode: f.mode, maxConcurrency: f.concurrency } };
    const base = (name: string, stream: string, consumer: string) => ({
      pipeline: { namespace: 'bench', name },
      nats: { url: nats.url },
      sources: [{ eventSource: name, stream, consumer }],
      rules: { source: BENCH_RULES },
      delivery: { maxDeliver: 5, backoff: ['1s'], maxAckPending: 10_000 },
      deadLetter: { stream: 'OUT_DLQ', subject: 'out-dlq' },
      processing: { pullBatch: 1000, lagInterval: '1s' },
      ops: { port: 0, host: '127.0.0.1' },
      logLevel: 'info',
    });

    // Warm the receiver and the NATS server once before anything is timed.
    await rawFetch(receiver.url, requests.slice(0, Math.min(5000, requests.length)), f.concurrency);

    const raw: number[] = [];
    const rawNode: number[] = [];
    const single: number[] = [];
    const singleCpu: number[] = [];
    const chained: number[] = [];
    const chainedPublish: number[] = [];
    for (let r = 0; r < f.repeat; r++) {
      raw.push(await rawFetch(receiver.url, requests, f.concurrency));
      rawNode.push(await rawHttp(receiver.url, requests, f.concurrency));

      // One Pipeline: the stream into the webhook.
      await addConsumer(jsm, 'OUT', `single${r}`);
      let before = await received(receiver.url);
      const one = startProcessor(dir, `single${r}`, {
        ...base('shop', 'OUT', `single${r}`),
        outputs: [{ name: 'notify', sink: webhook }],
      });
      running.push(one);
      const t0 = await one.processing;
      const cpu0 = cpuSeconds(one.child.pid!);
      await drained(jsm, 'OUT', `single${r}`);
      const ms = performance.now() - t0;
      singleCpu.push(((cpuSeconds(one.child.pid!) - cpu0) * 1e6) / f.events);
      single.push((f.events / ms) * 1000);
      if ((await received(receiver.url)) - before < f.events) throw new Error('the receiver missed events');
      await stop(one);

      // Two Pipelines chained through an EventSource's stream, both running at once.
      const chain = `CHAIN${r}`;
      await jsm.streams.add({ name: chain, subjects: [`chain${r}.>`], duplicate_window: 120e9 });
      await addConsumer(jsm, 'OUT', `a${r}`);
      await addConsumer(jsm, chain, `b${r}`);
      before = await received(receiver.url);
      const b = startProcessor(dir, `b${r}`, {
        ...base('alerts', chain, `b${r}`),
        rules: { source: '' },
        outputs: [{ name: 'notify', sink: webhook }],
      });
      const a = startProcessor(dir, `a${r}`, {
        ...base('shop', 'OUT', `a${r}`),
        outputs: [
          {
            name: 'alerts',
            sink: { eventSource: { name: 'alerts' } },
            eventSource: { stream: chain, subjectPrefix: `chain${r}` },
          },
        ],
      });
      running.push(a, b);
      const [ta] = await Promise.all([a.processing, b.processing]);
      await drained(jsm, 'OUT', `a${r}`);
      chainedPublish.push((f.events / (performance.now() - ta)) * 1000);
      await drained(jsm, chain, `b${r}`);
      const chainMs = performance.now() - ta;
      chained.push((f.events / chainMs) * 1000);
      const inChain = (await jsm.streams.info(chain)).state.messages;
      if (inChain !== f.events)
        throw new Error(`the chained stream holds ${inChain} events, not ${f.events}`);
      if ((await received(receiver.url)) - before < f.events)
        throw new Error('the receiver missed chained events');
      await Promise.all([stop(a), stop(b)]);
      await jsm.streams.delete(chain);
      log(
        `run ${r + 1}: raw fetch ${Math.round(raw[r]!)}/s, raw node:http ${Math.round(rawNode[r]!)}/s, ` +
          `webhook ${Math.round(single[r]!)}/s ` +
          `(${singleCpu[r]!.toFixed(1)} ms CPU per 1,000), chained ${Math.round(chained[r]!)}/s ` +
          `(A published at ${Math.round(chainedPublish[r]!)}/s)`,
      );
    }
    const dlq = (await jsm.streams.info('OUT_DLQ')).state.messages;
    const m = {
      raw: Math.round(median(raw)),
      rawNode: Math.round(median(rawNode)),
      webhook: Math.round(median(single)),
      chained: Math.round(median(chained)),
    };
    const result = {
      benchmark: 'outputs',
      events: f.events,
      repeat: f.repeat,
      mode: f.mode,
      concurrency: f.concurrency,
      rawFetchEventsPerSec: m.raw,
      webhookEventsPerSec: m.webhook,
      webhookRatioToRaw: Math.round((m.webhook / m.raw) * 100) / 100,
      rawNodeHttpEventsPerSec: m.rawNode,
      webhookRatioToRawNodeHttp: Math.round((m.webhook / m.rawNode) * 100) / 100,
      webhookCpuMsPer1kEvents: Math.round(median(singleCpu) * 10) / 10,
      chainedEventsPerSec: m.chained,
      chainedRatioToWebhook: Math.round((m.chained / m.webhook) * 100) / 100,
      chainedPublishEventsPerSec: Math.round(median(chainedPublish)),
      runs: {
        raw: raw.map(Math.round),
        rawNodeHttp: rawNode.map(Math.round),
        webhook: single.map(Math.round),
        chained: chained.map(Math.round),
      },
      deadLettered: dlq,
      cores: (await import('node:os')).availableParallelism(),
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await Promise.all(running.map(stop));
    receiver.child.kill('SIGTERM');
    await nc.close().catch(() => undefined);
    await nats.stop();
  }
}
