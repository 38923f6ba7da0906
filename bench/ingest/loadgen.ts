// The load generator, run as its own process by bench/ingest/index.ts so it does not share an event
// loop with what it measures. Prints one JSON ModeResult line on stdout.
//   raw          JetStreamClient.publish with a window of concurrent publishes (baseline 1)
//   raw-async    the async publisher ingest uses (runtime/ingest/jetstream-async.ts), without
//                ingest around it (baseline 2)
//   http-single  one structured-mode event per HTTP request
//   plain-single the same against plain-http.ts, a bare node:http server publishing the same way
//   http-batch   application/cloudevents-batch+json requests
//   grpc-stream  client-streaming PublishStream calls
import http from 'node:http';
import http2 from 'node:http2';
import { headers as natsHeaders } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import { toNatsMessage, STRUCTURED_CONTENT_TYPE } from '../../runtime/events/index.js';
import { JetStreamAsyncPublisher } from '../../runtime/ingest/jetstream-async.js';
import { eventHeaders } from '../../runtime/ingest/publish-headers.js';
import { loadIngestProto } from '../../runtime/ingest/proto.js';
import { toProtoEvent } from '../../runtime/ingest/proto-event.js';
import { benchEvent, cpuSecondsOf, percentile, type ModeResult } from './payload.js';

export interface LoadSpec {
  mode: 'raw' | 'raw-async' | 'http-single' | 'plain-single' | 'http-batch' | 'grpc-stream';
  events: number;
  idPrefix: string;
  /** HTTP connections, gRPC streams in parallel, or the raw publish window. */
  concurrency: number;
  batchSize: number;
  streamSize: number;
  natsUrl: string;
  subjectPrefix: string;
  stream: string;
  httpUrl: string;
  grpcAddress: string;
  token: string;
  /** Processes whose CPU time in the timed part is reported: the target and nats-server. */
  targetPid?: number;
  natsPid?: number;
}

type Counter = { errors: number; firstError?: string };

function fail(c: Counter, what: string): void {
  c.errors++;
  c.firstError ??= what;
}

// Each mode prepares its connection and payloads first and returns the timed part: the load
// generator stands in for producers elsewhere, so building their payloads is not measured. The raw
// modes keep serialising (toNatsMessage) inside the timed part, since that is part of publishing.
type Runner = () => Promise<void>;

async function raw(spec: LoadSpec, lat: number[], c: Counter): Promise<Runner> {
  // The same client options as ingest's connection (runtime/ingest/app.ts).
  const nc = await connect({ servers: spec.natsUrl, noAsyncTraces: true });
  const js = jetstream(nc, { timeout: 30_000 });
  const asyncPublisher = new JetStreamAsyncPublisher(nc, 30_000);
  const events = Array.from({ length: spec.events }, (_, i) => benchEvent(spec.idPrefix, i));
  let next = 0;
  const worker = async () => {
    while (next < spec.events) {
      const m = toNatsMessage(events[next++]!, spec.subjectPrefix);
      const t = performance.now();
      try {
        if (spec.mode === 'raw-async') {
          // Exactly what ingest's publisher sends: the same headers, built the same way.
          await asyncPublisher.publish(m.subject, m.body, eventHeaders(m.msgId, spec.stream));
        } else {
          const h = natsHeaders();
          h.set('Content-Type', STRUCTURED_CONTENT_TYPE);
          await js.publish(m.subject, m.body, {
            msgID: m.msgId,
            headers: h,
            expect: { streamName: spec.stream },
          });
        }
        lat.push(performance.now() - t);
      } catch (err) {
        fail(c, (err as Error).message);
      }
    }
  };
  return async () => {
    await Promise.all(Array.from({ length: spec.concurrency }, worker));
    asyncPublisher.close();
    await nc.drain();
  };
}

