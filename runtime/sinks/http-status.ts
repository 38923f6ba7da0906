// What a webhook's answer means for the event it carried, as the processor's ack discipline needs
// it (DESIGN section 8):
//   2xx                       accepted → ack
//   408, 429, 5xx             transient → nak with the Pipeline's backoff, never sooner than the
//                             answer's Retry-After
//   3xx                       the URL is wrong for every event (a redirect is not followed) →
//                             retried like a transient error, and the processor reports not ready
//   any other 4xx (or 1xx)    poison → dead letter, with the status and the start of the answer
//   no answer (refused, reset, timeout) → transient; a failed TLS handshake → configuration error
// Pure functions, so the table is unit-tested.
import { STATUS_CODES } from 'node:http';
import {
  RowRejectedError,
  SinkConfigError,
  TransientSinkError,
  errorMessage,
  type SinkError,
} from './errors.js';
import { tlsConfigError } from './tls.js';

/** The longest Retry-After honoured; a longer one waits this long (the event is not held meanwhile). */
export const MAX_RETRY_AFTER_MS = 15 * 60_000;
/** How much of an answer's body a dead letter keeps. */
export const EXCERPT_CHARS = 256;

/** What came back for a request. */
export interface HttpAnswer {
  status: number;
  /** The Retry-After header, as sent. */
  retryAfter?: string;
  /** The Location header of a redirect. */
  location?: string;
  /** The start of the body (non-2xx only). */
  excerpt?: string;
}

/**
 * Milliseconds a Retry-After header asks to wait (delay-seconds or an HTTP-date), at most
 * MAX_RETRY_AFTER_MS; undefined when absent or unreadable.
 */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  let ms: number;
  if (/^\d+$/.test(v)) ms = Number(v) * 1000;
  else if (!/^[A-Za-z]{3}, /.test(v))
    return undefined; // an HTTP-date starts with the day's name
  else {
    const at = Date.parse(v);
    if (Number.isNaN(at)) return undefined;
    ms = at - nowMs;
  }
  return Math.min(Math.max(0, ms), MAX_RETRY_AFTER_MS);
}

/** The start of a body, on one line, for a dead letter's reason. */
export function excerptOf(body: string): string {
  const line = body.replace(/\s+/g, ' ').trim();
  return line.length > EXCERPT_CHARS ? `${line.slice(0, EXCERPT_CHARS - 1)}…` : line;
}

function statusText(status: number): string {
  const text = STATUS_CODES[status];
  return text ? `HTTP ${status} ${text}` : `HTTP ${status}`;
}

/** Whether retrying later can change the answer: 408, 429 and 5xx. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status <= 599);
}

/** The outcome of an answer for the events it carried: undefined when accepted. */
export function answerResult(answer: HttpAnswer, nowMs = Date.now()): SinkError | undefined {
  const { status } = answer;
  if (status >= 200 && status <= 299) return undefined;
  const body = answer.excerpt ? `: ${answer.excerpt}` : '';
  if (isRetryableStatus(status)) {
    const retryAfterMs = parseRetryAfter(answer.retryAfter, nowMs);
    const after = retryAfterMs !== undefined ? ` (Retry-After ${Math.ceil(retryAfterMs / 1000)}s)` : '';
    return new TransientSinkError(`${statusText(status)}${after}${body}`, {
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    });
  }
  if (status >= 300 && status <= 399)
    return new SinkConfigError(
      `${statusText(status)}: the endpoint redirects${answer.location ? ` to ${answer.location}` : ''}, ` +
        'and redirects are not followed: set spec.http.url to the final URL',
    );
  return new RowRejectedError(`${statusText(status)}${body}`);
}

/** The outcome of a request that got no answer. */
export function requestFailure(err: unknown, timeoutMs: number): SinkError {
  const tls = tlsConfigError('http', err);
  if (tls) return tls;
  if ((err as { code?: unknown } | null)?.code === 'ETIMEDOUT_REQUEST')
    return new TransientSinkError(`no answer within ${timeoutMs / 1000}s (spec.http.timeout)`, {
      cause: err,
    });
  const code = (err as { code?: unknown } | null)?.code;
  return new TransientSinkError(
    `request failed: ${errorMessage(err)}${typeof code === 'string' && !errorMessage(err).includes(code) ? ` (${code})` : ''}`,
    { cause: err },
  );
}
