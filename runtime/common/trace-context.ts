// W3C Trace Context (`traceparent`, `tracestate`): parsed from what producers send (HTTP headers,
// gRPC metadata, the CloudEvents distributed-tracing extension, JetStream headers) and written
// back out. Pure: no tracer, no I/O.
// createTraceState is the API's own TraceState: @opentelemetry/core (and what it loads) stays out
// of every pod's start-up unless tracing is on.
import { TraceFlags, createTraceState, type SpanContext } from '@opentelemetry/api';

/** The header names, lower case as HTTP/2, gRPC metadata and CloudEvents attributes spell them. */
export const TRACEPARENT = 'traceparent';
export const TRACESTATE = 'tracestate';

/** What a producer sent: the raw header values, checked when they are parsed. */
export interface TraceHeaders {
  traceparent?: string | undefined;
  tracestate?: string | undefined;
}

const TRACEPARENT_RE = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);
/** tracestate may carry at most 32 list members; longer values are dropped, not cut. */
const MAX_TRACESTATE = 512;

/**
 * The remote span context a `traceparent` names, or undefined when it is absent or malformed
 * (version ff, all-zero ids, wrong lengths, upper-case hex): a bad header starts a new trace
 * instead of failing the request.
 */
export function parseTraceparent(traceparent: unknown, tracestate?: unknown): SpanContext | undefined {
  if (typeof traceparent !== 'string' || traceparent.length > 512) return undefined;
  const m = TRACEPARENT_RE.exec(traceparent.trim());
  if (!m) return undefined;
  const [, version, traceId, spanId, flags, rest] = m;
  if (version === 'ff' || traceId === ZERO_TRACE || spanId === ZERO_SPAN) return undefined;
  // Version 00 has exactly four fields; later versions may append more, which are ignored.
  if (version === '00' && rest !== undefined) return undefined;
  const sc: SpanContext = {
    traceId: traceId!,
    spanId: spanId!,
    traceFlags: parseInt(flags!, 16) & TraceFlags.SAMPLED,
    isRemote: true,
  };
  if (typeof tracestate === 'string' && tracestate.length > 0 && tracestate.length <= MAX_TRACESTATE) {
    sc.traceState = createTraceState(tracestate.trim());
  }
  return sc;
}

/** The `traceparent` value of a span context (version 00). */
export function formatTraceparent(sc: SpanContext): string {
  const flags = (sc.traceFlags & TraceFlags.SAMPLED).toString(16).padStart(2, '0');
  return `00-${sc.traceId}-${sc.spanId}-${flags}`;
}

/** The `tracestate` value of a span context, or undefined when it carries none. */
export function formatTracestate(sc: SpanContext): string | undefined {
  const s = sc.traceState?.serialize();
  return s ? s : undefined;
}

/** The trace headers of an event's distributed-tracing extension attributes, if it has them. */
export function eventTraceHeaders(event: Readonly<Record<string, unknown>>): TraceHeaders | undefined {
  const traceparent = event[TRACEPARENT];
  if (typeof traceparent !== 'string') return undefined;
  const tracestate = event[TRACESTATE];
  return { traceparent, ...(typeof tracestate === 'string' ? { tracestate } : {}) };
}