function httpPost(agent: http.Agent, url: URL, body: string, contentType: string, token: string) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = http.request(
      {
        agent,
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': contentType,
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString() }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function httpMode(spec: LoadSpec, lat: number[], c: Counter): Promise<Runner> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: spec.concurrency });
  const url = new URL(spec.httpUrl);
  const batch = spec.mode === 'http-batch';
  const per = batch ? spec.batchSize : 1;
  const ct = batch ? 'application/cloudevents-batch+json' : 'application/cloudevents+json';
  const bodies: string[] = [];
  for (let start = 0; start < spec.events; start += per) {
    const n = Math.min(per, spec.events - start);
    const events = Array.from({ length: n }, (_, i) => benchEvent(spec.idPrefix, start + i));
    bodies.push(JSON.stringify(batch ? events : events[0]));
  }
  let next = 0;
  const worker = async () => {
    while (next < bodies.length) {
      const body = bodies[next++]!;
      const t = performance.now();
      try {
        const r = await httpPost(agent, url, body, ct, spec.token);
        lat.push(performance.now() - t);
        if (r.status !== 200 && r.status !== 202) fail(c, `HTTP ${r.status}: ${r.body.slice(0, 300)}`);
      } catch (err) {
        fail(c, (err as Error).message);
      }
    }
  };
  return async () => {
    await Promise.all(Array.from({ length: spec.concurrency }, worker));
    agent.destroy();
  };
}

// The events go out as gRPC length-prefixed messages framed before the clock starts, as the HTTP
// modes send bodies serialised beforehand: the load generator stands in for producers, whose
// encoding is theirs. The calls are made on node:http2 directly and each write carries
// `batchSize` framed messages (the HTTP batch modes send as many per request), so the generator's
// own cost per event is a copy, as for HTTP, rather than grpc-js' per-message call machinery: on
// two shared cores a generator that spends 3× more per event than the HTTP one caps the ratio
// without saying anything about ingest. On the wire it is what any gRPC client sends (DATA frames
// of length-prefixed messages); the server cannot tell how the client batched its writes. Each
// event's write time is kept, for its latency to being stored (storedLatency).
async function grpcMode(spec: LoadSpec, lat: number[], c: Counter, sentAt: Float64Array): Promise<Runner> {
  const method = loadIngestProto().service.PublishStream!;
  const decode = method.responseDeserialize as (b: Buffer) => { accepted: number; rejected: number };
  const encode = method.requestSerialize as (m: unknown) => Buffer;
  const session = http2.connect(`http://${spec.grpcAddress}`);
  await new Promise<void>((resolve, reject) => {
    session.once('connect', () => resolve());
    session.once('error', reject);
  });
  session.on('error', (err) => fail(c, `http2 session: ${err.message}`));
  // Per call (`streamSize` events), its writes: `batchSize` framed messages each.
  const frame = (i: number) => {
    const body = encode(toProtoEvent(benchEvent(spec.idPrefix, i)));
    const prefix = Buffer.alloc(5); // byte 0: not compressed; then the length
    prefix.writeUInt32BE(body.length, 1);
    return Buffer.concat([prefix, body]);
  };
  const calls: { first: number; n: number; writes: { from: number; to: number; bytes: Buffer }[] }[] = [];
  for (let first = 0; first < spec.events; first += spec.streamSize) {
    const n = Math.min(spec.streamSize, spec.events - first);
    const writes = [];
    for (let from = first; from < first + n; from += spec.batchSize) {
      const to = Math.min(from + spec.batchSize, first + n);
      writes.push({
        from,
        to,
        bytes: Buffer.concat(Array.from({ length: to - from }, (_, j) => frame(from + j))),
      });
    }
    calls.push({ first, n, writes });
  }
  const origin = performance.timeOrigin;
  let next = 0;
  const call = ({ n, writes }: (typeof calls)[number]) =>
    new Promise<void>((resolve) => {
      const t = performance.now();
      const req = session.request({
        ':method': 'POST',
        ':path': method.path,
        'content-type': 'application/grpc',
        te: 'trailers',
        authorization: `Bearer ${spec.token}`,
      });
      const body: Buffer[] = [];
      let status: string | undefined;
      let message = '';
      req.on('response', (h) => {
        if (h['grpc-status'] !== undefined) status = String(h['grpc-status']); // trailers-only answer
        message = String(h['grpc-message'] ?? '');
      });
      req.on('trailers', (h) => {
        status = String(h['grpc-status']);
        message = String(h['grpc-message'] ?? '');
      });
      req.on('data', (d: Buffer) => body.push(d));
      req.on('error', (err) => fail(c, err.message));
      req.on('close', () => {
        lat.push(performance.now() - t);
        if (status !== '0') fail(c, `grpc-status ${status}: ${decodeURIComponent(message)}`);
        else {
          const res = decode(Buffer.concat(body).subarray(5));
          if (res.rejected > 0 || res.accepted !== n) fail(c, `stream: ${JSON.stringify(res)}`);
        }
        resolve();
      });
      let k = 0;
      const pump = () => {
        while (k < writes.length) {
          const w = writes[k++]!;
          sentAt.fill(origin + performance.now(), w.from, w.to);
          if (!req.write(w.bytes)) {
            req.once('drain', pump);
            return;
          }
        }
        req.end();
      };
      pump();
    });
  const worker = async () => {
    while (next < calls.length) await call(calls[next++]!);
  };
  return async () => {
    await Promise.all(Array.from({ length: spec.concurrency }, worker));
    session.close();
  };
}

