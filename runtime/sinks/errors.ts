// Sink errors, split by what the processor must do with the events involved:
//   TransientSinkError — the database could not take the write now (down, overloaded, timeout):
//     nak with backoff and retry; never dead-letter while deliveries remain.
//   RowRejectedError   — this one event can never be written (a typed column that does not convert,
//     a value the server refuses): dead-letter the event, keep the others flowing.
//   SinkConfigError    — the sink itself is wrong (table missing, bad credentials, schema mismatch):
//     every event would fail, so the processor retries like a transient error and reports not ready.
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
  constructor(message: string, options?: { cause?: unknown }) {
    super(SinkErrorCode.Transient, message, options);
    this.name = 'TransientSinkError';
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
