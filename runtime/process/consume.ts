// The pull loop of one source (a durable consumer on one EventSource's stream) and the handling of
// each message: decode → rules → the routed outputs' batchers → ack / nak / dead-letter. Every
// replica runs the same loop on the same durable; JetStream hands each message to one of them.
import type { Consumer, JsMsg, StoredMsg } from '@nats-io/jetstream';
import { SpanStatusCode, type Span, type Tracer } from '@opentelemetry/api';
import type { Logger } from '../common/logger.js';
import { keptForQueries, type CompiledRules } from '../rules/index.js';
import {
  errorMessage,
  type Batcher,
  type RowResult,
  type RowWaiter,
  type SinkEvent,
  yieldToIo,
} from '../sinks/index.js';
import { defaultFastPaths, type FastPaths } from '../internals/fast-paths.js';
import { rawHeaderSearch, type RawHeaderSearch } from '../internals/nats-raw-headers.js';
import { replyReader, type ReplyReader } from '../internals/nats-reply.js';
import type { SourceConfig } from './config.js';
import { decodeMessage } from './decode.js';
import { sleep } from '../common/backoff.js';
import { PULL_EXPIRES_MS } from '../common/nats.js';
import { stopConsuming } from './stop-consuming.js';
import { backoffFor, decide } from './decision.js';
import type { DeadLetter, DeadLetterPublisher } from './deadletter.js';
import type { InFlight } from './inflight.js';
import { MAX_EVENT_TYPES, type HotCounter, type ProcessorMetrics } from './metrics.js';
import { deliveryNumbers, type Replies } from './replies.js';
import type { Shuffle } from './shuffle.js';
import { endFailed, producerContext, startDeadLetterSpan, startProcessSpan } from './spans.js';

export interface SourceLoopDeps {
  source: SourceConfig;
  consumer: Consumer;
  rules: CompiledRules;
  outputs: ReadonlyMap<string, Batcher<unknown>>;
  deadLetter: DeadLetterPublisher;
  /** Acks, naks and terms by reply subject, for messages settled after their sinks answered. */
  replies: Replies;
  /** Reads a message back from the source's stream (null when it is gone), to dead-letter it. */
  readBack: (sequence: number) => Promise<StoredMsg | null>;
  inFlight: InFlight;
  delivery: { maxDeliver: number; backoffMs: readonly number[] };
  pullBatch: number;
  metrics: ProcessorMetrics;
  log: Logger;
  /** The library fast paths the loop may use (runtime/internals); the default FastPaths when unset. */
  fastPaths?: FastPaths;
  /**
   * The consumer's AckWait. A delivery whose outputs have not answered after half of it gets an
   * in-progress ack (+WPI), so a slow destination (a webhook slower than AckWait) is not sent the
   * same event again by a redelivery while the first attempt is still running.
   */
  ackWaitMs?: number;
  /** Queries reading this source: kept events are also published to the shuffle stream. */
  shuffle?: { to: Shuffle; source: string };
  /** Set when tracing is on: each delivery gets a process span (runtime/process/spans.ts). */
  tracing?: { tracer: Tracer; pipeline: string; deadLetterStream: string };
}

type DeadLetterCause = 'decode' | 'rule' | 'sink' | 'max_deliver';

/** Messages handled in a row before pending I/O callbacks get their turn. */
const YIELD_EVERY = 64;

/**
 * Where a message's ack, nak or term goes: its reply subject (runtime/internals/nats-reply.ts), or
 * the message itself, settled with its own methods, when the subject cannot be read.
 */
type SettleTarget = string | JsMsg;

export class SourceLoop {
  // Per-event counters: plain numbers, added to the Prometheus counters when they are scraped.
  private readonly m: {
    eventsIn: HotCounter;
    redeliveries: HotCounter;
    dropped: HotCounter;
    acked: HotCounter;
    routed: Map<string, HotCounter>;
    /** By event type, up to MAX_EVENT_TYPES names. */
    types: Map<string, HotCounter>;
  };
  private readonly replyOf: ReplyReader;
  private readonly rawHeaders: RawHeaderSearch;
  /** Deliveries waiting for their outputs, for the in-progress acks of slow ones. */
  private readonly waiting = new Set<Delivery>();
  private progressTimer: NodeJS.Timeout | undefined;

