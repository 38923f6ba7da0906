// What receiving one PublishStream event costs ingest before it publishes anything: a grpc-js
// server with ingest's service definition whose handler only counts, measured three ways —
// `raw` (requests left as bytes: HTTP/2, gRPC framing and grpc-js' per-message stream machinery),
// `decode` (+ the protobuf decoding proto-loader installs) and `event` (+ fromProtoEvent: the
// CloudEvent with its JSON data parsed and its attributes checked). The client is a separate
// process that writes the same pre-framed messages as the benchmark's load generator (four
// streams, 100 messages per write); only the server's CPU is counted.
//
//   npx tsx bench/ingest/grpc-receive.ts [--events 200000] [--repeat 3]
//
// Prints one JSON line: CPU microseconds per message of each variant (median of --repeat).
import { spawn } from 'node:child_process';
import http2 from 'node:http2';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  Server,
  ServerCredentials,
  type sendUnaryData,
  type ServerReadableStream,
  type ServiceDefinition,
} from '@grpc/grpc-js';
import { loadIngestProto } from '../../runtime/ingest/proto.js';
import { fromProtoEvent, toProtoEvent, type ProtoCloudEvent } from '../../runtime/ingest/proto-event.js';
import { benchEvent, median } from './payload.js';

const STREAMS = 4;
const PER_WRITE = 100;
const VARIANTS = ['raw', 'decode', 'event'] as const;
type Variant = (typeof VARIANTS)[number];

/** The client process: connects, prints "go", sends `events` messages over STREAMS calls, exits. */
async function client(port: number, events: number): Promise<void> {
  const method = loadIngestProto().service.PublishStream!;
  const encode = method.requestSerialize as (m: unknown) => Buffer;
  const frame = (i: number) => {
    const body = encode(toProtoEvent(benchEvent('receive', i)));
    const prefix = Buffer.alloc(5);
    prefix.writeUInt32BE(body.length, 1);
    return Buffer.concat([prefix, body]);
  };
  const perStream = Math.ceil(events / STREAMS);
  const writes: Buffer[] = [];
  for (let i = 0; i < perStream; i += PER_WRITE) {
    const n = Math.min(PER_WRITE, perStream - i);
    writes.push(Buffer.concat(Array.from({ length: n }, (_, j) => frame(i + j))));
  }
  const session = http2.connect(`http://127.0.0.1:${port}`);
  await new Promise<void>((resolve) => session.once('connect', () => resolve()));
  process.stdout.write('go\n');
  await Promise.all(
    Array.from(
      { length: STREAMS },
      () =>
        new Promise<void>((resolve) => {
          const req = session.request({
            ':method': 'POST',
            ':path': method.path,
            'content-type': 'application/grpc',
            te: 'trailers',
          });
          req.on('data', () => {});
          req.on('close', () => resolve());
          let k = 0;
          const pump = () => {
            while (k < writes.length) {
              if (!req.write(writes[k++]!)) {
                req.once('drain', pump);
                return;
              }
            }
            req.end();
          };
          pump();
        }),
    ),
  );
  session.close();
}

/** Serves one variant, runs a client process against it; the server's CPU µs per message. */
async function measure(variant: Variant, events: number): Promise<number> {
  const { service } = loadIngestProto();
  const definition: ServiceDefinition =
    variant === 'raw'
      ? { ...service, PublishStream: { ...service.PublishStream!, requestDeserialize: (b: Buffer) => b } }
      : service;
  let received = 0;
  const server = new Server();
  server.addService(definition, {
    PublishStream(call: ServerReadableStream<ProtoCloudEvent, unknown>, done: sendUnaryData<unknown>) {
      call.on('data', (m: ProtoCloudEvent) => {
        received++;
        if (variant === 'event') fromProtoEvent(m);
      });
      call.on('end', () =>
        done(null, { accepted: 0, duplicates: 0, rejected: 0, failures: [], failures_truncated: false }),
      );
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(import.meta.url), 'client', String(port), String(events)],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let cpu0: NodeJS.CpuUsage | undefined;
  child.stdout!.on('data', (d: Buffer) => {
    if (cpu0 === undefined && d.toString().includes('go')) cpu0 = process.cpuUsage();
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  const cpu = process.cpuUsage(cpu0);
  server.forceShutdown();
  if (code !== 0 || cpu0 === undefined) throw new Error(`client exited ${code}`);
  if (received < events) throw new Error(`${variant}: ${received} of ${events} messages received`);
  return (cpu.user + cpu.system) / received;
}

if (process.argv[2] === 'client') {
  await client(Number(process.argv[3]), Number(process.argv[4]));
} else {
  const { values } = parseArgs({
    options: { events: { type: 'string', default: '200000' }, repeat: { type: 'string', default: '3' } },
  });
  const events = Number(values.events);
  const runs: Record<Variant, number[]> = { raw: [], decode: [], event: [] };
  for (let r = 0; r < Number(values.repeat); r++) {
    for (const v of VARIANTS) runs[v].push(await measure(v, events));
  }
  const perMessage = Object.fromEntries(VARIANTS.map((v) => [v, Number(median(runs[v]).toFixed(2))]));
  process.stdout.write(
    JSON.stringify({
      benchmark: 'ingest grpc-receive',
      events,
      cpuMicrosPerMessage: perMessage,
      runs: Object.fromEntries(VARIANTS.map((v) => [v, runs[v].map((x) => Number(x.toFixed(2)))])),
    }) + '\n',
  );
}
