// The protocol-independent part of accepting events: per-client rate limit, the checks the codec
// cannot do (type usable as subject tokens, per-type JSON Schema), publishing, and metrics. HTTP
// and gRPC parse requests into events and hand them here.
import { assertSubjectType, EventError, EventErrorCode, type CloudEvent } from '../events/index.js';
import type { IngestMetrics, Protocol } from './metrics.js';
import { IngestRejection, Reason, rejected, type EventOutcome } from './outcome.js';
import type { Publisher } from './publisher.js';
import type { RateLimiter } from './rate-limit.js';
import type { LiveSchemas } from './schema-reload.js';
import { isSchemaViolation } from './schemas.js';

export interface SubmitContext {
  protocol: Protocol;
  /** structured | binary | batch | raw | proto */
  mode: string;
  client: string;
}

/** An event parsed from a request, or why it could not be. */
export type Parsed = CloudEvent | EventError | IngestRejection;

export class Ingestor {
  constructor(
    private readonly publisher: Publisher,
    private readonly schemas: LiveSchemas,
    private readonly limiter: RateLimiter,
    private readonly metrics: IngestMetrics,
  ) {}

  /**
   * Admits `n` events for a client against its rate limit; throws IngestRejection (429) when over.
   * Called once per request (a batch is admitted whole or not at all).
   */
  admit(ctx: SubmitContext, n: number): void {
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
    const outcomes = await Promise.all(items.map((item) => this.outcomeOf(item)));
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
    const outcome = await this.outcomeOf(item);
    if (outcome.ok) this.metrics.accept(ctx.protocol, ctx.mode, ctx.client, 1, outcome.duplicate ? 1 : 0);
    else this.metrics.reject(ctx.protocol, outcome.reason, ctx.client);
    return outcome;
  }

  private outcomeOf(item: Parsed): Promise<EventOutcome> | EventOutcome {
    if (item instanceof EventError) {
      return {
        ok: false,
        reason: item.code === EventErrorCode.SchemaViolation ? Reason.Schema : Reason.Invalid,
        message: item.message,
      };
    }
    if (item instanceof IngestRejection) return rejected(item);
    return this.publishChecked(item);
  }

  /** Records events refused before they were parsed one by one (auth, size, media type). */
  recordRejected(ctx: SubmitContext, reason: Reason, n = 1): void {
    this.metrics.reject(ctx.protocol, reason, ctx.client, n);
  }

  private publishChecked(event: CloudEvent): Promise<EventOutcome> | EventOutcome {
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
    return this.publisher.publish(event).then(undefined, (err: unknown) => {
      if (err instanceof IngestRejection) return rejected(err, event.id);
      throw err;
    });
  }
}
