// The pull loop of one source (a durable consumer on one EventSource's stream) and the handling of
// each message: decode → rules → the routed outputs' batchers → ack / nak / dead-letter. Every
// replica runs the same loop on the same durable; JetStream hands each message to one of them.
import type { Consumer, JsMsg } from '@nats-io/jetstream';
import type { Logger } from '../common/logger.js';
import type { CompiledRules } from '../rules/index.js';
import {
  errorMessage,
  type Batcher,
  type RowResult,
  type RowWaiter,
  type SinkEvent,
} from '../sinks/index.js';
import type { SourceConfig } from './config.js';
import { decodeMessage } from './decode.js';
import { backoffFor, decide } from './decision.js';
import type { DeadLetterPublisher } from './deadletter.js';
import type { InFlight } from './inflight.js';
import type { ProcessorMetrics } from './metrics.js';

export interface SourceLoopDeps {
  source: SourceConfig;
  consumer: Consumer;
  rules: CompiledRules;
  outputs: ReadonlyMap<string, Batcher<unknown>>;
  deadLetter: DeadLetterPublisher;
  inFlight: InFlight;
  delivery: { maxDeliver: number; backoffMs: readonly number[] };
  pullBatch: number;
  metrics: ProcessorMetrics;
  log: Logger;
}

type DeadLetterCause = 'decode' | 'rule' | 'sink' | 'max_deliver';

export class SourceLoop {
  // Label-bound metric children, resolved once rather than hashed per event.
  private readonly m: {
    eventsIn: { inc(): void };
    redeliveries: { inc(): void };
    dropped: { inc(): void };
    routed: Map<string, { inc(): void }>;
  };

  constructor(private readonly d: SourceLoopDeps) {
    const label = { source: d.source.eventSource ?? d.source.stream };
    this.m = {
      eventsIn: d.metrics.eventsIn.labels(label),
      redeliveries: d.metrics.redeliveries.labels(label),
      dropped: d.metrics.dropped.labels(label),
      routed: new Map([...d.outputs.keys()].map((o) => [o, d.metrics.routed.labels({ output: o })])),
    };
  }

