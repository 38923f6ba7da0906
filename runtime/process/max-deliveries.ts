// The second path to the dead-letter stream at the max-deliveries limit. The pull loop dead-letters
// an event itself on its last allowed delivery when a sink fails; but when the processor holding
// that last delivery dies (or its dead-letter publish failed), JetStream gives up on the message
// silently except for a MAX_DELIVERIES advisory. A processor reads the message back from the
// stream and dead-letters it; its message id (the original stream and sequence) makes a repeat of
// an already dead-lettered event a no-op.
// Advisories are core NATS messages, sent whether or not anyone listens. The operator keeps them
// in a stream of the Pipeline (`advisories` in the config) and the processors read that stream
// through a durable consumer, acknowledging an advisory only once its event is in the dead-letter
// stream, so one sent while no processor was connected is handled when one starts. Without that
// stream (a hand-written config), every replica listens on the subject in one queue group and an
// advisory sent while none is connected is not seen.
import type { Consumer, JetStreamManager, JsMsg } from '@nats-io/jetstream';
import type { NatsConnection, Subscription } from '@nats-io/nats-core';
import { backoffDelay, sleep } from '../common/backoff.js';
import type { Logger } from '../common/logger.js';
import { PULL_EXPIRES_MS } from '../common/nats.js';
import { errorMessage } from '../sinks/index.js';
import type { DeadLetterPublisher } from './deadletter.js';
import type { ProcessorMetrics } from './metrics.js';

export function maxDeliveriesSubject(stream: string, consumer: string): string {
  return `$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.${stream}.${consumer}`;
}

export interface MaxDeliveriesAdvisory {
  stream: string;
  consumer: string;
  stream_seq: number;
  deliveries: number;
}

/** The advisory in a message body, or undefined when it is not one. */
export function parseAdvisory(body: string): MaxDeliveriesAdvisory | undefined {
  try {
    const a = JSON.parse(body) as Partial<MaxDeliveriesAdvisory>;
    if (typeof a.stream !== 'string' || typeof a.consumer !== 'string') return undefined;
    if (!Number.isSafeInteger(a.stream_seq) || (a.stream_seq ?? 0) < 1) return undefined;
    return {
      stream: a.stream,
      consumer: a.consumer,
      stream_seq: a.stream_seq!,
      deliveries: a.deliveries ?? 0,
    };
  } catch {
    return undefined;
  }
}

interface AbandonedDeps {
  jsm: JetStreamManager;
  deadLetter: DeadLetterPublisher;
  metrics: ProcessorMetrics;
  log: Logger;
}

/**
 * Dead-letters the event an advisory names. Resolves once the dead-letter stream holds it (or the
 * event is gone from its stream, which is logged as an error); throws when it could not be done.
 */
export async function deadLetterAbandoned(a: MaxDeliveriesAdvisory, d: AbandonedDeps): Promise<void> {
  const stored = await d.jsm.streams.getMessage(a.stream, { seq: a.stream_seq });
  if (!stored) {
    d.log.error(
      { stream: a.stream, seq: a.stream_seq },
      'Event reached maxDeliver but is no longer in the stream; it cannot be dead-lettered',
    );
    return;
  }
  const fresh = await d.deadLetter.publish({
    reason: `delivered ${a.deliveries} times (maxDeliver) without an outcome: the processor holding the last delivery stopped or could not dead-letter it`,
    subject: stored.subject,
    stream: a.stream,
    sequence: a.stream_seq,
    deliveries: a.deliveries,
    data: stored.data,
    headers: stored.header,
  });
  if (fresh) {
    d.metrics.deadLettered.inc({ cause: 'max_deliver' });
    d.log.warn(
      { stream: a.stream, seq: a.stream_seq, deliveries: a.deliveries },
      'Dead-lettered an event abandoned at maxDeliver',
    );
  }
}

/**
 * Reads the Pipeline's advisory stream through its durable consumer until the signal aborts: each
 * advisory is acknowledged after its event is in the dead-letter stream, and nak'ed with a growing
 * delay while that fails, so it is retried (by this or another replica) until it succeeds.
 */
export class AdvisoryLoop {
  constructor(
    private readonly d: AbandonedDeps & {
      consumer: Consumer;
      /** `stream/consumer` of the sources: advisories naming anything else are not this Pipeline's. */
      sources: ReadonlySet<string>;
    },
  ) {}

  async run(signal: AbortSignal): Promise<void> {
    const { consumer, log } = this.d;
    while (!signal.aborted) {
      try {
        const messages = await consumer.consume({ max_messages: 16, expires: PULL_EXPIRES_MS });
        const stop = () => void messages.stop();
        signal.addEventListener('abort', stop, { once: true });
        try {
          for await (const m of messages) {
            if (signal.aborted) {
              m.nak();
              continue;
            }
            await this.handle(m);
          }
        } finally {
          signal.removeEventListener('abort', stop);
        }
      } catch (err) {
        if (signal.aborted) break;
        log.warn({ err: errorMessage(err) }, 'Reading max-deliveries advisories failed; retrying');
        await sleep(1000, signal);
      }
    }
  }

  private async handle(m: JsMsg): Promise<void> {
    const a = parseAdvisory(m.string());
    if (!a || !this.d.sources.has(`${a.stream}/${a.consumer}`)) {
      this.d.log.error(
        { subject: m.subject, seq: m.seq },
        'Ignoring a message of the advisory stream that is not a max-deliveries advisory of this Pipeline',
      );
      m.term();
      return;
    }
    try {
      await deadLetterAbandoned(a, this.d);
      m.ack();
    } catch (err) {
      const attempt = m.info.deliveryCount;
      this.d.log.warn(
        { err: errorMessage(err), stream: a.stream, seq: a.stream_seq, attempt },
        'Dead-lettering an abandoned event failed; retrying',
      );
      m.nak(backoffDelay(attempt - 1));
    }
  }
}

/** The fallback without an advisory stream: a core NATS subscription, one queue group of replicas. */
export function watchMaxDeliveries(
  opts: AbandonedDeps & { nc: NatsConnection; stream: string; consumer: string },
): Subscription {
  const { nc, stream, consumer, log } = opts;
  const handle = async (a: MaxDeliveriesAdvisory) => {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        await deadLetterAbandoned(a, opts);
        return;
      } catch (err) {
        log.warn(
          { err: errorMessage(err), seq: a.stream_seq, attempt },
          'Dead-lettering an abandoned event failed; retrying',
        );
        await sleep(backoffDelay(attempt));
      }
    }
    log.error({ seq: a.stream_seq }, 'Could not dead-letter an event abandoned at maxDeliver');
  };
  return nc.subscribe(maxDeliveriesSubject(stream, consumer), {
    queue: `eventrunner-max-deliveries-${consumer}`,
    callback: (err, msg) => {
      if (err) return;
      const a = parseAdvisory(msg.string());
      if (a) void handle(a);
      else log.warn('Ignoring an unreadable max-deliveries advisory');
    },
  });
}
