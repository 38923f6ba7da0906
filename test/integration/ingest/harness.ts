// Starts ingest in the test process against a real NATS, each test with its own stream, and reads
// the stream back through the same codec the processor uses.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { createLogger, type Logger } from '../../../runtime/common/logger.js';
import { fromNatsMessage, type CloudEvent } from '../../../runtime/events/index.js';
import { startIngest } from '../../../runtime/ingest/app.js';
import type { Service } from '../../../runtime/common/service.js';
import { parseIngestConfig, type IngestConfig } from '../../../runtime/ingest/config.js';

export const TOKENS = { shop: 'shop-secret-token-1234', billing: 'billing-secret-token-5678' };

let counter = 0;

/** A logger whose JSON lines are kept in memory, to assert what reaches the logs. */
export function memoryLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      cb();
    },
  });
  return { logger: createLogger({ name: 'ingest-test', level: 'debug', destination }), lines };
}

export interface Harness {
  ingest: Service;
  config: IngestConfig;
  stream: string;
  prefix: string;
  nc: NatsConnection;
  jsm: JetStreamManager;
  logLines: string[];
  httpUrl: string;
  opsUrl: string;
  grpcAddress: string;
  /** Every message in the stream, decoded, with its stored headers. */
  read(): Promise<{ subject: string; event: CloudEvent; headers: Record<string, string> }[]>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  natsUrl: string;
  /** Merged over the defaults (auth on with TOKENS, port 0 everywhere); `auth` is merged field by field. */
  config?: Record<string, unknown>;
  duplicateWindowNs?: number;
  createStream?: boolean;
}

export async function startHarness(opts: HarnessOptions): Promise<Harness> {
  const n = ++counter;
  const id = `${process.pid}_${n}_${Date.now().toString(36)}`;
  const stream = `INGEST_T_${id}`;
  const prefix = `er.test.t${id}`;
  const dir = mkdtempSync(join(tmpdir(), 'eventrunner-ingest-'));
  const tokensFile = join(dir, 'tokens');
  writeFileSync(tokensFile, `# clients\nshop: ${TOKENS.shop}\nbilling: ${TOKENS.billing}\n`);
  const nc = await connect({ servers: opts.natsUrl, maxReconnectAttempts: -1, reconnectTimeWait: 250 });
  const jsm = await jetstreamManager(nc);
  if (opts.createStream !== false) {
    await jsm.streams.add({
      name: stream,
      subjects: [`${prefix}.>`],
      duplicate_window: opts.duplicateWindowNs ?? 120_000_000_000,
    });
  }
  const raw = {
    nats: { url: opts.natsUrl },
    stream: { name: stream, subjectPrefix: prefix },
    http: { port: 0, host: '127.0.0.1' },
    grpc: { port: 0, host: '127.0.0.1' },
    ops: { port: 0, host: '127.0.0.1' },
    conversion: {
      defaultType: 'com.example.raw',
      typeFrom: '/eventType',
      sourceFrom: '/origin',
      defaultSource: '/test',
    },
    drain: { timeoutMs: 5000 },
    ...opts.config,
    auth: { tokensFile, ...(opts.config?.auth as object | undefined) },
  };
  const config = parseIngestConfig(raw, { source: 'test-config', baseDir: dir });
  const { logger, lines } = memoryLogger();
  const stop = new AbortController();
  const ingest = await startIngest(config, logger, stop.signal);
  return {
    ingest,
    config,
    stream,
    prefix,
    nc,
    jsm,
    logLines: lines,
    httpUrl: `http://127.0.0.1:${ingest.ports.http}/events`,
    opsUrl: `http://127.0.0.1:${ingest.ports.ops}`,
    grpcAddress: `127.0.0.1:${ingest.ports.grpc}`,
    async read() {
      const info = await jsm.streams.info(stream);
      const count = info.state.messages;
      if (count === 0) return [];
      const consumer = await jetstream(nc).consumers.get(stream);
      const out: { subject: string; event: CloudEvent; headers: Record<string, string> }[] = [];
      const batch = await consumer.fetch({ max_messages: count, expires: 5000 });
      for await (const m of batch) {
        const headers: Record<string, string> = {};
        for (const k of m.headers?.keys() ?? []) headers[k] = m.headers!.get(k);
        out.push({
          subject: m.subject,
          event: fromNatsMessage(m.subject, m.headers, m.data, config.conversion),
          headers,
        });
        if (out.length === count) break;
      }
      return out;
    },
    async close() {
      stop.abort();
      await ingest.done;
      await jsm.streams.delete(stream).catch(() => undefined);
      await nc.close();
    },
  };
}

export function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

export async function post(
  url: string,
  body: string | Uint8Array,
  headers: Record<string, string>,
): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const res = await fetch(url, { method: 'POST', body, headers });
  const text = await res.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    parsed = { text };
  }
  return { status: res.status, body: parsed, headers: res.headers };
}