  constructor(private readonly d: SourceLoopDeps) {
    const fastPaths = d.fastPaths ?? defaultFastPaths();
    this.replyOf = replyReader(fastPaths);
    this.rawHeaders = rawHeaderSearch(fastPaths);
    const label = { source: d.source.eventSource ?? d.source.stream };
    this.m = {
      eventsIn: d.metrics.eventsIn.hot(label),
      redeliveries: d.metrics.redeliveries.hot(label),
      dropped: d.metrics.dropped.hot(label),
      acked: d.metrics.acked.hot(),
      routed: new Map([...d.outputs.keys()].map((o) => [o, d.metrics.routed.hot({ output: o })])),
      types: new Map(),
    };
    // The series exists before the first redelivery, so its rate reads 0, not nothing.
    d.metrics.redeliveries.inc(label, 0);
  }

  /** Pulls until the signal aborts; messages already taken are finished by their handlers. */
  async run(signal: AbortSignal): Promise<void> {
    const { consumer, inFlight, log } = this.d;
    while (!signal.aborted) {
      try {
        const messages = await consumer.consume({ max_messages: this.d.pullBatch, expires: PULL_EXPIRES_MS });
        // Drained, then stopped: what the server already sent still arrives here and is nak'ed.
        const stop = () => void stopConsuming(messages);
        signal.addEventListener('abort', stop, { once: true });
        try {
          let run = 0;
          for await (const m of messages) {
            // Taken from the buffer after shutdown began: hand it straight back for another replica.
            if (signal.aborted || (!inFlight.tryAcquire() && !(await inFlight.acquire(signal)))) {
              m.nak();
              continue;
            }
            this.handle(m);
            // The client hands over a buffered pull batch without touching the event loop; let
            // sink responses in between, so the databases get their next writes while it lasts.
            if (++run === YIELD_EVERY) {
              run = 0;
              await yieldToIo();
            }
          }
        } finally {
          signal.removeEventListener('abort', stop);
        }
      } catch (err) {
        if (signal.aborted) break;
        log.warn({ err: errorMessage(err) }, 'Pull from JetStream failed; retrying');
        await sleep(1000, signal);
      }
    }
  }

  /**
   * Decode and rules, synchronously; the event goes to its outputs' batchers, which keep only the
   * rows they make of it, and a Delivery waits for their answers. The in-flight slot taken for the
   * message is released exactly once, when its fate is settled.
   */
  private handle(m: JsMsg): void {
    const startTime = performance.now();
    this.handleAt(m, startTime);
    // The processor's own share of an event's latency: what follows is the batch wait and the writes.
    this.d.metrics.handleSeconds.record((performance.now() - startTime) / 1000);
  }

