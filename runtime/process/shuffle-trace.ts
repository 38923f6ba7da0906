// The trace context a shuffle message carries: the `traceparent` (and `tracestate`) of the event's
// process span, in the message headers, when that span is sampled. The query worker links the
// spans of the results an input contributed to back to it (runtime/query-worker/tracing.ts).
import { headers as natsHeaders, type MsgHdrs } from '@nats-io/nats-core';
import { TraceFlags } from '@opentelemetry/api';
import { formatTraceparent, formatTracestate, TRACEPARENT, TRACESTATE } from '../common/trace-context.js';
import type { TracedWaiter } from './spans.js';

/** Headers for one shuffle publish of the waiter's event; undefined when it is not traced. */
export function shuffleTraceHeaders(waiter: unknown): MsgHdrs | undefined {
  const sc = (waiter as TracedWaiter).span?.spanContext();
  if (!sc || !(sc.traceFlags & TraceFlags.SAMPLED)) return undefined;
  const h = natsHeaders();
  h.set(TRACEPARENT, formatTraceparent(sc));
  const state = formatTracestate(sc);
  if (state) h.set(TRACESTATE, state);
  return h;
}
