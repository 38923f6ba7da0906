// The load generator, run as its own process by bench/ingest/index.ts so it does not share an event
// loop with what it measures. Prints one JSON ModeResult line on stdout.
//   raw          JetStreamClient.publish with a window of concurrent publishes (baseline 1)
//   raw-async    the async publisher ingest uses (runtime/ingest/jetstream-async.ts), without
//                ingest around it (baseline 2)
//   http-single  one structured-mode event per HTTP request
//   http-batch   application/cloudevents-batch+json requests
//   grpc-stream  client-streaming PublishStream calls
import http from 'node:http';
import { credentials, Metadata, type Client } from '@grpc/grpc-js';
import { headers as natsHeaders } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import { toNatsMessage, STRUCTURED_CONTENT_TYPE } from '../../runtime/events/index.js';
import { JetStreamAsyncPublisher } from '../../runtime/ingest/jetstream-async.js';
import { loadIngestProto } from '../../runtime/ingest/proto.js';
import { toProtoEvent, type ProtoCloudEvent } from '../../runtime/ingest/proto-event.js';
import { benchEvent, percentile, type ModeResult } from './payload.js';

export interface LoadSpec {
  mode: 'raw' | 'raw-async' | 'http-single' | 'http-batch' | 'grpc-stream';
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
      const h = natsHeaders();
      h.set('Content-Type', STRUCTURED_CONTENT_TYPE);
      const t = performance.now();
      try {
        if (spec.mode === 'raw-async') {
          h.set('Nats-Msg-Id', m.msgId);
          h.set('Nats-Expected-Stream', spec.stream);
          await asyncPublisher.publish(m.subject, m.body, h);
        } else {
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

interface StreamingClient extends Client {
  PublishStream(
    md: Metadata,
    cb: (err: Error | null, res?: { accepted: number; rejected: number }) => void,
  ): {
    write(m: ProtoCloudEvent, cb?: () => void): boolean;
    end(): void;
    once(e: 'drain', f: () => void): void;
  };
}

async function grpcMode(spec: LoadSpec, lat: number[], c: Counter): Promise<Runner> {
  const { Client } = loadIngestProto();
  const client = new Client(spec.grpcAddress, credentials.createInsecure()) as unknown as StreamingClient;
  const md = new Metadata();
  md.set('authorization', `Bearer ${spec.token}`);
  const events = Array.from({ length: spec.events }, (_, i) => toProtoEvent(benchEvent(spec.idPrefix, i)));
  let next = 0;
  const worker = async () => {
    while (next < spec.events) {
      const start = next;
      const n = Math.min(spec.streamSize, spec.events - start);
      next += n;
      const t = performance.now();
      await new Promise<void>((resolve) => {
        const call = client.PublishStream(md, (err, res) => {
          lat.push(performance.now() - t);
          if (err) fail(c, err.message);
          else if (res!.rejected > 0 || res!.accepted !== n) fail(c, `stream: ${JSON.stringify(res)}`);
          resolve();
        });
        let i = 0;
        const pump = () => {
          while (i < n) {
            if (!call.write(events[start + i++]!)) {
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

async function runLoad(spec: LoadSpec): Promise<ModeResult> {
  const lat: number[] = [];
  const c: Counter = { errors: 0 };
  const run =
    spec.mode === 'raw' || spec.mode === 'raw-async'
      ? await raw(spec, lat, c)
      : spec.mode === 'grpc-stream'
        ? await grpcMode(spec, lat, c)
        : await httpMode(spec, lat, c);
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  await run();
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return {
    mode: spec.mode,
    events: spec.events,
    seconds,
    eventsPerSecond: spec.events / seconds,
    p50Ms: percentile(lat, 50),
    p99Ms: percentile(lat, 99),
    errors: c.errors,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    ...(c.firstError ? { firstError: c.firstError } : {}),
  };
}

// This file is the load generator process's entry: the spec is argv[2] (JSON).
const spec = JSON.parse(process.argv[2] ?? '{}') as LoadSpec;
process.stdout.write(JSON.stringify(await runLoad(spec)) + '\n');
