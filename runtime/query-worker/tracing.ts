// The query worker's spans: one `emit <query>` span per query result, from when the engine
// produced it until its outputs accepted it, tied to the events that went into it. The processor
// puts each input's process-span context into its shuffle message headers (process/shuffle-trace.ts);
// the worker keeps the sampled ones per group key, bounded, and a result of that key takes those
// whose event time falls before the result's time (a window's end): the first becomes the result
// span's parent — so a lone event's trace shows its result — and the others are links.
//
// Bounds and limits: at most MAX_EMIT_LINKS contexts per key and MAX_HELD_CONTEXTS in all are
// held (more are counted on the next result of their key, not kept); an input is linked to the first result of its
// key that covers it, so of overlapping (hopping, sliding) windows only the first names it; the
// contexts live in memory only, so results emitted after a restart link the inputs seen since.
import type { MsgHdrs } from '@nats-io/nats-core';
import {
  ROOT_CONTEXT,
  SpanKind,
  TraceFlags,
  trace,
  type Link,
  type Span,
  type SpanContext,
  type Tracer,
} from '@opentelemetry/api';
import { parseTraceparent, TRACEPARENT, TRACESTATE } from '../common/trace-context.js';
import { parseEventTime } from '../queries/event-time.js';
import type { CompiledQuery, LateEvent, QueryInput, StepOutput } from '../queries/index.js';

/** Contexts one result span names at most (its parent and links); further ones are counted. */
export const MAX_EMIT_LINKS = 128;
/** Input contexts a partition holds at once, over all keys; further inputs are counted only. */
export const MAX_HELD_CONTEXTS = 10_000;

interface Contributor {
  sc: SpanContext;
  /** Event time, ms. */
  t: number;
  /** `<source>:<seq>`: a late input is let go. */
  id: string;
}

interface Pending {
  inputs: Contributor[];
  /** Sampled inputs not held because a bound was reached. */
  dropped: number;
}

/** The spans of a batch of results, ended once their outputs accepted them. */
export interface EmitSpans {
  end(): void;
}

const NO_SPANS: EmitSpans = { end: () => undefined };

export class WindowTracer {
  private readonly pending = new Map<string, Pending>();
  private held = 0;
  /** Window kinds whose result time is the window's exclusive end. */
  private readonly exclusiveEnd: boolean;

  constructor(
    private readonly tracer: Tracer,
    private readonly query: CompiledQuery,
    private readonly partition: number,
  ) {
    this.exclusiveEnd = query.windowKind === 'tumbling' || query.windowKind === 'hopping';
  }

  /** Input contexts held, waiting for their results. */
  get heldContexts(): number {
    return this.held;
  }

  /** Inputs about to be pushed, with their shuffle messages. */
  inputs(batch: Iterable<{ msg: { headers?: MsgHdrs | undefined }; input: QueryInput }>): void {
    for (const { msg, input } of batch) this.input(input, msg.headers);
  }

  /** An input about to be pushed: its sampled context (shuffle headers) is held under its key. */
  input(input: QueryInput, headers: MsgHdrs | undefined): void {
    const traceparent = headers?.get(TRACEPARENT);
    if (!traceparent) return;
    const sc = parseTraceparent(traceparent, headers!.get(TRACESTATE));
    if (!sc || !(sc.traceFlags & TraceFlags.SAMPLED)) return;
    const key = this.query.keyOf(input);
    if (key === undefined) return;
    let p = this.pending.get(key);
    if (this.held >= MAX_HELD_CONTEXTS || (p && p.inputs.length >= MAX_EMIT_LINKS)) {
      if (p) p.dropped++;
      return;
    }
    if (!p) this.pending.set(key, (p = { inputs: [], dropped: 0 }));
    this.held++;
    const time = input.event.time;
    const t = (typeof time === 'string' ? parseEventTime(time) : undefined) ?? input.streamTime ?? 0;
    p.inputs.push({ sc, t, id: `${input.source}:${input.seq}` });
  }

  /**
   * What a step produced: late inputs are let go (they went into no result), and a span starts
   * for each result some held input went into; end() them once the results are written.
   */
  emitting(out: StepOutput): EmitSpans {
    if (out.late.length) this.letGo(out.late);
    let spans: Span[] | undefined;
    for (const r of out.results) {
      const p = this.pending.get(r.key);
      if (!p) continue;
      const end = parseEventTime(r.time) ?? Number.POSITIVE_INFINITY;
      const covered: Contributor[] = [];
      const rest: Contributor[] = [];
      for (const c of p.inputs) (c.t < end || (!this.exclusiveEnd && c.t === end) ? covered : rest).push(c);
      if (covered.length === 0) continue;
      const [first, ...others] = covered;
      const links: Link[] = others.map((c) => ({ context: c.sc }));
      const span = this.tracer.startSpan(
        `emit ${this.query.name}`,
        {
          kind: SpanKind.PRODUCER,
          links,
          attributes: {
            'eventrunner.query': this.query.name,
            'eventrunner.partition': this.partition,
            'eventrunner.result.id': r.id,
            'eventrunner.result.time': r.time,
            'eventrunner.emit.inputs': covered.length,
            'eventrunner.emit.dropped_inputs': p.dropped,
          },
        },
        trace.setSpanContext(ROOT_CONTEXT, first!.sc),
      );
      (spans ??= []).push(span);
      p.dropped = 0;
      this.held -= covered.length;
      if (rest.length) p.inputs = rest;
      else this.pending.delete(r.key);
    }
    if (!spans) return NO_SPANS;
    const started = spans;
    return { end: () => started.forEach((s) => s.end()) };
  }

  private letGo(late: readonly LateEvent[]): void {
    const ids = new Set(late.map((l) => `${l.source}:${l.seq}`));
    for (const [key, p] of this.pending) {
      const kept = p.inputs.filter((c) => !ids.has(c.id));
      if (kept.length === p.inputs.length) continue;
      this.held -= p.inputs.length - kept.length;
      if (kept.length) p.inputs = kept;
      else this.pending.delete(key);
    }
  }
}
