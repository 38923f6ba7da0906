// The processor's span structure, with the SDK's own tracer and in-memory exporter.
import { trace, TraceFlags, type Span } from '@opentelemetry/api';
import {
  AlwaysOnSampler,
  BasicTracerProvider,
  InMemorySpanExporter,
  ParentBasedSampler,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { headers as natsHeaders } from '@nats-io/nats-core';
import { describe, expect, it } from 'vitest';
import {
  MAX_BATCH_LINKS,
  producerContext,
  startBatchSpan,
  startDeadLetterSpan,
  startProcessSpan,
} from '../../../runtime/process/spans.js';

const T1 = '4bf92f3577b34da6a3ce929d0e0e4736';
const T2 = 'a3ce929d0e0e47364bf92f3577b34da6';
const S = '00f067aa0ba902b7';

function setup() {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    sampler: new ParentBasedSampler({ root: new AlwaysOnSampler() }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  return { tracer: provider.getTracer('test'), exporter };
}

describe('processor spans', () => {
  it("takes the producer's context from the message headers before the event's extension", () => {
    const h = natsHeaders();
    h.set('traceparent', `00-${T1}-${S}-01`);
    h.set('tracestate', 'a=b');
    const fromHeader = producerContext({ headers: h }, { traceparent: `00-${T2}-${S}-01` })!;
    expect(fromHeader.traceId).toBe(T1);
    expect(fromHeader.traceState?.serialize()).toBe('a=b');
    expect(producerContext({}, { traceparent: `00-${T2}-${S}-01` })!.traceId).toBe(T2);
    expect(producerContext({ headers: natsHeaders() }, {})).toBeUndefined();
    expect(producerContext({}, undefined)).toBeUndefined();
  });

  it('makes the process span a consumer child of the producer, and the dead letter a child of it', () => {
    const { tracer, exporter } = setup();
    const parent = producerContext({}, { traceparent: `00-${T1}-${S}-01` });
    const process = startProcessSpan(tracer, 'shop', parent, performance.now(), {
      'cloudevents.event_id': 'e1',
    });
    startDeadLetterSpan(tracer, process, 'DLQ', { 'eventrunner.deadletter.cause': 'rule' }).end();
    process.end();
    const [dl, p] = exporter.getFinishedSpans();
    expect(p!.name).toBe('process shop');
    expect(p!.spanContext().traceId).toBe(T1);
    expect(p!.parentSpanContext?.spanId).toBe(S);
    expect(dl!.name).toBe('deadletter DLQ');
    expect(dl!.parentSpanContext?.spanId).toBe(p!.spanContext().spanId);
  });

  it('parents a batch span on its first sampled event and links the others, each once, up to a bound', () => {
    const { tracer, exporter } = setup();
    const spans: Span[] = [];
    for (let i = 0; i < MAX_BATCH_LINKS + 10; i++)
      spans.push(startProcessSpan(tracer, 's', undefined, performance.now(), {}));
    const unsampled = trace.wrapSpanContext({ traceId: T2, spanId: S, traceFlags: TraceFlags.NONE });
    const entries = [unsampled, spans[0]!, spans[0]!, ...spans.slice(1)].map((span) => ({
      waiter: { span },
    }));
    const batch = startBatchSpan(tracer, 'store', entries, { 'eventrunner.batch.rows': entries.length })!;
    batch.end();
    const b = exporter.getFinishedSpans().find((x) => x.name === 'write store')!;
    expect(b.parentSpanContext?.spanId).toBe(spans[0]!.spanContext().spanId);
    expect(b.links).toHaveLength(MAX_BATCH_LINKS);
    expect(b.links[0]!.context.spanId).toBe(spans[1]!.spanContext().spanId);
    expect(b.attributes['eventrunner.batch.sampled_events']).toBe(spans.length + 1);
  });

  it('makes no batch span when none of its events is sampled', () => {
    const { tracer } = setup();
    const unsampled = trace.wrapSpanContext({ traceId: T2, spanId: S, traceFlags: TraceFlags.NONE });
    expect(
      startBatchSpan(tracer, 'store', [{ waiter: { span: unsampled } }, { waiter: {} }], {}),
    ).toBeUndefined();
  });
});