  private handleAt(m: JsMsg, startTime: number): void {
    this.m.eventsIn.inc();
    let delivery: Delivery | undefined;
    let span: Span | undefined;
    try {
      const reply = this.replyOf(m);
      const target = reply ?? m;
      // Two numbers from the reply subject; the library's full delivery info only as a fallback.
      const info = (reply !== undefined && deliveryNumbers(reply)) || m.info;
      if (info.deliveryCount > 1) this.m.redeliveries.inc();
      let event;
      try {
        event = decodeMessage(m, this.d.source.stream, this.d.source.conversion, this.rawHeaders);
      } catch (err) {
        if (this.d.tracing) span = this.startSpan(m, undefined, info.deliveryCount, startTime);
        return this.deadLetterThenRelease(m, target, `undecodable: ${errorMessage(err)}`, 'decode', span);
      }
      this.countType(event.type);
      if (this.d.tracing) span = this.startSpan(m, event, info.deliveryCount, startTime);
      const outcome = this.d.rules.evaluate(event);
      span?.setAttribute('eventrunner.rules.outcome', outcome.outcome);
      if (outcome.outcome === 'deadletter')
        return this.deadLetterThenRelease(
          m,
          target,
          outcome.reason ?? 'dead-lettered by the rules',
          'rule',
          span,
          outcome.rule,
        );
      const routes = outcome.routes;
      const shuffle = this.d.shuffle;
      const input = shuffle &&
        keptForQueries(outcome) && {
          source: shuffle.source,
          seq: info.streamSequence,
          streamTime: Math.floor(m.info.timestampNanos / 1e6),
          event: outcome.event as SinkEvent,
        };
      const shuffled = input ? shuffle.to.routes(input) : [];
      if (routes.length === 0 && shuffled.length === 0) {
        m.ack();
        this.m.acked.inc();
        this.m.dropped.inc();
        if (span) {
          span.setAttribute('eventrunner.settled', 'ack');
          span.end();
        }
        return this.d.inFlight.release();
      }
      const routed = outcome.event as SinkEvent;
      // From here on only the reply subject and the delivery numbers are kept, not the message
      // (kept only when its reply subject cannot be read).
      delivery = new Delivery(
        this,
        startTime,
        target,
        info.deliveryCount,
        info.streamSequence,
        info.timestampNanos,
        shuffled.length ? [...routes, ...shuffled.map((r) => `query ${r.query}`)] : routes,
      );
      if (span) {
        span.setAttribute('eventrunner.routes', routes as string[]);
        delivery.span = span;
      }
      this.track(delivery);
      for (let i = 0; i < routes.length; i++) this.d.outputs.get(routes[i]!)!.push(routed, delivery, i);
      if (input && shuffled.length) shuffle.to.publish(input, shuffled, delivery, routes.length);
    } catch (err) {
      // Not expected (rules and sinks report, they do not throw); retry rather than lose the event.
      if (delivery) {
        delivery.abandon();
        this.waiting.delete(delivery);
      }
      if (span) endFailed(span, errorMessage(err));
      this.retryUnexpected(m.info.streamSequence, err, 'Handling', () =>
        m.nak(backoffFor(m.info.deliveryCount, this.d.delivery.backoffMs)),
      );
    }
  }

  /** Every output answered for the message: ack, nak or dead-letter it, then free its slot. */
  settle(d: Delivery, results: readonly RowResult[]): void {
    this.waiting.delete(d);
    try {
      const decision = decide(d.routes, results, {
        count: d.deliveryCount,
        maxDeliver: this.d.delivery.maxDeliver,
        backoffMs: this.d.delivery.backoffMs,
      });
      switch (decision.action) {
        case 'ack':
          this.ack(d.target);
          this.m.acked.inc();
          for (const r of d.routes) this.m.routed.get(r)?.inc();
          this.observeLatency(d);
          if (d.span) {
            d.span.setAttribute('eventrunner.settled', 'ack');
            d.span.end();
          }
          return this.d.inFlight.release();
        case 'nak':
          this.nak(d.target, decision.delayMs);
          this.d.metrics.naked.inc();
          if (d.span) {
            d.span.setAttribute('eventrunner.settled', 'nak');
            d.span.setAttribute('eventrunner.retry_in_ms', decision.delayMs);
            d.span.end();
          }
          return this.d.inFlight.release();
        case 'deadletter':
          void this.deadLetterSettled(d, decision.reason, decision.output).finally(() =>
            this.d.inFlight.release(),
          );
          return;
      }
    } catch (err) {
      if (d.span) endFailed(d.span, errorMessage(err));
      this.retryUnexpected(d.sequence, err, 'Settling', () =>
        this.nak(d.target, backoffFor(d.deliveryCount, this.d.delivery.backoffMs)),
      );
    }
  }

  private countType(type: string): void {
    let c = this.m.types.get(type);
    if (!c) {
      const name = this.m.types.size < MAX_EVENT_TYPES ? type : 'other';
      c = this.m.types.get(name) ?? this.d.metrics.eventsByType.hot({ type: name });
      this.m.types.set(name, c);
    }
    c.inc();
  }

  /** Processing time (pull to ack) and end-to-end time (stored in the stream to ack). */
  private observeLatency(d: Delivery): void {
    const now = performance.now();
    this.d.metrics.processingSeconds.record((now - d.pulledAt) / 1000);
    if (d.storedAtNanos > 0)
      this.d.metrics.endToEndSeconds.record(
        Math.max(0, (performance.timeOrigin + now - d.storedAtNanos / 1e6) / 1000),
      );
  }

