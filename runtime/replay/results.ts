// Redriving query results. A query result that an output refused is dead-lettered by the query
// worker with the result event itself as its body, the output in `eventrunner-output` and the
// query and result id in headers of their own. Redriven, it is written to that output again as it
// is — under its deterministic id, so a sink that already has it replaces or drops the copy — not
// through the rules (it is a query's output, not a source event). One that the output refuses
// again is dead-lettered again with the new reason (and its query and result id), as a redriven
// event would be.
import type { Consumer, JsMsg } from '@nats-io/jetstream';
import type { Logger } from '../common/logger.js';
import type { DeadLetterPublisher } from '../process/deadletter.js';
import { errorMessage, isRowRejectedError, type Batcher, type SinkEvent } from '../sinks/index.js';

export const ResultHeader = {
  Query: 'eventrunner-query',
  ResultId: 'eventrunner-result-id',
  Output: 'eventrunner-output',
} as const;

/** Whether a dead letter holds a query result (rather than a source event). */
export const isResultDeadLetter = (h: { get(k: string): string } | undefined): boolean =>
  Boolean(h?.get(ResultHeader.ResultId));

const RETRY_MS = 1000;
const FETCH = 100;

export interface ResultLoopDeps {
  consumer: Consumer;
  outputs: ReadonlyMap<string, Batcher<unknown>>;
  deadLetter: DeadLetterPublisher;
  /** The Pipeline's delivery.maxDeliver: a result still failing then is dead-lettered again. */
  maxDeliver: number;
  log: Logger;
}

export class ResultLoop {
  /** Results dead-lettered again. */
  failed = 0;

  constructor(private readonly d: ResultLoopDeps) {}

  /** Writes the copies on the work stream's result subject until the signal aborts. */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        const batch = await this.d.consumer.fetch({ max_messages: FETCH, expires: 5000 });
        const stop = () => void batch.stop();
        signal.addEventListener('abort', stop, { once: true });
        const settling: Promise<void>[] = [];
        try {
          for await (const m of batch) settling.push(this.settle(m));
        } finally {
          signal.removeEventListener('abort', stop);
        }
        for (const b of this.d.outputs.values()) b.flush();
        await Promise.all(settling);
      } catch (err) {
        if (signal.aborted) break;
        this.d.log.warn({ err: errorMessage(err) }, 'Reading redriven results failed; retrying');
        await new Promise((r) => setTimeout(r, RETRY_MS));
      }
    }
  }

  private async settle(m: JsMsg): Promise<void> {
    const output = m.headers?.get(ResultHeader.Output) ?? '';
    const batcher = this.d.outputs.get(output);
    if (!batcher)
      return this.again(m, output, `output ${output || '(none)'} is not an output of the Pipeline`);
    let event: SinkEvent;
    try {
      event = JSON.parse(new TextDecoder().decode(m.data)) as SinkEvent;
      if (typeof event?.id !== 'string') throw new Error('no id');
    } catch {
      return this.again(m, output, 'the dead letter does not hold a query result event');
    }
    const result = await batcher.add(event);
    if (result === undefined) m.ack();
    else if (isRowRejectedError(result))
      await this.again(m, output, `output ${output} rejected the result: ${result.message}`);
    else if (this.d.maxDeliver > 0 && m.info.deliveryCount >= this.d.maxDeliver)
      await this.again(
        m,
        output,
        `output ${output}: ${errorMessage(result)} (after ${m.info.deliveryCount} deliveries)`,
      );
    else m.nak(RETRY_MS);
  }

  /** Dead-letters the result again (id: the copy's work stream and sequence), then terms the copy. */
  private async again(m: JsMsg, output: string, reason: string): Promise<void> {
    try {
      // A repeat (the term was lost) is dropped as a duplicate and not counted twice.
      const published = await this.d.deadLetter.publish({
        reason,
        ...(output ? { output } : {}),
        subject: m.subject,
        stream: m.info.stream,
        sequence: m.seq,
        deliveries: m.info.deliveryCount,
        data: m.data,
        ...(m.headers ? { headers: m.headers } : {}),
      });
      if (published) this.failed++;
      m.term(reason);
    } catch (err) {
      this.d.log.warn({ err: errorMessage(err) }, 'Dead-lettering a redriven result failed; retrying');
      m.nak(RETRY_MS);
    }
  }
}
