// The ingest process: connects to NATS, serves HTTP and gRPC ingest plus the operations endpoint,
// and drains on shutdown (stop accepting, finish requests in progress, wait for every outstanding
// JetStream acknowledgement, then drain the NATS connection).
import { readFileSync } from 'node:fs';
import type { NatsConnection } from '@nats-io/nats-core';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { sleep } from '../common/backoff.js';
import { ConfigError } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
import { connectNats } from '../common/nats.js';
import { serveOps, type Service } from '../common/service.js';
import type { Telemetry } from '../common/tracing.js';
import { openAuthenticator, tokenAuthenticator, type Authenticator } from './auth.js';
import type { IngestConfig } from './config.js';
import { startGrpcIngest, type GrpcIngestServer } from './grpc-server.js';
import { startHttpIngest, type HttpIngestServer } from './http-server.js';
import { Ingestor } from './ingestor.js';
import { IngestMetrics } from './metrics.js';
import { Publisher } from './publisher.js';
import { RateLimiter } from './rate-limit.js';
import { asyncApiDocument, openApiDocument, type DescribeInput } from '../schemas/describe.js';
import { loadLiveSchemas } from './schema-reload.js';
import type { SchemaRegistry } from './schemas.js';
import { SuspendState, watchSuspend } from './suspend.js';

const STREAM_CHECK_CACHE_MS = 1000;
/** How often the stream's metadata is read for the EventSource's suspend mark. */
const SUSPEND_CHECK_MS = 2000;

/** What the OpenAPI and AsyncAPI documents say about this ingest. */
function describeInput(config: IngestConfig, registry: SchemaRegistry): DescribeInput {
  const es = config.eventSource;
  return {
    ...(es ? { namespace: es.namespace, name: es.name } : { name: config.stream.name }),
    ...(es?.httpUrl && config.http.enabled ? { httpUrl: es.httpUrl } : {}),
    auth: config.auth.enabled,
    maxBatchEvents: config.limits.maxBatchEvents,
    maxBodyBytes: config.limits.maxBodyBytes,
    stream: {
      name: config.stream.name,
      subjectPrefix: config.stream.subjectPrefix,
    },
    conversion: config.conversion,
    schemas: registry.entries.map((e) => ({
      type: e.type,
      schema: e.schema,
      ...(e.id !== undefined ? { id: e.id } : {}),
      ...(e.version !== undefined ? { version: e.version } : {}),
    })),
  };
}

