// What happened to each event, and how each reason maps to an HTTP status and a gRPC status.
import { status as GrpcStatus } from '@grpc/grpc-js';

export const Reason = {
  Invalid: 'invalid',
  Schema: 'schema',
  TooLarge: 'too_large',
  TooMany: 'too_many_events',
  RateLimited: 'rate_limited',
  Unauthenticated: 'unauthenticated',
  Unavailable: 'unavailable',
  Overloaded: 'overloaded',
  UnsupportedMediaType: 'unsupported_media_type',
  Draining: 'draining',
} as const;
export type Reason = (typeof Reason)[keyof typeof Reason];

export const httpStatusOf: Record<Reason, number> = {
  invalid: 400,
  schema: 400,
  too_large: 413,
  too_many_events: 413,
  rate_limited: 429,
  unauthenticated: 401,
  unavailable: 503,
  overloaded: 503,
  unsupported_media_type: 415,
  draining: 503,
};

export const grpcStatusOf: Record<Reason, GrpcStatus> = {
  invalid: GrpcStatus.INVALID_ARGUMENT,
  schema: GrpcStatus.INVALID_ARGUMENT,
  too_large: GrpcStatus.RESOURCE_EXHAUSTED,
  too_many_events: GrpcStatus.RESOURCE_EXHAUSTED,
  rate_limited: GrpcStatus.RESOURCE_EXHAUSTED,
  unauthenticated: GrpcStatus.UNAUTHENTICATED,
  unavailable: GrpcStatus.UNAVAILABLE,
  overloaded: GrpcStatus.UNAVAILABLE,
  unsupported_media_type: GrpcStatus.INVALID_ARGUMENT,
  draining: GrpcStatus.UNAVAILABLE,
};

/** A refusal with a reason; `retryAfterSeconds` is set when retrying later can succeed. */
export class IngestRejection extends Error {
  readonly code = 'INGEST_REJECTED';
  constructor(
    readonly reason: Reason,
    message: string,
    readonly retryAfterSeconds?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'IngestRejection';
  }
}

export function isIngestRejection(err: unknown): err is IngestRejection {
  return err instanceof IngestRejection;
}

export interface Accepted {
  ok: true;
  id: string;
  /** JetStream already had an event with this id within its duplicate window. */
  duplicate: boolean;
}

export interface Rejected {
  ok: false;
  id?: string;
  reason: Reason;
  message: string;
  retryAfterSeconds?: number;
  /** For reason `schema`: the event type, the JSON pointer into `data`, the failing keyword. */
  violation?: SchemaViolationDetails;
}

export interface SchemaViolationDetails {
  type: string;
  pointer: string;
  keyword: string;
  /** The id of the schema version that refused the data, when it has one. */
  dataschema?: string;
}

export type EventOutcome = Accepted | Rejected;

export function rejected(err: IngestRejection, id?: string): Rejected {
  const r: Rejected = { ok: false, reason: err.reason, message: err.message };
  if (id !== undefined) r.id = id;
  if (err.retryAfterSeconds !== undefined) r.retryAfterSeconds = err.retryAfterSeconds;
  return r;
}

// When a batch fails as a whole the answer is the most actionable status: unavailable outranks
// rate-limited (retry the whole batch later), which outranks invalid (fix the events).
const severity: Record<Reason, number> = {
  unavailable: 6,
  draining: 6,
  overloaded: 5,
  rate_limited: 4,
  too_large: 3,
  too_many_events: 3,
  unauthenticated: 2,
  unsupported_media_type: 1,
  schema: 0,
  invalid: 0,
};

export function worstReason(outcomes: readonly EventOutcome[]): Rejected | undefined {
  let worst: Rejected | undefined;
  for (const o of outcomes) {
    if (!o.ok && (worst === undefined || severity[o.reason] > severity[worst.reason])) worst = o;
  }
  return worst;
}

/** Seconds for Retry-After, or undefined when no outcome can be retried. */
export function retryAfterOf(outcomes: readonly EventOutcome[]): number | undefined {
  let s: number | undefined;
  for (const o of outcomes) {
    if (!o.ok && o.retryAfterSeconds !== undefined) s = Math.max(s ?? 0, o.retryAfterSeconds);
  }
  return s === undefined ? undefined : Math.max(1, Math.ceil(s));
}