  /** Pulls until the signal aborts; messages already taken are finished by their handlers. */
  async run(signal: AbortSignal): Promise<void> {
    const { consumer, inFlight, log } = this.d;
    while (!signal.aborted) {
      try {
        const messages = await consumer.consume({ max_messages: this.d.pullBatch });
        const stop = () => void messages.stop();
        signal.addEventListener('abort', stop, { once: true });
        try {
          for await (const m of messages) {
            // Taken from the buffer after shutdown began: hand it straight back for another replica.
            if (signal.aborted || (!inFlight.tryAcquire() && !(await inFlight.acquire(signal)))) {
              m.nak();
              continue;
            }
            this.handle(m);
          }
        } finally {
          signal.removeEventListener('abort', stop);
        }
      } catch (err) {
        if (signal.aborted) break;
        log.warn({ err: errorMessage(err) }, 'Pull from JetStream failed; retrying');
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }

  /**
   * Decode and rules, synchronously; the event goes to its outputs' batchers, which keep only the
   * rows they make of it, and a Delivery waits for their answers. The in-flight slot taken for the
   * message is released exactly once, when its fate is settled.
   */
  private handle(m: JsMsg): void {
    this.m.eventsIn.inc();
    if (m.info.deliveryCount > 1) this.m.redeliveries.inc();
    let delivery: Delivery | undefined;
    try {
      let event;
      try {
        event = decodeMessage(m, this.d.source.stream, this.d.source.conversion);
      } catch (err) {
        return this.deadLetterThenRelease(m, `undecodable: ${errorMessage(err)}`, 'decode');
      }
      const outcome = this.d.rules.evaluate(event);
      if (outcome.outcome === 'deadletter')
        return this.deadLetterThenRelease(
          m,
          outcome.reason ?? 'dead-lettered by the rules',
          'rule',
          outcome.rule,
        );
      if (outcome.outcome === 'dropped' || outcome.routes.length === 0) {
        m.ack();
        this.d.metrics.acked.inc();
        this.m.dropped.inc();
        return this.d.inFlight.release();
      }
      const routed = outcome.event as SinkEvent;
      const routes = outcome.routes;
      delivery = new Delivery(this, m, routes);
      for (let i = 0; i < routes.length; i++) this.d.outputs.get(routes[i]!)!.push(routed, delivery, i);
    } catch (err) {
      // Not expected (rules and sinks report, they do not throw); retry rather than lose the event.
      if (delivery) delivery.abandon();
      this.retryUnexpected(m, err);
    }
  }

  /** Every output answered for the message: ack, nak or dead-letter it, then free its slot. */
  settle(m: JsMsg, routes: readonly string[], results: readonly RowResult[]): void {
    try {
      const decision = decide(routes, results, {
        count: m.info.deliveryCount,
        maxDeliver: this.d.delivery.maxDeliver,
        backoffMs: this.d.delivery.backoffMs,
      });
      switch (decision.action) {
        case 'ack':
          m.ack();
          this.d.metrics.acked.inc();
          for (const r of routes) this.m.routed.get(r)!.inc();
          return this.d.inFlight.release();
        case 'nak':
          m.nak(decision.delayMs);
          this.d.metrics.naked.inc();
          return this.d.inFlight.release();
        case 'deadletter':
          return this.deadLetterThenRelease(
            m,
            decision.reason,
            decision.output ? 'sink' : 'max_deliver',
            undefined,
            decision.output,
          );
      }
    } catch (err) {
      this.retryUnexpected(m, err);
    }
  }

  private retryUnexpected(m: JsMsg, err: unknown): void {
    this.d.log.error({ err, seq: m.info.streamSequence }, 'Handling an event failed; it will be redelivered');
    try {
      m.nak(backoffFor(m.info.deliveryCount, this.d.delivery.backoffMs));
      this.d.metrics.naked.inc();
    } finally {
      this.d.inFlight.release();
    }
  }

  private deadLetterThenRelease(
    m: JsMsg,
    reason: string,
    cause: DeadLetterCause,
    rule?: string,
    output?: string,
  ): void {
    void this.deadLetter(m, reason, cause, rule, output).finally(() => this.d.inFlight.release());
  }

  private async deadLetter(m: JsMsg, reason: string, cause: DeadLetterCause, rule?: string, output?: string) {
    let fresh: boolean;
    try {
      fresh = await this.d.deadLetter.publish({
        reason,
        ...(rule ? { rule } : {}),
        ...(output ? { output } : {}),
        subject: m.subject,
        stream: m.info.stream,
        sequence: m.info.streamSequence,
        deliveries: m.info.deliveryCount,
        data: m.data,
        ...(m.headers ? { headers: m.headers } : {}),
      });
    } catch (err) {
      // Never term what the dead-letter stream did not take; it comes back and is tried again.
      this.d.log.error(
        { err: errorMessage(err), seq: m.info.streamSequence },
        'Dead-letter publish failed; will retry',
      );
      m.nak(backoffFor(m.info.deliveryCount, this.d.delivery.backoffMs));
      this.d.metrics.naked.inc();
      return;
    }
    m.term(reason.slice(0, 256));
    if (fresh) this.d.metrics.deadLettered.inc({ cause });
  }
}

/** A message waiting for the outputs it was routed to; one small object instead of promises. */
class Delivery implements RowWaiter {
  private readonly results: RowResult[];
  private remaining: number;
  private abandoned = false;

  constructor(
    private readonly loop: SourceLoop,
    private readonly m: JsMsg,
    private readonly routes: readonly string[],
  ) {
    this.results = new Array<RowResult>(routes.length);
    this.remaining = routes.length;
  }

  rowDone(index: number, result: RowResult): void {
    this.results[index] = result;
    if (--this.remaining === 0 && !this.abandoned) this.loop.settle(this.m, this.routes, this.results);
  }

  /** The message was settled another way (an unexpected error); late answers are ignored. */
  abandon(): void {
    this.abandoned = true;
  }
}