/** Resolves when the signal aborts. */
function aborted(signal: AbortSignal): Promise<void> {
  return signal.aborted
    ? Promise.resolve()
    : new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

/**
 * Starts ingest: the operations endpoint at once, HTTP and gRPC once NATS is connected. When the
 * signal aborts it drains: stops accepting, finishes requests in progress, waits for every
 * outstanding JetStream acknowledgement (up to drain.timeoutMs), then drains the NATS connection.
 */
export async function startIngest(
  config: IngestConfig,
  logger: Logger,
  signal: AbortSignal,
  telemetry: Telemetry = {},
): Promise<Service> {
  const auth: Authenticator =
    config.auth.enabled && config.auth.tokensFile
      ? await tokenAuthenticator(config.auth.tokensFile, config.auth.reloadIntervalMs, logger)
      : openAuthenticator();
  if (!config.auth.enabled) logger.warn('Authentication is disabled: any client can publish events');
  const schemas = loadLiveSchemas(config.schemas, config.schemaSet, logger, signal);
  const described = new WeakMap<SchemaRegistry, { openapi: string; asyncapi: string }>();
  const describe = () => {
    const registry = schemas.current;
    let docs = described.get(registry);
    if (docs === undefined) {
      const input = describeInput(config, registry);
      docs = {
        openapi: JSON.stringify(openApiDocument(input), null, 2),
        asyncapi: JSON.stringify(asyncApiDocument(input), null, 2),
      };
      described.set(registry, docs);
    }
    return docs;
  };
  const limiter = new RateLimiter(config.limits.ratePerSecond, config.limits.burst);

  // Assigned once NATS is connected; the readiness checks read them before that.
  const state: { jsm?: JetStreamManager; publisher?: Publisher; metrics?: IngestMetrics } = {};
  let draining = false;
  let streamCheck: { at: number; problem: string | undefined } | undefined;

  const { registry, server: ops } = await serveOps(
    'ingest',
    config.ops,
    [
      { name: 'shutdown', check: () => (draining ? 'draining' : undefined) },
      {
        name: 'nats',
        check: () =>
          state.publisher === undefined
            ? 'not connected yet'
            : state.publisher.connected
              ? undefined
              : 'disconnected',
      },
      {
        name: 'stream',
        check: async () => {
          const { jsm, publisher } = state;
          if (jsm === undefined || !publisher?.connected) return 'unknown while NATS is not connected';
          const now = performance.now();
          if (streamCheck && now - streamCheck.at < STREAM_CHECK_CACHE_MS) return streamCheck.problem;
          let problem: string | undefined;
          try {
            await jsm.streams.info(config.stream.name);
          } catch (err) {
            problem = `stream ${config.stream.name}: ${(err as Error).message}`;
          }
          streamCheck = { at: performance.now(), problem };
          return problem;
        },
      },
    ],
    logger,
  );

  let connected: NatsConnection | undefined;
  try {
    connected = await connectNats(config.nats, {
      name: 'eventrunner-ingest',
      log: logger,
      signal,
      status: {
        disconnected: () => {
          state.publisher?.setConnected(false);
          state.metrics?.natsConnected.set(0);
          logger.warn('Refusing events until NATS is back');
        },
        reconnected: () => {
          state.publisher?.setConnected(true);
          state.metrics?.natsConnected.set(1);
          streamCheck = undefined;
        },
      },
    });
  } finally {
    if (!connected) {
      await ops.close();
      auth.close();
    }
  }
  // Stopped before NATS was ever reached: nothing was accepted, nothing to drain.
  if (!connected) return { ports: { ops: ops.port }, done: Promise.resolve(true) };
  const nc = connected;
  state.jsm = await jetstreamManager(nc, { checkAPI: false });
  const latency: { observe?: (s: number) => void } = {};
  const pub = new Publisher(nc, {
    stream: config.stream.name,
    subjectPrefix: config.stream.subjectPrefix,
    maxInFlight: config.publish.maxInFlight,
    maxQueued: config.publish.maxQueued,
    timeoutMs: config.publish.timeoutMs,
    ...(config.nats.inboxPrefix ? { inboxPrefix: config.nats.inboxPrefix } : {}),
    observeLatency: (s) => latency.observe?.(s),
  });
  state.publisher = pub;
  const metrics = new IngestMetrics(registry, { inFlight: () => pub.inFlight(), queued: () => pub.queued() });
  latency.observe = (s) => metrics.publishSeconds.observe(s);
  state.metrics = metrics;
  metrics.natsConnected.set(1);

  const suspend = new SuspendState(
    config.eventSource
      ? `EventSource ${config.eventSource.namespace}/${config.eventSource.name}`
      : 'this ingest',
  );
  watchSuspend(state.jsm, config.stream.name, suspend, SUSPEND_CHECK_MS, logger, signal);
  const ingestor = new Ingestor(
    pub,
    schemas,
    limiter,
    metrics,
    telemetry.tracer ? { tracer: telemetry.tracer, stream: config.stream.name } : undefined,
    suspend,
  );
  let httpServer: HttpIngestServer | undefined;
  let grpcServer: GrpcIngestServer | undefined;
  const tls = config.tls ? readTls(config.tls) : undefined;
  const common = {
    maxBodyBytes: config.limits.maxBodyBytes,
    maxBatchEvents: config.limits.maxBatchEvents,
    ingestor,
    auth,
    metrics,
    logger,
    ...(tls ? { tls } : {}),
  };
  if (config.http.enabled) {
    httpServer = await startHttpIngest({
      ...common,
      host: config.http.host,
      port: config.http.port,
      conversion: config.conversion,
      describe,
    });
    logger.info({ port: httpServer.port }, 'Serving HTTP ingest');
  }
  if (config.grpc.enabled) {
    grpcServer = await startGrpcIngest({
      ...common,
      host: config.grpc.host,
      port: config.grpc.port,
      streamWindow: config.publish.maxInFlight,
    });
    logger.info({ port: grpcServer.port }, 'Serving gRPC ingest');
  }

  const done = (async (): Promise<boolean> => {
    await aborted(signal);
    draining = true;
    const deadline = config.drain.timeoutMs;
    logger.info({ timeoutMs: deadline }, 'Draining ingest');
    await Promise.all([httpServer?.drain(deadline), grpcServer?.drain(deadline)]);
    const timer = new AbortController();
    const inTime = await Promise.race([
      pub.idle().then(() => true),
      sleep(deadline, timer.signal).then(() => false),
    ]);
    timer.abort();
    if (!inTime) logger.warn('Drain timed out before every publish was acknowledged');
    pub.close();
    auth.close();
    await nc.drain().catch((err: unknown) => logger.warn({ err }, 'Failed to drain the NATS connection'));
    await ops.close();
    logger.info('Drained ingest');
    return inTime;
  })();
  return { ports: { http: httpServer?.port, grpc: grpcServer?.port, ops: ops.port }, done };
}

/** The listeners' certificate and key, read once at start (a new certificate rolls the pods). */
function readTls(files: { certFile: string; keyFile: string }): { cert: Buffer; key: Buffer } {
  const read = (field: string, file: string) => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new ConfigError(`tls.${field}: cannot read ${file}: ${(err as Error).message}`);
    }
  };
  return { cert: read('certFile', files.certFile), key: read('keyFile', files.keyFile) };
}
