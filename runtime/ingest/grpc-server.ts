// gRPC ingest (eventrunner.ingest.v1.IngestService, api/proto): unary Publish, client-streaming
// PublishStream and unary PublishBatch of io.cloudevents.v1.CloudEvent messages. Like HTTP, a call
// is answered only after JetStream acknowledged or refused its events.
import {
  Metadata,
  Server,
  ServerCredentials,
  status as GrpcStatus,
  type sendUnaryData,
  type ServerReadableStream,
  type ServerUnaryCall,
  type ServiceError,
} from '@grpc/grpc-js';
import { EventError, EventErrorCode } from '../events/index.js';
import type { Logger } from '../common/logger.js';
import type { Authenticator } from './auth.js';
import type { Ingestor, Parsed, SubmitContext } from './ingestor.js';
import type { IngestMetrics } from './metrics.js';
import {
  grpcStatusOf,
  IngestRejection,
  Reason,
  worstReason,
  type EventOutcome,
  type Rejected,
} from './outcome.js';
import { loadIngestProto } from './proto.js';
import { fromProtoEvent, type ProtoCloudEvent } from './proto-event.js';

export interface GrpcIngestOptions {
  host: string;
  port: number;
  maxBodyBytes: number;
  maxBatchEvents: number;
  /** Events of one stream awaiting acknowledgement before the stream is paused. */
  streamWindow: number;
  ingestor: Ingestor;
  auth: Authenticator;
  metrics: IngestMetrics;
  logger: Logger;
  /** Serve gRPC over TLS with this certificate and key (PEM). */
  tls?: { cert: Buffer; key: Buffer };
}

export interface GrpcIngestServer {
  port: number;
  drain(timeoutMs: number): Promise<void>;
}

interface PublishStreamResponse {
  accepted: number;
  duplicates: number;
  rejected: number;
  failures: { index: number; id: string; reason: string; message: string; code: number }[];
  failures_truncated: boolean;
}

const MAX_LISTED_FAILURES = 1000;

function serviceError(code: GrpcStatus, details: string, retryAfterSeconds?: number): Partial<ServiceError> {
  const metadata = new Metadata();
  if (retryAfterSeconds !== undefined)
    metadata.set('retry-after', String(Math.max(1, Math.ceil(retryAfterSeconds))));
  return { code, details, metadata };
}

function rejectionError(
  r: Pick<Rejected, 'reason' | 'message' | 'retryAfterSeconds'>,
): Partial<ServiceError> {
  return serviceError(grpcStatusOf[r.reason], r.message, r.retryAfterSeconds);
}

