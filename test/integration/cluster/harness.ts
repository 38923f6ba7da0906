// A Pipeline on the clusters as the operator sets it up: the EventSource's stream, the dead-letter
// and advisory streams at 3 replicas, the durable consumer, a Cassandra Sink at replication
// factor 3 written at LOCAL_QUORUM; `eventrunner ingest` and `eventrunner process` as child
// processes; and producers that post events over HTTP in batches and retry every event ingest did
// not acknowledge (same id). The per-id account of a run is in fault-run.ts.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import cassandra from 'cassandra-driver';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { EventSource, Pipeline } from '../../../api/generated/types.js';
import {
  ensureConsumer,
  ensurePipelineStreams,
  ensureStream,
  eventSourceStream,
  pipelineConsumer,
} from '../../../operator/jetstream.js';
import {
  advisoryStreamName,
  consumerName,
  deadLetterStreamName,
  deadLetterSubject,
  streamName,
  subjectPrefix,
} from '../../../operator/names.js';
import type { CassandraClusterEnv, NatsClusterEnv } from '../../stack/env.js';
import { builtCli } from '../../support/built-cli.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const repo = join(here, '../../..');

export const POISON_EVERY = 997;

export interface ChildHandle {
  name: string;
  child: ChildProcess;
  logs: Record<string, unknown>[];
  stderr: string[];
  exited: Promise<number | null>;
  started(): Record<string, unknown> | undefined;
}

/** `eventrunner <command> --config <file>` from source; resolves once its /readyz answers 200. */
export async function startCli(name: string, command: string, config: object): Promise<ChildHandle> {
  const dir = mkdtempSync(join(tmpdir(), `eventrunner-${command}-`));
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify(config, null, 2));
  const child = spawn(process.execPath, [builtCli(), command, '--config', file], {
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
  let code: number | null | undefined;
  void exited.then((c) => (code = c));
  const handle: ChildHandle = {
    name,
    child,
    logs,
    stderr,
    exited,
    started: () => logs.find((l) => typeof l.msg === 'string' && l.msg.endsWith(' started')),
  };
  await until(`${name} ready`, 120_000, async () => {
    if (code !== undefined) throw new Error(`${name} exited (${code}): ${stderr.join('').slice(-2000)}`);
    const ports = handle.started()?.ports as { ops?: number } | undefined;
    if (!ports?.ops) return false;
    const res = await fetch(`http://127.0.0.1:${ports.ops}/readyz`, {
      signal: AbortSignal.timeout(5000),
    }).catch(() => undefined);
    return res?.status === 200;
  });
  return handle;
}

/** SIGTERM and the exit code; a process still running after 60 s is killed and reported. */
export async function stopCli(h: ChildHandle): Promise<number | null> {
  if (h.child.exitCode !== null || h.child.signalCode !== null) return h.child.exitCode;
  h.child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), 60_000)));
  const code = await Promise.race([h.exited, late]);
  clearTimeout(timer);
  if (code === 'late') {
    h.child.kill('SIGKILL');
    throw new Error(`${h.name} did not exit within 60s of SIGTERM: ${JSON.stringify(h.logs.slice(-10))}`);
  }
  return code;
}

/** Polls `check` (real state, never a fixed sleep) until it holds; throws naming `what`. */
export async function until(what: string, timeoutMs: number, check: () => Promise<boolean> | boolean) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Sum of a metric's samples on a process's /metrics. */
export async function metric(h: ChildHandle, name: string): Promise<number> {
  const ports = h.started()?.ports as { ops: number };
  const text = await (
    await fetch(`http://127.0.0.1:${ports.ops}/metrics`, { signal: AbortSignal.timeout(10_000) })
  ).text();
  let total = 0;
  for (const line of text.split('\n'))
    if (line.startsWith(name) && (line[name.length] === ' ' || line[name.length] === '{'))
      total += Number(line.slice(line.lastIndexOf(' ') + 1));
  return total;
}

