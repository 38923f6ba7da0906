// Publishing a poison event to the Pipeline's dead-letter stream: the original message bytes (so
// it can be replayed as it was), its original headers, and why, in `eventrunner-*` headers. The
// publish is acknowledged by JetStream before the caller terms the original; its message id is
// the original's stream and sequence, so a repeat after a crash is dropped as a duplicate.
import { headers as natsHeaders, type MsgHdrs } from '@nats-io/nats-core';
import type { JetStreamClient } from '@nats-io/jetstream';

export const DeadLetterHeader = {
  Reason: 'eventrunner-reason',
  Rule: 'eventrunner-rule',
  Output: 'eventrunner-output',
  Subject: 'eventrunner-original-subject',
  Stream: 'eventrunner-original-stream',
  Sequence: 'eventrunner-original-sequence',
  Deliveries: 'eventrunner-deliveries',
  Pipeline: 'eventrunner-pipeline',
} as const;

export interface DeadLetter {
  reason: string;
  rule?: string;
  output?: string;
  subject: string;
  stream: string;
  sequence: number;
  deliveries: number;
  data: Uint8Array;
  headers?: MsgHdrs;
  /** The dead letter's id when it is not the original's stream and sequence (e.g. a query result). */
  msgId?: string;
}

/** Header values are single lines of bounded length. */
export function headerValue(s: string, max = 1024): string {
  const line = s.replace(/[\r\n]+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

export function deadLetterHeaders(dl: DeadLetter, pipeline: string): MsgHdrs {
  const h = natsHeaders();
  if (dl.headers) {
    for (const k of dl.headers.keys()) {
      // The original id would make JetStream drop dead letters of the same event as duplicates.
      if (k.toLowerCase() === 'nats-msg-id' || k.toLowerCase().startsWith('nats-expected')) continue;
      for (const v of dl.headers.values(k)) h.append(k, v);
    }
  }
  h.set(DeadLetterHeader.Reason, headerValue(dl.reason));
  if (dl.rule) h.set(DeadLetterHeader.Rule, headerValue(dl.rule, 256));
  if (dl.output) h.set(DeadLetterHeader.Output, dl.output);
  h.set(DeadLetterHeader.Subject, dl.subject);
  h.set(DeadLetterHeader.Stream, dl.stream);
  h.set(DeadLetterHeader.Sequence, String(dl.sequence));
  h.set(DeadLetterHeader.Deliveries, String(dl.deliveries));
  h.set(DeadLetterHeader.Pipeline, pipeline);
  return h;
}

export class DeadLetterPublisher {
  constructor(
    private readonly js: JetStreamClient,
    private readonly subject: string,
    private readonly stream: string,
    private readonly pipeline: string,
  ) {}

  /**
   * Resolves once the dead-letter stream stored it — true when it was new, false when the stream
   * already had this dead letter (a repeat) — and throws when it did not store it.
   */
  async publish(dl: DeadLetter): Promise<boolean> {
    const ack = await this.js.publish(this.subject, dl.data, {
      headers: deadLetterHeaders(dl, this.pipeline),
      msgID: dl.msgId ?? `${dl.stream}:${dl.sequence}`,
      expect: { streamName: this.stream },
    });
    return !ack.duplicate;
  }
}