function parseProto(p: ProtoCloudEvent): Parsed {
  try {
    return fromProtoEvent(p);
  } catch (err) {
    if (err instanceof EventError) return err;
    // A message the decoder let through in a shape we did not expect is still the client's fault.
    return new EventError(EventErrorCode.Malformed, `cannot read the event: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/** Tallies outcomes of a stream or batch into the response message. */
class Tally {
  readonly response: PublishStreamResponse = {
    accepted: 0,
    duplicates: 0,
    rejected: 0,
    failures: [],
    failures_truncated: false,
  };
  private worst: Rejected | undefined;

  add(index: number, o: EventOutcome): void {
    const r = this.response;
    if (o.ok) {
      r.accepted++;
      if (o.duplicate) r.duplicates++;
      return;
    }
    r.rejected++;
    this.worst = worstReason(this.worst ? [this.worst, o] : [o]);
    if (r.failures.length < MAX_LISTED_FAILURES) {
      r.failures.push({
        index,
        id: o.id ?? '',
        reason: o.reason,
        message: o.message,
        code: grpcStatusOf[o.reason],
      });
    } else {
      r.failures_truncated = true;
    }
  }

  finish(callback: sendUnaryData<PublishStreamResponse>): string {
    const r = this.response;
    if (r.accepted === 0 && this.worst !== undefined) {
      const w = this.worst;
      const err = rejectionError({
        ...w,
        message: `${r.rejected} event(s) refused, none accepted; first: ${w.message}`,
      });
      callback(err);
      return GrpcStatus[err.code!];
    }
    callback(null, r);
    return 'OK';
  }
}

export async function startGrpcIngest(opts: GrpcIngestOptions): Promise<GrpcIngestServer> {
  const { ingestor, metrics, logger } = opts;
  const { service } = loadIngestProto();
  let draining = false;

  // Authenticates a call; answers it with an error and returns undefined when it may not proceed.
  function admitCall(
    metadata: Metadata,
    mode: string,
    fail: (err: Partial<ServiceError>) => void,
  ): SubmitContext | undefined {
    const ctx: SubmitContext = { protocol: 'grpc', mode, client: 'unknown' };
    const header = metadata.get('authorization')[0];
    const client = opts.auth.authenticate(typeof header === 'string' ? header : undefined);
    if (client === undefined) {
      ingestor.recordRejected(ctx, Reason.Unauthenticated);
      fail(
        serviceError(
          GrpcStatus.UNAUTHENTICATED,
          'missing or unknown bearer token: send metadata authorization: Bearer <token>',
        ),
      );
      metrics.request('grpc', 'UNAUTHENTICATED');
      return undefined;
    }
    ctx.client = client;
    const [traceparent] = metadata.get('traceparent');
    if (typeof traceparent === 'string') {
      const [tracestate] = metadata.get('tracestate');
      ctx.trace = { traceparent, ...(typeof tracestate === 'string' ? { tracestate } : {}) };
    }
    if (draining) {
      ingestor.recordRejected(ctx, Reason.Draining);
      fail(serviceError(GrpcStatus.UNAVAILABLE, 'ingest is shutting down; retry', 1));
      metrics.request('grpc', 'UNAVAILABLE');
      return undefined;
    }
    return ctx;
  }

  function admitOrOutcome(ctx: SubmitContext, n: number): Rejected | undefined {
    try {
      ingestor.admit(ctx, n);
      return undefined;
    } catch (err) {
      if (err instanceof IngestRejection) {
        return {
          ok: false,
          reason: err.reason,
          message: err.message,
          retryAfterSeconds: err.retryAfterSeconds,
        };
      }
      throw err;
    }
  }

  const handlers = {
    Publish(call: ServerUnaryCall<ProtoCloudEvent, unknown>, callback: sendUnaryData<unknown>) {
      const ctx = admitCall(call.metadata, 'proto', (e) => callback(e));
      if (!ctx) return;
      const item = parseProto(call.request);
      const limited = admitOrOutcome(ctx, 1);
      const done = limited
        ? ingestor.submitOne(
            new IngestRejection(limited.reason, limited.message, limited.retryAfterSeconds),
            ctx,
          )
        : ingestor.submitOne(item, ctx);
      done.then(
        (o) => {
          if (o.ok) {
            callback(null, { id: o.id, duplicate: o.duplicate });
            metrics.request('grpc', 'OK');
          } else {
            const err = rejectionError(o);
            callback(err);
            metrics.request('grpc', GrpcStatus[err.code!]);
          }
        },
        (err: unknown) => {
          logger.error({ err }, 'Failed to handle gRPC Publish');
          callback(serviceError(GrpcStatus.INTERNAL, 'internal error'));
          metrics.request('grpc', 'INTERNAL');
        },
      );
    },

    PublishBatch(
      call: ServerUnaryCall<{ events?: ProtoCloudEvent[] }, unknown>,
      callback: sendUnaryData<PublishStreamResponse>,
    ) {
      const ctx = admitCall(call.metadata, 'proto-batch', (e) => callback(e));
      if (!ctx) return;
      const events = call.request.events ?? [];
      if (events.length > opts.maxBatchEvents) {
        ingestor.recordRejected(ctx, Reason.TooMany, events.length);
        callback(
          serviceError(
            GrpcStatus.RESOURCE_EXHAUSTED,
            `batch has ${events.length} events, over the limit of ${opts.maxBatchEvents} (limits.maxBatchEvents); split it`,
          ),
        );
        metrics.request('grpc', 'RESOURCE_EXHAUSTED');
        return;
      }
      const limited = admitOrOutcome(ctx, events.length);
      const items: Parsed[] = limited
        ? events.map(() => new IngestRejection(limited.reason, limited.message, limited.retryAfterSeconds))
        : events.map(parseProto);
      ingestor.submit(items, ctx).then(
        (outcomes) => {
          const tally = new Tally();
          outcomes.forEach((o, i) => tally.add(i, o));
          metrics.request('grpc', tally.finish(callback));
        },
        (err: unknown) => {
          logger.error({ err }, 'Failed to handle gRPC PublishBatch');
          callback(serviceError(GrpcStatus.INTERNAL, 'internal error'));
          metrics.request('grpc', 'INTERNAL');
        },
      );
    },

    PublishStream(
      call: ServerReadableStream<ProtoCloudEvent, unknown>,
      callback: sendUnaryData<PublishStreamResponse>,
    ) {
      const ctx = admitCall(call.metadata, 'proto-stream', (e) => callback(e));
      if (!ctx) {
        call.resume(); // discard what the client still sends
        return;
      }
      const tally = new Tally();
      let index = 0;
      let pending = 0;
      let ended = false;
      let paused = false;
      let failed = false;
      const maybeFinish = () => {
        if (!ended || pending > 0 || failed) return;
        metrics.request('grpc', tally.finish(callback));
      };
      // Events are published as they arrive, but submitted and settled per turn of the event loop
      // (grpc-js hands them over one at a time): one outcome handler, one metrics update and one
      // check of the window per group instead of per event. The answer is still per event.
      let group: Parsed[] = [];
      let groupStart = 0;
      const submitGroup = () => {
        const items = group;
        const first = groupStart;
        group = [];
        ingestor.submit(items, ctx).then(
          (outcomes) => {
            for (let k = 0; k < outcomes.length; k++) tally.add(first + k, outcomes[k]!);
            pending -= items.length;
            if (paused && pending <= opts.streamWindow / 2) {
              paused = false;
              call.resume();
            }
            maybeFinish();
          },
          (err: unknown) => {
            pending -= items.length;
            if (failed) return;
            failed = true;
            logger.error({ err }, 'Failed to handle gRPC PublishStream');
            callback(serviceError(GrpcStatus.INTERNAL, 'internal error'));
            metrics.request('grpc', 'INTERNAL');
          },
        );
      };
      call.on('data', (p: ProtoCloudEvent) => {
        const i = index++;
        const limited = admitOrOutcome(ctx, 1);
        const item = limited
          ? new IngestRejection(limited.reason, limited.message, limited.retryAfterSeconds)
          : parseProto(p);
        pending++;
        // Backpressure: stop reading from the client while its window of unacknowledged events is full.
        if (pending >= opts.streamWindow && !paused) {
          paused = true;
          call.pause();
        }
        if (group.length === 0) {
          groupStart = i;
          setImmediate(submitGroup);
        }
        group.push(item);
      });
      call.on('end', () => {
        ended = true;
        maybeFinish();
      });
      call.on('error', () => {
        // The client cancelled; events already published stay published.
        failed = true;
      });
    },
  };

  const server = new Server({
    'grpc.max_receive_message_length': opts.maxBodyBytes,
    'grpc.max_send_message_length': 16 * 1024 * 1024,
  });
  server.addService(service, handlers);
  const port = await new Promise<number>((resolve, reject) => {
    const credentials = opts.tls
      ? ServerCredentials.createSsl(null, [{ cert_chain: opts.tls.cert, private_key: opts.tls.key }], false)
      : ServerCredentials.createInsecure();
    server.bindAsync(`${opts.host}:${opts.port}`, credentials, (err, p) => (err ? reject(err) : resolve(p)));
  });

  return {
    port,
    drain(timeoutMs: number): Promise<void> {
      draining = true;
      return new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, timeoutMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
  };
}