  /** Watches a delivery until it settles; starts the in-progress sweep when there is an AckWait. */
  private track(d: Delivery): void {
    const ackWaitMs = this.d.ackWaitMs;
    if (!ackWaitMs) return;
    this.waiting.add(d);
    if (this.progressTimer) return;
    this.progressTimer = setInterval(() => this.sweepProgress(ackWaitMs), Math.max(50, ackWaitMs / 4));
    this.progressTimer.unref();
  }

  /** Sends +WPI for every delivery that has waited half an AckWait since it came or was last extended. */
  private sweepProgress(ackWaitMs: number): void {
    const now = performance.now();
    for (const d of this.waiting) {
      if (now - d.since < ackWaitMs / 2) continue;
      d.since = now;
      try {
        if (typeof d.target === 'string') this.d.replies.working(d.target);
        else d.target.working();
        this.d.metrics.inProgress.inc();
      } catch (err) {
        this.d.log.warn({ err: errorMessage(err), seq: d.sequence }, 'In-progress ack failed');
      }
    }
    if (this.waiting.size === 0) {
      clearInterval(this.progressTimer);
      this.progressTimer = undefined;
    }
  }

  private ack(t: SettleTarget): void {
    if (typeof t === 'string') this.d.replies.ack(t);
    else t.ack();
  }

  private nak(t: SettleTarget, delayMs: number): void {
    if (typeof t === 'string') this.d.replies.nak(t, delayMs);
    else t.nak(delayMs);
  }

  private term(t: SettleTarget, reason: string): void {
    if (typeof t === 'string') this.d.replies.term(t, reason);
    else t.term(reason);
  }

  /** An unexpected error while handling or settling: nak (`nak` sends it) rather than lose the event. */
  private retryUnexpected(seq: number, err: unknown, what: string, nak: () => void): void {
    this.d.log.error({ err, seq }, `${what} an event failed; it will be redelivered`);
    try {
      nak();
      this.d.metrics.naked.inc();
    } finally {
      this.d.inFlight.release();
    }
  }

  /** The process span of a delivery; its parent is what the producer sent. */
  private startSpan(
    m: JsMsg,
    event: Readonly<Record<string, unknown>> | undefined,
    deliveryCount: number,
    startTime: number,
  ): Span {
    const t = this.d.tracing!;
    const span = startProcessSpan(
      t.tracer,
      this.d.source.eventSource ?? this.d.source.stream,
      producerContext(m, event),
      startTime,
    );
    // Attributes only for spans that are sampled: most are not at low ratios.
    if (span.isRecording())
      span.setAttributes({
        'messaging.system': 'nats',
        'messaging.operation.type': 'process',
        'messaging.destination.name': this.d.source.stream,
        'messaging.nats.delivery_count': deliveryCount,
        'eventrunner.pipeline': t.pipeline,
        ...(event
          ? {
              'cloudevents.event_id': String(event.id),
              'cloudevents.event_type': String(event.type),
              'cloudevents.event_source': String(event.source),
            }
          : {}),
      });
    return span;
  }

  /** Dead-letters a message still at hand (undecodable, or dead-lettered by the rules). */
  private deadLetterThenRelease(
    m: JsMsg,
    target: SettleTarget,
    reason: string,
    cause: DeadLetterCause,
    span: Span | undefined,
    rule?: string,
  ): void {
    const info = m.info;
    const at = { target, deliveryCount: info.deliveryCount, sequence: info.streamSequence, span };
    void this.deadLetter(at, cause, reason, async () => ({
      reason,
      ...(rule ? { rule } : {}),
      subject: m.subject,
      stream: info.stream,
      sequence: info.streamSequence,
      deliveries: info.deliveryCount,
      data: m.data,
      ...(m.headers ? { headers: m.headers } : {}),
    })).finally(() => this.d.inFlight.release());
  }