/**
 * Per event: written by the client → stored by JetStream (the message's stream timestamp; the
 * acknowledgement goes back to ingest right after). Read back from the stream once the timed part
 * is over. A PublishStream answers once per call, so this is the only per-event latency a client
 * of it can have; the per-call latency is the p50/p99 of the stream calls.
 */
async function storedLatency(spec: LoadSpec, sentAt: Float64Array): Promise<number[]> {
  const nc = await connect({ servers: spec.natsUrl, noAsyncTraces: true });
  try {
    const consumer = await jetstream(nc).consumers.get(spec.stream);
    const messages = await consumer.consume();
    const out: number[] = [];
    for await (const m of messages) {
      const id = m.headers?.get('Nats-Msg-Id') ?? '';
      const i = Number(id.slice(id.lastIndexOf('-') + 1));
      out.push(m.info.timestampNanos / 1e6 - sentAt[i]!);
      if (out.length === spec.events) break;
    }
    return out;
  } finally {
    await nc.close();
  }
}

async function runLoad(spec: LoadSpec): Promise<ModeResult> {
  const lat: number[] = [];
  const c: Counter = { errors: 0 };
  const sentAt = new Float64Array(spec.mode === 'grpc-stream' ? spec.events : 0);
  const run =
    spec.mode === 'raw' || spec.mode === 'raw-async'
      ? await raw(spec, lat, c)
      : spec.mode === 'grpc-stream'
        ? await grpcMode(spec, lat, c, sentAt)
        : await httpMode(spec, lat, c);
  // The servers' CPU is read here, around the timed part only: what comes after it (reading the
  // stream back for gRPC's per-event latency) costs nats-server as much again as storing did.
  const target0 = cpuSecondsOf(spec.targetPid);
  const nats0 = cpuSecondsOf(spec.natsPid);
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  await run();
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const targetCpuSeconds = cpuSecondsOf(spec.targetPid) - target0;
  const natsCpuSeconds = cpuSecondsOf(spec.natsPid) - nats0;
  const perEvent =
    spec.mode === 'grpc-stream' && c.errors === 0 ? await storedLatency(spec, sentAt) : undefined;
  return {
    mode: spec.mode,
    events: spec.events,
    seconds,
    eventsPerSecond: spec.events / seconds,
    p50Ms: percentile(lat, 50),
    p99Ms: percentile(lat, 99),
    errors: c.errors,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    targetCpuSeconds,
    natsCpuSeconds,
    ...(perEvent ? { eventP50Ms: percentile(perEvent, 50), eventP99Ms: percentile(perEvent, 99) } : {}),
    ...(c.firstError ? { firstError: c.firstError } : {}),
  };
}

// This file is the load generator process's entry: the spec is argv[2] (JSON).
const spec = JSON.parse(process.argv[2] ?? '{}') as LoadSpec;
process.stdout.write(JSON.stringify(await runLoad(spec)) + '\n');
