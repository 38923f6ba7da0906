// Shared by the processor's end-to-end tests: streams, consumers and the dead-letter stream on the
// stack's NATS, events published as ingest publishes them, `eventrunner process` as a child
// process, and the checks every test makes on the real tables and streams.
import { spawn, type ChildProcess } from 'node:child_process';
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
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { headers as natsHeaders } from '@nats-io/nats-core';
import { toNatsMessage, type CloudEvent } from '../../../runtime/events/index.js';
import { builtCli } from '../../support/built-cli.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const repo = join(here, '../../..');

export interface Names {
  stream: string;
  prefix: string;
  consumer: string;
  dlqStream: string;
  dlqSubject: string;
}

export function names(tag: string): Names {
  const id = `${tag}${Math.random().toString(36).slice(2, 8)}`;
  return {
    stream: `EV_${id}`,
    prefix: `ev.${id}`,
    consumer: `pl_${id}`,
    dlqStream: `DLQ_${id}`,
    dlqSubject: `dlq.${id}`,
  };
}

export async function natsSetup(
  url: string,
  n: Names,
  delivery: { maxDeliver: number; ackWaitMs?: number; maxAckPending?: number },
): Promise<{ nc: NatsConnection; jsm: JetStreamManager }> {
  const nc = await connect({ servers: url });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: n.stream, subjects: [`${n.prefix}.>`], duplicate_window: 120e9 });
  await jsm.streams.add({ name: n.dlqStream, subjects: [n.dlqSubject], duplicate_window: 120e9 });
  await jsm.consumers.add(n.stream, {
    durable_name: n.consumer,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    max_deliver: delivery.maxDeliver,
    ack_wait: (delivery.ackWaitMs ?? 30_000) * 1e6,
    max_ack_pending: delivery.maxAckPending ?? 1000,
  });
  return { nc, jsm };
}

/** Publishes events the way ingest does (structured JSON, Nats-Msg-Id = id); returns stream sequences. */
export async function publish(nc: NatsConnection, prefix: string, events: CloudEvent[]): Promise<number[]> {
  const js = jetstream(nc);
  const seqs: number[] = [];
  for (let i = 0; i < events.length; i += 200) {
    const acks = await Promise.all(
      events.slice(i, i + 200).map((e) => {
        const m = toNatsMessage(e, prefix);
        const h = natsHeaders();
        for (const [k, v] of Object.entries(m.headers)) h.set(k, v);
        return js.publish(m.subject, m.body, { headers: h, msgID: m.msgId });
      }),
    );
    seqs.push(...acks.map((a) => a.seq));
  }
  return seqs;
}

export interface DeadLetterRecord {
  id?: string;
  reason: string;
  rule?: string;
  output?: string;
  subject: string;
  sequence: number;
  /** The original message's Content-Type header, carried into the dead letter. */
  contentType?: string;
}

/** Every message of the dead-letter stream, with its reason headers. */
export async function readDeadLetters(nc: NatsConnection, stream: string): Promise<DeadLetterRecord[]> {
  const jsm = await jetstreamManager(nc);
  const info = await jsm.streams.info(stream);
  const out: DeadLetterRecord[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const m = await jsm.streams.getMessage(stream, { seq });
    if (!m) continue;
    let id: string | undefined;
    try {
      id = (m.json<{ id?: string }>() ?? {}).id;
    } catch {
      id = undefined;
    }
    out.push({
      id,
      reason: m.header.get('eventrunner-reason'),
      rule: m.header.get('eventrunner-rule') || undefined,
      output: m.header.get('eventrunner-output') || undefined,
      subject: m.header.get('eventrunner-original-subject'),
      sequence: Number(m.header.get('eventrunner-original-sequence')),
      contentType: m.header.get('Content-Type') || undefined,
    });
  }
  return out;
}

export function writeConfig(config: object): string {
  const dir = mkdtempSync(join(tmpdir(), 'eventrunner-process-'));
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}

export function secretFiles(values: Record<string, string>): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), 'eventrunner-secret-'));
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(values)) {
    writeFileSync(join(dir, k), `${v}\n`);
    out[k] = join(dir, k);
  }
  return out;
}

export interface ProcessHandle {
  child: ChildProcess;
  logs: Record<string, unknown>[];
  stderr: string[];
  opsPort: () => number | undefined;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
}

/** Starts `eventrunner process --config <file>` and waits until /readyz answers 200. */
export async function startProcess(configFile: string, timeoutMs = 60_000): Promise<ProcessHandle> {
  const child = spawn(process.execPath, [builtCli(), 'process', '--config', configFile], {
    cwd: repo,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  const stderr: string[] = [];
  let buf = '';
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        stderr.push(line);
      }
    }
  });
  child.stderr!.on('data', (d: Buffer) => stderr.push(d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const opsPort = () => logs.find((l) => l.msg === 'Serving operations endpoint')?.port as number | undefined;
  const handle: ProcessHandle = { child, logs, stderr, opsPort, exited };
  let exitCode: number | null | undefined;
  void exited.then((c) => (exitCode = c));
  await waitFor(
    async () => {
      if (exitCode !== undefined) throw new Error(`process exited (${exitCode}): ${stderr.join('')}`);
      const port = opsPort();
      if (!port) return false;
      const res = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(5000) }).catch(
        () => undefined,
      );
      return res?.status === 200;
    },
    timeoutMs,
    'processor ready',
  );
  return handle;
}

export async function metric(p: ProcessHandle, name: string): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${p.opsPort()}/metrics`, { signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  let total = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(name) && (line[name.length] === ' ' || line[name.length] === '{'))
      total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

/** Polls a condition on real state (no fixed sleeps); throws with `what` on timeout. */
export async function waitFor(
  check: () => Promise<boolean> | boolean,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Signals the processor and waits for it to exit; one still running 60s later is killed and reported. */
export async function stopProcess(
  p: ProcessHandle,
  signal: NodeJS.Signals = 'SIGTERM',
): Promise<{ code: number | null; ms: number }> {
  const t = Date.now();
  if (p.child.exitCode !== null || p.child.signalCode !== null) return { code: p.child.exitCode, ms: 0 };
  p.child.kill(signal);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), 60_000)));
  const code = await Promise.race([p.exited, late]);
  clearTimeout(timer);
  if (code === 'late') {
    p.child.kill('SIGKILL');
    const tail = p.logs
      .slice(-15)
      .map((l) => JSON.stringify(l))
      .join('\n');
    throw new Error(
      `the processor did not exit within 60s of ${signal}; last logs:\n${tail}\n${p.stderr.join('').slice(-2000)}`,
    );
  }
  return { code, ms: Date.now() - t };
}