  /**
   * Dead-letters a settled message. It was not kept while its sinks wrote, so it is read back from
   * the stream (it is still there: it is not acked) with its original subject, headers and bytes.
   */
  private deadLetterSettled(d: Delivery, reason: string, output?: string): Promise<void> {
    return this.deadLetter(d, output ? 'sink' : 'max_deliver', reason, async () => {
      const stored = await this.d.readBack(d.sequence);
      if (!stored) return null;
      return {
        reason,
        ...(output ? { output } : {}),
        subject: stored.subject,
        stream: this.d.source.stream,
        sequence: d.sequence,
        deliveries: d.deliveryCount,
        data: stored.data,
        ...(stored.header ? { headers: stored.header } : {}),
      };
    });
  }

  /** Publishes the dead letter `load` builds, then terms the original; naks it when that fails. */
  private async deadLetter(
    at: { target: SettleTarget; deliveryCount: number; sequence: number; span?: Span | undefined },
    cause: DeadLetterCause,
    reason: string,
    load: () => Promise<DeadLetter | null>,
  ): Promise<void> {
    const parent = at.span;
    const t = this.d.tracing;
    // The reason is the rule's or the sink's message about the event, never its data or a secret.
    const span =
      parent && t
        ? startDeadLetterSpan(t.tracer, parent, t.deadLetterStream, {
            'messaging.system': 'nats',
            'messaging.destination.name': t.deadLetterStream,
            'eventrunner.deadletter.cause': cause,
            'eventrunner.deadletter.reason': reason.slice(0, 256),
          })
        : undefined;
    try {
      await this.deadLetterTraced(at, cause, reason, load, span);
    } finally {
      span?.end();
      if (parent) {
        parent.setAttribute('eventrunner.settled', 'deadletter');
        parent.end();
      }
    }
  }

  private async deadLetterTraced(
    at: { target: SettleTarget; deliveryCount: number; sequence: number },
    cause: DeadLetterCause,
    reason: string,
    load: () => Promise<DeadLetter | null>,
    span: Span | undefined,
  ): Promise<void> {
    let fresh: boolean;
    try {
      const dl = await load();
      if (!dl) {
        // Removed by the stream's own limits while its sinks were written: nothing left to keep.
        this.d.log.error(
          { seq: at.sequence, reason },
          'Event to dead-letter is no longer in its stream; terminating it',
        );
        this.term(at.target, reason.slice(0, 256));
        return;
      }
      fresh = await this.d.deadLetter.publish(dl);
    } catch (err) {
      // Never term what the dead-letter stream did not take; it comes back and is tried again.
      this.d.log.error(
        { err: errorMessage(err), seq: at.sequence },
        'Dead-letter publish failed; will retry',
      );
      this.nak(at.target, backoffFor(at.deliveryCount, this.d.delivery.backoffMs));
      this.d.metrics.naked.inc();
      span?.setStatus({ code: SpanStatusCode.ERROR, message: errorMessage(err) });
      return;
    }
    this.term(at.target, reason.slice(0, 256));
    if (fresh) this.d.metrics.deadLettered.inc({ cause });
    span?.setAttribute('eventrunner.deadletter.duplicate', !fresh);
  }
}

/** A message waiting for the outputs it was routed to; one small object instead of promises. */
class Delivery implements RowWaiter {
  private readonly results: RowResult[];
  private remaining: number;
  private abandoned = false;
  /** When the delivery came, or when its AckWait was last extended (performance.now()). */
  since: number;
  /** The delivery's process span, when tracing is on; batch spans link it. */
  span: Span | undefined = undefined;

  constructor(
    private readonly loop: SourceLoop,
    /** When the delivery came (performance.now()). */
    readonly pulledAt: number,
    readonly target: SettleTarget,
    readonly deliveryCount: number,
    readonly sequence: number,
    /** When the stream stored the message, ns since the epoch (NaN when unknown). */
    readonly storedAtNanos: number,
    readonly routes: readonly string[],
  ) {
    this.since = pulledAt;
    this.results = new Array<RowResult>(routes.length);
    this.remaining = routes.length;
  }

  rowDone(index: number, result: RowResult): void {
    this.results[index] = result;
    if (--this.remaining === 0 && !this.abandoned) this.loop.settle(this, this.results);
  }

  /** The message was settled another way (an unexpected error); late answers are ignored. */
  abandon(): void {
    this.abandoned = true;
  }
}
