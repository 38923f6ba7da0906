// Sink errors, split by what the processor must do with the events involved:
//   TransientSinkError — the database could not take the write now (down, overloaded, timeout):
//     nak with backoff and retry; never dead-letter while deliveries remain.
//   RowRejectedError   — this one event can never be written (a typed column that does not convert,
//     a value the server refuses): dead-letter the event, keep the others flowing.
//   SinkConfigError    — the sink itself is wrong (table missing, bad credentials, schema mismatch):
//     every event would fail, so the processor retries like a transient error and reports not ready.
// A probe of a Sink (what the operator runs) fails with a SinkProbeError instead, whose code says
// which part of the Sink is wrong.
import { EventrunnerError } from '../common/errors.js';

export const SinkErrorCode = {
  Transient: 'SINK_TRANSIENT',
  RowRejected: 'SINK_ROW_REJECTED',
  Config: 'SINK_CONFIG',
} as const;
export type SinkErrorCode = (typeof SinkErrorCode)[keyof typeof SinkErrorCode];

export class SinkError extends EventrunnerError {
  constructor(code: SinkErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'SinkError';
  }
}

export class TransientSinkError extends SinkError {
  /** The earliest retry the destination asked for (an HTTP Retry-After), in milliseconds. */
  readonly retryAfterMs: number | undefined;
  constructor(message: string, options?: { cause?: unknown; retryAfterMs?: number }) {
    super(SinkErrorCode.Transient, message, options);
    this.name = 'TransientSinkError';
    this.retryAfterMs = options?.retryAfterMs;
  }
}

export class RowRejectedError extends SinkError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(SinkErrorCode.RowRejected, message, options);
    this.name = 'RowRejectedError';
  }
}

export class SinkConfigError extends SinkError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(SinkErrorCode.Config, message, options);
    this.name = 'SinkConfigError';
  }
}

/** A failed TLS handshake: the server certificate, the CA bundle, or TLS on one side only. */
export class SinkTlsError extends SinkConfigError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SinkTlsError';
  }
}

export function isSinkTlsError(err: unknown): err is SinkTlsError {
  return err instanceof SinkTlsError;
}

/**
 * Why a probe of a Sink failed, one code per thing the user has to look at. The operator maps each
 * code to the Sink's Ready reason; the codes are stable because users alert on those reasons.
 */
export const SinkProbeErrorCode = {
  /** The spec cannot work as written (one backend, TLS settings that contradict each other). */
  InvalidSpec: 'SINK_INVALID_SPEC',
  /** No connection to the server: refused, timed out, reset, name not resolved, server unavailable. */
  ConnectionFailed: 'SINK_CONNECTION_FAILED',
  /** The TLS handshake failed: the server certificate, the CA bundle, or TLS on one side only. */
  TlsFailed: 'SINK_TLS_FAILED',
  /** The server refused the credentials (unknown user, wrong or missing password, no permission). */
  AuthenticationFailed: 'SINK_AUTHENTICATION_FAILED',
  /** The table (or its keyspace/database) does not exist and manageSchema does not create it. */
  TableNotFound: 'SINK_TABLE_NOT_FOUND',
  /** The table exists, but a column the Sink writes is missing or has another type. */
  SchemaMismatch: 'SINK_SCHEMA_MISMATCH',
  /** The stream of the EventSource an eventSource Sink publishes to does not exist (yet). */
  StreamNotFound: 'SINK_STREAM_NOT_FOUND',
} as const;
export type SinkProbeErrorCode = (typeof SinkProbeErrorCode)[keyof typeof SinkProbeErrorCode];

/** A failed probe of a Sink; `cause` is the driver's (or the classified sink) error. */
export class SinkProbeError extends EventrunnerError {
  declare readonly code: SinkProbeErrorCode;
  constructor(code: SinkProbeErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'SinkProbeError';
  }
}

const probeCodes = new Set<string>(Object.values(SinkProbeErrorCode));

/** True for a SinkProbeError, and when `code` is given, for one with that code. */
export function isSinkProbeError(err: unknown, code?: SinkProbeErrorCode): err is SinkProbeError {
  return (
    err instanceof EventrunnerError && probeCodes.has(err.code) && (code === undefined || err.code === code)
  );
}

export function isTransientSinkError(err: unknown): err is TransientSinkError {
  return err instanceof SinkError && err.code === SinkErrorCode.Transient;
}
export function isRowRejectedError(err: unknown): err is RowRejectedError {
  return err instanceof SinkError && err.code === SinkErrorCode.RowRejected;
}
export function isSinkConfigError(err: unknown): err is SinkConfigError {
  return err instanceof SinkError && err.code === SinkErrorCode.Config;
}

/** The message of any thrown value, for reasons and logs. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
