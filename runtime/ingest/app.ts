// The ingest process: connects to NATS, serves HTTP and gRPC ingest plus the operations endpoint,
// and drains on shutdown (stop accepting, finish requests in progress, wait for every outstanding
// JetStream acknowledgement, then drain the NATS connection).
import { readFile } from 'node:fs/promises';
import { connect } from '@nats-io/transport-node';
import { credsAuthenticator, type NatsConnection } from '@nats-io/nats-core';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { Logger } from '../common/logger.js';
import { createRegistry, startOpsServer, type OpsServer } from '../common/ops-server.js';
import { openAuthenticator, tokenAuthenticator, type Authenticator } from './auth.js';
import type { IngestConfig } from './config.js';
import { startGrpcIngest, type GrpcIngestServer } from './grpc-server.js';
import { startHttpIngest, type HttpIngestServer } from './http-server.js';
import { Ingestor } from './ingestor.js';
import { IngestMetrics } from './metrics.js';
import { Publisher } from './publisher.js';
import { RateLimiter } from './rate-limit.js';
import { SchemaRegistry } from './schemas.js';

export interface Ingest {
  /** Bound ports (useful when the config asked for port 0). */
  ports: { http?: number; grpc?: number; ops: number };
  /** Stops accepting and finishes what is in progress; resolves when everything is closed. */
  drain(): Promise<void>;
}

const STREAM_CHECK_CACHE_MS = 1000;

function abortableDelay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

// The first connection is retried here rather than by the client (waitOnFirstConnect), so that a
// SIGTERM while NATS is still unreachable stops the attempts and the process can exit. Once
// connected, the client reconnects by itself for as long as it takes.
async function connectNats(
  config: IngestConfig,
  logger: Logger,
  signal?: AbortSignal,
): Promise<NatsConnection> {
  const creds = config.nats.credentialsFile ? await readFile(config.nats.credentialsFile) : undefined;
  for (let attempt = 0; ; attempt++) {
    if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('aborted');
    try {
      return await connect({
        servers: config.nats.url.split(',').map((s) => s.trim()),
        name: config.nats.name,
        maxReconnectAttempts: -1,
        reconnectTimeWait: 500,
        // Otherwise the client builds an Error (with a stack) per request just in case it fails.
        noAsyncTraces: true,
        ...(creds ? { authenticator: credsAuthenticator(new Uint8Array(creds)) } : {}),
      });
    } catch (err) {
      const delay = Math.min(5000, 250 * 2 ** Math.min(attempt, 5)) * (0.5 + Math.random() / 2);
      // Log the first failure and then every tenth, not every retry.
      if (attempt % 10 === 0)
        logger.warn({ err, attempt: attempt + 1 }, 'Failed to connect to NATS; retrying');
      await abortableDelay(delay, signal);
    }
  }
}

/** Starts ingest. `signal` aborts a start still waiting for NATS. */
export async function startIngest(
  config: IngestConfig,
  logger: Logger,
  signal?: AbortSignal,
): Promise<Ingest> {
  const registry = createRegistry('ingest');
  const auth: Authenticator =
    config.auth.enabled && config.auth.tokensFile
      ? await tokenAuthenticator(config.auth.tokensFile, config.auth.reloadIntervalMs, logger)
      : openAuthenticator();
  if (!config.auth.enabled) logger.warn('Authentication is disabled: any client can publish events');
  const schemas = new SchemaRegistry(config.schemas);
  const limiter = new RateLimiter(config.limits.ratePerSecond, config.limits.burst);

  // Assigned once NATS is connected; the readiness checks read them before that.
  const state: { jsm?: JetStreamManager; publisher?: Publisher } = {};
  let nc: NatsConnection;
  let draining = false;
  let streamCheck: { at: number; problem: string | undefined } | undefined;

  const ops: OpsServer = await startOpsServer({
    port: config.ops.port,
    host: config.ops.host,
    registry,
    readiness: [
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
  });
  logger.info({ port: ops.port }, 'Serving operations endpoint');

  try {
    // URLs may carry user:password; log hosts only.
    const servers = config.nats.url.replace(/\/\/[^@/,]*@/g, '//[redacted]@');
    logger.info({ servers }, 'Connecting to NATS');
    nc = await connectNats(config, logger, signal);
  } catch (err) {
    await ops.close();
    auth.close();
    throw err;
  }
  state.jsm = await jetstreamManager(nc, { checkAPI: false });
  const latency: { observe?: (s: number) => void } = {};
  const pub = new Publisher(nc, {
    stream: config.stream.name,
    subjectPrefix: config.stream.subjectPrefix,
    maxInFlight: config.publish.maxInFlight,
    maxQueued: config.publish.maxQueued,
    timeoutMs: config.publish.timeoutMs,
    observeLatency: (s) => latency.observe?.(s),
  });
  state.publisher = pub;
  const metrics = new IngestMetrics(registry, { inFlight: () => pub.inFlight(), queued: () => pub.queued() });
  latency.observe = (s) => metrics.publishSeconds.observe(s);
  metrics.natsConnected.set(1);
  logger.info({ server: nc.getServer(), stream: config.stream.name }, 'Connected to NATS');

  const conn = nc;
  void (async () => {
    for await (const s of conn.status()) {
      if (s.type === 'disconnect') {
        pub.setConnected(false);
        metrics.natsConnected.set(0);
        logger.warn({ server: s.server }, 'Disconnected from NATS; refusing events until it is back');
      } else if (s.type === 'reconnect') {
        pub.setConnected(true);
        streamCheck = undefined;
        metrics.natsConnected.set(1);
        logger.info({ server: s.server }, 'Reconnected to NATS');
      } else if (s.type === 'error') {
        logger.warn({ err: s.error }, 'NATS connection error');
      }
    }
  })();

  const ingestor = new Ingestor(pub, schemas, limiter, metrics);
  let httpServer: HttpIngestServer | undefined;
  let grpcServer: GrpcIngestServer | undefined;
  const common = {
    maxBodyBytes: config.limits.maxBodyBytes,
    maxBatchEvents: config.limits.maxBatchEvents,
    ingestor,
    auth,
    metrics,
    logger,
  };
  if (config.http.enabled) {
    httpServer = await startHttpIngest({
      ...common,
      host: config.http.host,
      port: config.http.port,
      conversion: config.conversion,
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

  let drained: Promise<void> | undefined;
  return {
    ports: { http: httpServer?.port, grpc: grpcServer?.port, ops: ops.port },
    drain() {
      drained ??= (async () => {
        draining = true;
        const deadline = config.drain.timeoutMs;
        logger.info({ timeoutMs: deadline }, 'Draining ingest');
        await Promise.all([httpServer?.drain(deadline), grpcServer?.drain(deadline)]);
        await Promise.race([pub.idle(), new Promise((r) => setTimeout(r, deadline).unref())]);
        pub.close();
        auth.close();
        await conn
          .drain()
          .catch((err: unknown) => logger.warn({ err }, 'Failed to drain the NATS connection'));
        await ops.close();
        logger.info('Drained ingest');
      })();
      return drained;
    },
  };
}
