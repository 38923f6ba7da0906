// The protocol-independent part of accepting events: per-client rate limit, the checks the codec
// cannot do (type usable as subject tokens, per-type JSON Schema), publishing, and metrics. HTTP
// and gRPC parse requests into events and hand them here.
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Tracer } from '@opentelemetry/api';
import { assertSubjectType, EventError, EventErrorCode, type CloudEvent } from '../events/index.js';
import {
  eventTraceHeaders,
  formatTraceparent,
  formatTracestate,
  parseTraceparent,
  TRACEPARENT,
  TRACESTATE,
  type TraceHeaders,
} from '../common/trace-context.js';
import type { IngestMetrics, Protocol } from './metrics.js';
import { IngestRejection, Reason, rejected, type EventOutcome } from './outcome.js';
import type { Publisher } from './publisher.js';
import type { RateLimiter } from './rate-limit.js';
import type { LiveSchemas } from './schema-reload.js';
import type { SuspendState } from './suspend.js';
import { isSchemaViolation } from './schemas.js';

export interface SubmitContext {
  protocol: Protocol;
  /** structured | binary | batch | raw | proto */
  mode: string;
  client: string;
  /** The request's W3C trace headers (HTTP headers, gRPC metadata), when it sent them. */
  trace?: TraceHeaders;
}

/** The tracer and the stream name spans are named after; absent when tracing is off. */
export interface IngestTracing {
  tracer: Tracer;
  stream: string;
}

/** An event parsed from a request, or why it could not be. */
export type Parsed = CloudEvent | EventError | IngestRejection;

export class Ingestor {
  constructor(
    private readonly publisher: Publisher,
    private readonly schemas: LiveSchemas,
    private readonly limiter: RateLimiter,
    private readonly metrics: IngestMetrics,
    private readonly tracing?: IngestTracing,
    private readonly suspend?: SuspendState,
  ) {}

  /**
   * Admits `n` events for a client against its rate limit; throws IngestRejection (429) when over,
   * or (503) while the EventSource is suspended.
   * Called once per request (a batch is admitted whole or not at all).
   */
  admit(ctx: SubmitContext, n: number): void {
    if (this.suspend?.refusal) throw this.suspend.refusal;
    const wait = this.limiter.take(ctx.client, n);
    if (wait > 0) {
      throw new IngestRejection(
        Reason.RateLimited,
        `client ${ctx.client} is over its rate limit; retry in ${Math.ceil(wait)}s`,
        wait,
      );
    }
  }

  /** Publishes every valid event; resolves with one outcome per input, in order. */
  async submit(items: readonly Parsed[], ctx: SubmitContext): Promise<EventOutcome[]> {
    const outcomes = await Promise.all(items.map((item) => this.outcomeOf(item, ctx)));
    // Counted once per request rather than per event: label lookups are not free at these rates.
    let accepted = 0;
    let duplicates = 0;
    let rejectedByReason: Map<string, number> | undefined;
    for (const o of outcomes) {
      if (o.ok) {
        accepted++;
        if (o.duplicate) duplicates++;
      } else {
        rejectedByReason ??= new Map();
        rejectedByReason.set(o.reason, (rejectedByReason.get(o.reason) ?? 0) + 1);
      }
    }
    if (accepted > 0) this.metrics.accept(ctx.protocol, ctx.mode, ctx.client, accepted, duplicates);
    if (rejectedByReason) {
      for (const [reason, n] of rejectedByReason) this.metrics.reject(ctx.protocol, reason, ctx.client, n);
    }
    return outcomes;
  }

  /** One event (gRPC streams submit as events arrive). */
  async submitOne(item: Parsed, ctx: SubmitContext): Promise<EventOutcome> {
    const outcome = await this.outcomeOf(item, ctx);
    if (outcome.ok) this.metrics.accept(ctx.protocol, ctx.mode, ctx.client, 1, outcome.duplicate ? 1 : 0);
    else this.metrics.reject(ctx.protocol, outcome.reason, ctx.client);
    return outcome;
  }

  private outcomeOf(item: Parsed, ctx: SubmitContext): Promise<EventOutcome> | EventOutcome {
    if (item instanceof EventError) {
      return {
        ok: false,
        reason: item.code === EventErrorCode.SchemaViolation ? Reason.Schema : Reason.Invalid,
        message: item.message,
      };
    }
    if (item instanceof IngestRejection) return rejected(item);
    return this.publishChecked(item, ctx);
  }

  /** Records events refused before they were parsed one by one (auth, size, media type). */
  recordRejected(ctx: SubmitContext, reason: Reason, n = 1): void {
    this.metrics.reject(ctx.protocol, reason, ctx.client, n);
  }

  private publishChecked(event: CloudEvent, ctx: SubmitContext): Promise<EventOutcome> | EventOutcome {
    try {
      assertSubjectType(event.type);
      this.schemas.current.check(event);
    } catch (err) {
      if (err instanceof EventError) {
        return {
          ok: false,
          id: event.id,
          reason: err.code === EventErrorCode.SchemaViolation ? Reason.Schema : Reason.Invalid,
          message: err.message,
          ...(isSchemaViolation(err) ? { violation: err.violation } : {}),
        };
      }
      throw err;
    }
    if (this.tracing) return this.publishTraced(event, ctx, this.tracing);
    return this.publisher.publish(event).then(undefined, (err: unknown) => {
      if (err instanceof IngestRejection) return rejected(err, event.id);
      throw err;
    });
  }

  /**
   * Publishes inside a producer span whose parent is what the producer sent: the event's
   * distributed-tracing extension, else the request's headers. The span's context travels in the
   * JetStream headers; the event's extension is set to it only when the producer left it empty
   * (the extension names where the event started, which intermediaries keep).
   */
  private async publishTraced(
    event: CloudEvent,
    ctx: SubmitContext,
    { tracer, stream }: IngestTracing,
  ): Promise<EventOutcome> {
    const from = eventTraceHeaders(event) ?? ctx.trace;
    const parent = from && parseTraceparent(from.traceparent, from.tracestate);
    const span = tracer.startSpan(
      `publish ${stream}`,
      { kind: SpanKind.PRODUCER },
      parent ? trace.setSpanContext(ROOT_CONTEXT, parent) : ROOT_CONTEXT,
    );
    // Attributes only for spans that are sampled: most are not at low ratios.
    if (span.isRecording())
      span.setAttributes({
        'messaging.system': 'nats',
        'messaging.destination.name': stream,
        'messaging.operation.type': 'send',
        'cloudevents.event_id': event.id,
        'cloudevents.event_type': event.type,
        'cloudevents.event_source': event.source,
        'eventrunner.protocol': ctx.protocol,
        'eventrunner.client': ctx.client,
      });
    const sc = span.spanContext();
    const carried: TraceHeaders = { traceparent: formatTraceparent(sc) };
    const state = formatTracestate(sc);
    if (state) carried.tracestate = state;
    const published =
      event[TRACEPARENT] === undefined
        ? { ...event, [TRACEPARENT]: carried.traceparent, ...(state ? { [TRACESTATE]: state } : {}) }
        : event;
    try {
      const accepted = await this.publisher.publish(published, carried);
      span.setAttribute('eventrunner.duplicate', accepted.duplicate);
      return accepted;
    } catch (err) {
      span.setStatus({
        code: SpanStatusCode.ERROR,
        message: err instanceof Error ? err.message : String(err),
      });
      if (err instanceof IngestRejection) {
        span.setAttribute('eventrunner.rejected', err.reason);
        return rejected(err, event.id);
      }
      throw err;
    } finally {
      span.end();
    }
  }
}
