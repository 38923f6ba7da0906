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
import { Client, credentials, Metadata } from '@grpc/grpc-js';
import { headers as natsHeaders } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import { toNatsMessage, STRUCTURED_CONTENT_TYPE } from '../../runtime/events/index.js';
import { JetStreamAsyncPublisher } from '../../runtime/ingest/jetstream-async.js';
import { eventHeaders } from '../../runtime/ingest/publish-headers.js';
import { loadIngestProto } from '../../runtime/ingest/proto.js';
import { toProtoEvent } from '../../runtime/ingest/proto-event.js';
import { benchEvent, percentile, type ModeResult } from './payload.js';

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

// The events go out as protobuf bytes encoded before the clock starts, as the HTTP modes send
// bodies serialised beforehand: the load generator stands in for producers, whose encoding is
// theirs. Each event's write time is kept, for its latency to being stored (storedLatency).
async function grpcMode(spec: LoadSpec, lat: number[], c: Counter, sentAt: Float64Array): Promise<Runner> {
  const method = loadIngestProto().service.PublishStream!;
  const client = new Client(spec.grpcAddress, credentials.createInsecure());
  const md = new Metadata();
  md.set('authorization', `Bearer ${spec.token}`);
  const encode = method.requestSerialize as (m: unknown) => Buffer;
  const events = Array.from({ length: spec.events }, (_, i) =>
    encode(toProtoEvent(benchEvent(spec.idPrefix, i))),
  );
  const asIs = (b: Buffer) => b;
  const origin = performance.timeOrigin;
  let next = 0;
  const worker = async () => {
    while (next < spec.events) {
      const start = next;
      const n = Math.min(spec.streamSize, spec.events - start);
      next += n;
      const t = performance.now();
      await new Promise<void>((resolve) => {
        const call = client.makeClientStreamRequest<Buffer, { accepted: number; rejected: number }>(
          method.path,
          asIs,
          method.responseDeserialize as (b: Buffer) => { accepted: number; rejected: number },
          md,
          (err, res) => {
            lat.push(performance.now() - t);
            if (err) fail(c, err.message);
            else if (res!.rejected > 0 || res!.accepted !== n) fail(c, `stream: ${JSON.stringify(res)}`);
            resolve();
          },
        );
        let i = 0;
        const pump = () => {
          while (i < n) {
            const at = start + i++;
            sentAt[at] = origin + performance.now();
            if (!call.write(events[at]!)) {
              call.once('drain', pump);
              return;
            }
          }
          call.end();
        };
        pump();
      });
    }
  };
  return async () => {
    await Promise.all(Array.from({ length: spec.concurrency }, worker));
    client.close();
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
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  await run();
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
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
    ...(perEvent ? { eventP50Ms: percentile(perEvent, 50), eventP99Ms: percentile(perEvent, 99) } : {}),
    ...(c.firstError ? { firstError: c.firstError } : {}),
  };
}

// This file is the load generator process's entry: the spec is argv[2] (JSON).
const spec = JSON.parse(process.argv[2] ?? '{}') as LoadSpec;
process.stdout.write(JSON.stringify(await runLoad(spec)) + '\n');
