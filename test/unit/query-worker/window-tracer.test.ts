// The query worker's result spans (runtime/query-worker/tracing.ts) on the real engine and the
// OpenTelemetry SDK (spans kept in its in-memory exporter): which inputs a result names, that
// late inputs and those of the next window are left out, and the bounds.
import { randomBytes } from 'node:crypto';
import { headers as natsHeaders } from '@nats-io/nats-core';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import type { QueryInput } from '../../../runtime/queries/index.js';
import { MAX_EMIT_LINKS, WindowTracer } from '../../../runtime/query-worker/tracing.js';
import { at, compile } from '../queries/helpers.js';

const sql = `SELECT data.country AS country, count(*) AS n FROM orders
  WINDOW TUMBLING (SIZE 1 MINUTE) GROUP BY data.country`;

function setup() {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const query = compile(sql);
  const tracer = new WindowTracer(provider.getTracer('test'), query, 3);
  const state = query.createState();
  let seq = 0;
  /** An input at `s` seconds, traced (sampled or not) or not at all. */
  const input = (s: number, country: string, traced: 'sampled' | 'unsampled' | 'none' = 'sampled') => {
    const traceId = randomBytes(16).toString('hex');
    const spanId = randomBytes(8).toString('hex');
    const h = natsHeaders();
    if (traced !== 'none')
      h.set('traceparent', `00-${traceId}-${spanId}-${traced === 'sampled' ? '01' : '00'}`);
    const i: QueryInput = {
      source: 'orders',
      seq: ++seq,
      event: { id: `e${seq}`, time: at(s), data: { country } },
    };
    return { msg: { headers: h }, input: i, spanId };
  };
  /** Pushes the inputs and ends the spans of what came out. */
  const step = (batch: ReturnType<typeof input>[]) => {
    tracer.inputs(batch);
    const out = state.push(batch.map((b) => b.input));
    tracer.emitting(out).end();
    return out;
  };
  const spans = (): ReadableSpan[] => exporter.getFinishedSpans();
  return { tracer, input, step, spans };
}

const linked = (sp: ReadableSpan) => sp.links.map((l) => l.context.spanId);

describe('query result spans', () => {
  it("names a window's inputs of its key, parent first, and leaves the next window's", () => {
    const { input, step, spans, tracer } = setup();
    const de = [input(1, 'DE'), input(2, 'DE'), input(3, 'DE', 'unsampled'), input(4, 'DE', 'none')];
    const fr = input(5, 'FR');
    step([...de, fr]);
    expect(spans()).toEqual([]);
    // At 61 s the first minute's windows close (DE and FR); the input at 61 s opens the next.
    const nextMinute = input(61, 'DE');
    const out = step([nextMinute]);
    expect(out.results.map((r) => [r.time, r.data.country]).sort()).toEqual([
      [at(60), 'DE'],
      [at(60), 'FR'],
    ]);
    const byId = new Map(spans().map((sp) => [sp.attributes['eventrunner.result.id'], sp]));
    const deResult = out.results.find((r) => r.data.country === 'DE' && r.time === at(60))!;
    const deSpan = byId.get(deResult.id)!;
    expect(deSpan.name).toBe('emit q');
    expect(deSpan.parentSpanContext?.spanId).toBe(de[0]!.spanId);
    expect(linked(deSpan)).toEqual([de[1]!.spanId]);
    expect(deSpan.attributes).toMatchObject({
      'eventrunner.query': 'q',
      'eventrunner.partition': 3,
      'eventrunner.emit.inputs': 2,
      'eventrunner.emit.dropped_inputs': 0,
      'eventrunner.result.time': at(60),
    });
    const frSpan = byId.get(out.results.find((r) => r.data.country === 'FR')!.id)!;
    expect(frSpan.parentSpanContext?.spanId).toBe(fr.spanId);
    expect(linked(frSpan)).toEqual([]);
    // The second minute's DE input waits for its own result.
    expect(tracer.heldContexts).toBe(1);
  });

  it('holds at most MAX_EMIT_LINKS inputs per key and counts the rest', () => {
    const { input, step, spans } = setup();
    const many = Array.from({ length: MAX_EMIT_LINKS + 5 }, (_, i) => input(1 + i * 0.1, 'DE'));
    step(many);
    step([input(200, 'FR')]);
    const [sp] = spans();
    expect(sp!.attributes['eventrunner.emit.inputs']).toBe(MAX_EMIT_LINKS);
    expect(sp!.attributes['eventrunner.emit.dropped_inputs']).toBe(5);
    expect(sp!.links).toHaveLength(MAX_EMIT_LINKS - 1);
  });

  it('lets a late input go: it went into no result', () => {
    const { input, step, spans, tracer } = setup();
    step([input(1, 'DE')]);
    step([input(200, 'DE')]);
    expect(spans()).toHaveLength(1);
    const late = input(2, 'DE');
    const out = step([late]);
    expect(out.late.map((l) => l.seq)).toEqual([late.input.seq]);
    // Only the input at 200 s is held: the late one was let go.
    expect(tracer.heldContexts).toBe(1);
  });
});
