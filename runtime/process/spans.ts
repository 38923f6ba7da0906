// The processor's spans. `process <source>` spans one delivery, from the pull to its ack, nak or
// dead letter; its parent is the producer's context from the JetStream headers (or the event's
// distributed-tracing extension). A sink batch's `write <output>` span is a child of its first
// sampled event's process span (so a lone event's trace is whole) and links the process spans of
// the other events it carries.
// `deadletter <stream>` is a child of the process span. Only built when a tracer is set.
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  trace,
  type Attributes,
  type Link,
  type Span,
  type SpanContext,
  type Tracer,
} from '@opentelemetry/api';
import { eventTraceHeaders, parseTraceparent, TRACEPARENT, TRACESTATE } from '../common/trace-context.js';

/** Links one batch span carries at most; the rest are counted in an attribute. */
export const MAX_BATCH_LINKS = 128;

/** A row's waiter that carries the process span of its event (the processor's deliveries do). */
export interface TracedWaiter {
  readonly span?: Span | undefined;
}

interface HeaderSource {
  headers?: { get(key: string): string } | undefined;
}

/** The producer's context: the message's trace headers, else the event's extension attributes. */
export function producerContext(
  msg: HeaderSource,
  event: Readonly<Record<string, unknown>> | undefined,
): SpanContext | undefined {
  const h = msg.headers;
  const traceparent = h?.get(TRACEPARENT);
  if (traceparent) return parseTraceparent(traceparent, h?.get(TRACESTATE));
  const ext = event && eventTraceHeaders(event);
  return ext ? parseTraceparent(ext.traceparent, ext.tracestate) : undefined;
}

export function startProcessSpan(
  tracer: Tracer,
  source: string,
  parent: SpanContext | undefined,
  startTime: number,
  attributes?: Attributes,
): Span {
  return tracer.startSpan(
    `process ${source}`,
    { kind: SpanKind.CONSUMER, startTime, ...(attributes ? { attributes } : {}) },
    parent ? trace.setSpanContext(ROOT_CONTEXT, parent) : ROOT_CONTEXT,
  );
}

/** Ends a span as failed. */
export function endFailed(span: Span, message: string): void {
  span.setStatus({ code: SpanStatusCode.ERROR, message });
  span.end();
}

/**
 * The span of one sink batch, or undefined when none of its events is sampled. Parent: the first
 * sampled event's process span; links: every other sampled event's, up to MAX_BATCH_LINKS.
 */
export function startBatchSpan(
  tracer: Tracer,
  output: string,
  entries: readonly { readonly waiter: unknown }[],
  attributes: Attributes,
): Span | undefined {
  let parent: SpanContext | undefined;
  const links: Link[] = [];
  let sampled = 0;
  for (const e of entries) {
    const sc = (e.waiter as TracedWaiter).span?.spanContext();
    if (!sc || !(sc.traceFlags & TraceFlags.SAMPLED)) continue;
    sampled++;
    if (!parent) parent = sc;
    // An event delivered twice into one batch (a redelivery) is linked once.
    else if (links.length < MAX_BATCH_LINKS && sc.spanId !== parent.spanId) links.push({ context: sc });
  }
  if (!parent) return undefined;
  return tracer.startSpan(
    `write ${output}`,
    {
      kind: SpanKind.CLIENT,
      links,
      attributes: { ...attributes, 'eventrunner.batch.sampled_events': sampled },
    },
    trace.setSpanContext(ROOT_CONTEXT, parent),
  );
}

export function startDeadLetterSpan(
  tracer: Tracer,
  parent: Span,
  stream: string,
  attributes: Attributes,
): Span {
  return tracer.startSpan(
    `deadletter ${stream}`,
    { kind: SpanKind.PRODUCER, attributes },
    trace.setSpan(ROOT_CONTEXT, parent),
  );
}