export interface ClusterPipeline {
  ns: string;
  stream: string;
  consumer: string;
  dlqStream: string;
  keyspace: string;
  nc: NatsConnection;
  jsm: JetStreamManager;
  cql: cassandra.Client;
  ingest: ChildHandle;
  processor: ChildHandle;
  ingestUrl: string;
  close(): Promise<void>;
}

/** Builds the Pipeline's JetStream state through the operator's own builders, then starts the pods. */
export interface PipelineOptions {
  /** Replicas of the streams (3 on the cluster). */
  replicas?: number;
  replicationFactor?: number;
  consistency?: 'LOCAL_QUORUM' | 'LOCAL_ONE' | 'ONE' | 'QUORUM';
  /** Files holding the Cassandra user and password, for a server with authentication. */
  credentials?: { usernameFile: string; passwordFile: string };
  delivery?: { maxDeliver: number; backoff: string[]; ackWait: string };
}

export async function startClusterPipeline(
  nats: Pick<NatsClusterEnv, 'url'>,
  cass: Pick<CassandraClusterEnv, 'contactPoints' | 'localDataCenter'> & {
    username?: string;
    password?: string;
  },
  tag: string,
  opts: PipelineOptions = {},
): Promise<ClusterPipeline> {
  const replicas = opts.replicas ?? 3;
  const delivery = opts.delivery ?? { maxDeliver: 100, backoff: ['500ms', '1s', '2s'], ackWait: '30s' };
  const ns = `${tag}${Math.random().toString(36).slice(2, 7)}`;
  const es = {
    metadata: { name: 'shop', namespace: ns },
    spec: { stream: { maxAge: '1h', maxBytes: '1Gi', replicas, storage: 'file', duplicateWindow: '2m' } },
  } as EventSource;
  const pl = {
    metadata: { name: 'orders', namespace: ns },
    spec: {
      sources: [{ eventSource: 'shop' }],
      delivery: { ...delivery, maxAckPending: 2000 },
      deadLetter: { maxAge: '1h', maxBytes: '256Mi', deletionPolicy: 'Delete' },
    },
  } as Pipeline;
  // Pings often, like the pods' clients: a paused node is left within seconds, not minutes.
  const nc = await connect({
    servers: nats.url.split(','),
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    pingInterval: 2000,
    maxPingOut: 2,
  });
  const jsm = await jetstreamManager(nc);
  await ensureStream(jsm, eventSourceStream(es));
  await ensureConsumer(jsm, streamName(ns, 'shop'), pipelineConsumer(pl, { eventSource: 'shop' }));
  await ensurePipelineStreams(jsm, pl, replicas);
  const keyspace = `cl_${ns}`;
  const cql = new cassandra.Client({
    contactPoints: cass.contactPoints,
    localDataCenter: cass.localDataCenter,
    protocolOptions: { port: Number(cass.contactPoints[0]!.split(':')[1]) },
    ...(cass.username ? { credentials: { username: cass.username, password: cass.password ?? '' } } : {}),
    queryOptions: { consistency: cassandra.types.consistencies.localQuorum },
    // The test's own reads (the account's table scan) wait for busy nodes rather than fail.
    socketOptions: { readTimeout: 60_000 },
  });
  await cql.connect();

  const ingest = await startCli('ingest', 'ingest', {
    nats: { url: nats.url, name: `ingest ${ns}` },
    stream: { name: streamName(ns, 'shop'), subjectPrefix: subjectPrefix(ns, 'shop') },
    http: { port: 0, host: '127.0.0.1' },
    grpc: { enabled: false },
    ops: { port: 0, host: '127.0.0.1' },
    auth: { enabled: false },
    publish: { timeoutMs: 3000 },
    logLevel: 'info',
  });
  const processor = await startCli('processor', 'process', {
    pipeline: { namespace: ns, name: 'orders' },
    nats: { url: nats.url, name: `processor ${ns}` },
    sources: [{ eventSource: 'shop', stream: streamName(ns, 'shop'), consumer: consumerName(ns, 'orders') }],
    rules: {
      source: `rule Poison "flagged events are dead-lettered" { when event.data.poison == true then DeadLetter("poison"); }`,
    },
    outputs: [
      {
        name: 'store',
        sink: {
          scylla: {
            contactPoints: cass.contactPoints,
            localDataCenter: cass.localDataCenter,
            keyspace,
            table: 'orders',
            consistency: opts.consistency ?? 'LOCAL_QUORUM',
            manageSchema: true,
            replicationFactor: opts.replicationFactor ?? 3,
            batch: { maxRows: 200, maxDelay: '20ms' },
          },
          columns: [{ name: 'amount', type: 'double', from: '/data/amount' }],
        },
        ...(opts.credentials ? { credentials: opts.credentials } : {}),
      },
    ],
    defaultOutputs: ['store'],
    delivery: { maxDeliver: delivery.maxDeliver, backoff: delivery.backoff, maxAckPending: 2000 },
    deadLetter: { stream: deadLetterStreamName(ns, 'orders'), subject: deadLetterSubject(ns, 'orders') },
    advisories: { stream: advisoryStreamName(ns, 'orders'), consumer: consumerName(ns, 'orders') },
    ops: { port: 0, host: '127.0.0.1' },
    shutdownGracePeriod: '20s',
    logLevel: 'info',
  });
  const ports = ingest.started()!.ports as { http: number };
  return {
    ns,
    stream: streamName(ns, 'shop'),
    consumer: consumerName(ns, 'orders'),
    dlqStream: deadLetterStreamName(ns, 'orders'),
    keyspace,
    nc,
    jsm,
    cql,
    ingest,
    processor,
    ingestUrl: `http://127.0.0.1:${ports.http}/events`,
    async close() {
      const codes = await Promise.all([stopCli(processor), stopCli(ingest)]);
      await cql.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`).catch(() => undefined);
      await cql.shutdown();
      for (const s of [
        streamName(ns, 'shop'),
        deadLetterStreamName(ns, 'orders'),
        advisoryStreamName(ns, 'orders'),
      ])
        await jsm.streams.delete(s).catch(() => undefined);
      await nc.close();
      if (codes.some((c) => c !== 0)) throw new Error(`a process exited with ${codes.join(', ')}`);
    },
  };
}

/** One HTTP answer to a batch: when it was sent and answered, and each event's status. */
export interface Answer {
  sentAt: number;
  answeredAt: number;
  status: number;
  accepted: string[];
  refused: number;
}

/**
 * Producers posting `count` events (ids `<run>-<i>`, every POISON_EVERY-th flagged poison) in
 * batches; an event not acknowledged (refused, or its request failed) is posted again with its id
 * until ingest acknowledges it. `progress()` tells how far it got; `done` resolves when all are in.
 */
export function produce(
  url: string,
  run: string,
  count: number,
  opts: {
    batch?: number;
    concurrency?: number;
    ids?: () => Iterable<number>;
    /** Start a batch at most this often (a fixed offered rate); as fast as answered otherwise. */
    everyMs?: number;
  } = {},
) {
  let nextAt = Date.now();
  const batchSize = opts.batch ?? 500;
  const queue: number[] = [...(opts.ids?.() ?? Array.from({ length: count }, (_, i) => i))];
  const accepted = new Set<string>();
  const answers: Answer[] = [];
  let failedRequests = 0;
  const event = (i: number) => ({
    specversion: '1.0',
    id: `${run}-${i}`,
    source: '/cluster',
    type: 'com.shop.order.created',
    datacontenttype: 'application/json',
    data: { amount: i, ...(i % POISON_EVERY === 0 ? { poison: true } : {}) },
  });
  const worker = async () => {
    for (;;) {
      const batch = queue.splice(0, batchSize);
      if (batch.length === 0) {
        if (accepted.size >= count) return;
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      if (opts.everyMs) {
        const wait = nextAt - Date.now();
        nextAt = Math.max(nextAt, Date.now()) + opts.everyMs;
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
      const sentAt = Date.now();
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/cloudevents-batch+json' },
          body: JSON.stringify(batch.map(event)),
          signal: AbortSignal.timeout(30_000),
        });
        const body = (await res.json()) as { results?: { index: number; status: number }[] };
        const answer: Answer = {
          sentAt,
          answeredAt: Date.now(),
          status: res.status,
          accepted: [],
          refused: 0,
        };
        const ok = new Set<number>();
        for (const r of body.results ?? [])
          if (r.status >= 200 && r.status < 300) {
            ok.add(r.index);
            answer.accepted.push(`${run}-${batch[r.index]}`);
          }
        for (const id of answer.accepted) accepted.add(id);
        const again = batch.filter((_, k) => !ok.has(k));
        answer.refused = again.length;
        answers.push(answer);
        if (again.length) {
          queue.push(...again);
          await new Promise((r) => setTimeout(r, 200));
        }
      } catch {
        // No answer is no acknowledgement: post them again (same ids; the stream drops repeats).
        failedRequests++;
        queue.push(...batch);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  };
  const done = Promise.all(Array.from({ length: opts.concurrency ?? 4 }, worker)).then(() => undefined);
  return {
    accepted,
    answers,
    done,
    progress: () => accepted.size,
    failedRequests: () => failedRequests,
  };
}

/** Waits until the consumer has nothing pending or unacknowledged and the advisory stream is empty. */
export async function settled(p: ClusterPipeline, timeoutMs = 300_000): Promise<void> {
  await until('the pipeline to catch up', timeoutMs, async () => {
    try {
      const c = await p.jsm.consumers.info(p.stream, p.consumer);
      return c.num_pending === 0 && c.num_ack_pending === 0;
    } catch {
      return false;
    }
  });
}

/** The last log lines of the pipeline's processes, for a failed test's report. */
export function lastLogs(p: ClusterPipeline, lines = 25): string {
  return [p.ingest, p.processor]
    .map(
      (h) =>
        `--- ${h.name}\n${h.logs
          .slice(-lines)
          .map((l) => JSON.stringify(l))
          .join('\n')}\n${h.stderr.join('').slice(-2000)}`,
    )
    .join('\n');
}

/** Retries a JetStream call through leader elections (503 "temporarily unavailable", timeouts). */
export async function retried<T>(what: string, fn: () => Promise<T>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`${what}: ${String(err)}`, { cause: err });
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/** After this long with a replica behind, `whole` asks the group's leader to step down. */
const STEP_DOWN_AFTER_MS = 30_000;

/**
 * Waits until the stream and the consumer have leaders and both other replicas are current. A node
 * restarted after SIGKILL can stay behind for minutes when its first catch-up fails (nats-server
 * logs "Expected first catchup entry to be a snapshot and peerstate, will retry" over and over);
 * so after 30 s with a replica behind, the stream's or the consumer's leader is asked to step down,
 * as an operator would (`nats stream cluster step-down`), and the new leader catches it up.
 */
export async function whole(p: ClusterPipeline, timeoutMs = 120_000): Promise<void> {
  const ok = (c: { leader?: string; replicas?: { current: boolean; offline?: boolean }[] } | undefined) =>
    !!c?.leader && c.replicas?.length === 2 && c.replicas.every((r) => r.current && !r.offline);
  let behindSince = Date.now();
  await until('stream and consumer replicas current', timeoutMs, async () => {
    try {
      const s = await p.jsm.streams.info(p.stream);
      const c = await p.jsm.consumers.info(p.stream, p.consumer);
      if (ok(s.cluster) && ok(c.cluster)) return true;
      if (Date.now() - behindSince > STEP_DOWN_AFTER_MS) {
        behindSince = Date.now();
        const subject = !ok(s.cluster)
          ? `$JS.API.STREAM.LEADER.STEPDOWN.${p.stream}`
          : `$JS.API.CONSUMER.LEADER.STEPDOWN.${p.stream}.${p.consumer}`;
        process.stderr.write(`[cluster] a replica is still behind after 30 s: ${subject}\n`);
        await p.nc.request(subject, undefined, { timeout: 5000 });
      }
      return false;
    } catch {
      return false;
    }
  });
}
