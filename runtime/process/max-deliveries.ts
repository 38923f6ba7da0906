// The second path to the dead-letter stream at the max-deliveries limit. The pull loop dead-letters
// an event itself on its last allowed delivery when a sink fails; but when the processor holding
// that last delivery dies (or its dead-letter publish failed), JetStream gives up on the message
// silently except for a MAX_DELIVERIES advisory. Every replica listens for it in one queue group,
// so one of them reads the message back from the stream and dead-letters it. Its message id (the
// original stream and sequence) makes a repeat of an already dead-lettered event a no-op.
// Advisories are core NATS messages: one sent while no replica is connected is not seen.
import { backoffDelay, sleep } from '../common/backoff.js';
import type { JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection, Subscription } from '@nats-io/nats-core';
import type { Logger } from '../common/logger.js';
import { errorMessage } from '../sinks/index.js';
import type { DeadLetterPublisher } from './deadletter.js';
import type { ProcessorMetrics } from './metrics.js';

export function maxDeliveriesSubject(stream: string, consumer: string): string {
  return `$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.${stream}.${consumer}`;
}

interface MaxDeliveriesAdvisory {
  stream: string;
  consumer: string;
  stream_seq: number;
  deliveries: number;
}

export function watchMaxDeliveries(opts: {
  nc: NatsConnection;
  jsm: JetStreamManager;
  stream: string;
  consumer: string;
  deadLetter: DeadLetterPublisher;
  metrics: ProcessorMetrics;
  log: Logger;
}): Subscription {
  const { nc, jsm, stream, consumer, deadLetter, metrics, log } = opts;
  const handle = async (a: MaxDeliveriesAdvisory) => {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        const stored = await jsm.streams.getMessage(stream, { seq: a.stream_seq });
        if (!stored) {
          log.error(
            { seq: a.stream_seq },
            'Event reached maxDeliver but is no longer in the stream; it cannot be dead-lettered',
          );
          return;
        }
        const fresh = await deadLetter.publish({
          reason: `delivered ${a.deliveries} times (maxDeliver) without an outcome: the processor holding the last delivery stopped or could not dead-letter it`,
          subject: stored.subject,
          stream,
          sequence: a.stream_seq,
          deliveries: a.deliveries,
          data: stored.data,
          headers: stored.header,
        });
        if (fresh) {
          metrics.deadLettered.inc({ cause: 'max_deliver' });
          log.warn(
            { seq: a.stream_seq, deliveries: a.deliveries },
            'Dead-lettered an event abandoned at maxDeliver',
          );
        }
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
      try {
        void handle(msg.json<MaxDeliveriesAdvisory>());
      } catch (e) {
        log.warn({ err: errorMessage(e) }, 'Ignoring an unreadable max-deliveries advisory');
      }
    },
  });
}
