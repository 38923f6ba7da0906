// Events an EventSource's stream discarded (its maxAge or maxBytes reached) before a Pipeline
// processed them: nothing may be lost silently. A durable consumer's acknowledged floor says every
// stream message up to it is done (processed, or not of its types); when the stream's first
// message lies beyond floor + 1, the messages between were removed while the Pipeline was behind —
// suspended, down, or too slow. At most that many of them were the Pipeline's (some may not match
// its types, or were acknowledged out of order); the count is exact for a Pipeline without types
// and one processor. A new consumer starts with its floor just below the stream's first message,
// so history trimmed before the Pipeline existed is not reported. The operator sees a gap until the
// Pipeline acknowledges its next event, so a stopped Pipeline is always told; a running one that
// falls that far behind catches up past the gap within moments, which a reconcile may not see: it
// is warned before, when its oldest unprocessed event is among the oldest tenth of a stream at 90%
// of a limit (atRisk).
import type { ConsumerInfo, StreamState } from '@nats-io/jetstream';
import { ConditionReason } from '../api/conditions.js';
import type { EventSource, Pipeline } from '../api/generated/types.js';
import { parseBytes, parseDuration } from '../api/units.js';
import type { Logger } from '../runtime/common/logger.js';
import type { ControllerContext } from './manager.js';

export interface Discarded {
  /** Stream sequences first..last were removed unprocessed: at most last − first + 1 events. */
  first: number;
  last: number;
}

/** The gap between a consumer's acknowledged floor and its stream's first message (pure). */
export function discardedUnprocessed(
  consumer: { ack_floor: { stream_seq: number } },
  stream: Pick<StreamState, 'first_seq'>,
): Discarded | undefined {
  const first = consumer.ack_floor.stream_seq + 1;
  const last = stream.first_seq - 1;
  return last >= first ? { first, last } : undefined;
}

/**
 * Why the Pipeline's oldest unprocessed event is about to be removed (pure): the stream is at 90%
 * of maxBytes or its oldest event at 90% of maxAge, and that event is among the oldest tenth of
 * what the stream holds. Undefined when it is not, or nothing is pending.
 */
export function atRisk(
  consumer: { ack_floor: { stream_seq: number }; num_pending: number; num_ack_pending: number },
  stream: Pick<StreamState, 'first_seq' | 'messages' | 'bytes' | 'first_ts'>,
  limits: { maxAgeMs: number; maxBytes: number },
  now: number,
): string | undefined {
  if (consumer.num_pending + consumer.num_ack_pending === 0 || stream.messages === 0) return undefined;
  const oldest = Math.max(consumer.ack_floor.stream_seq + 1, stream.first_seq);
  if ((oldest - stream.first_seq) / stream.messages >= 0.1) return undefined;
  const age = now - Date.parse(stream.first_ts);
  const full =
    limits.maxBytes > 0 && stream.bytes >= 0.9 * limits.maxBytes
      ? `${Math.round((100 * stream.bytes) / limits.maxBytes)}% of maxBytes`
      : limits.maxAgeMs > 0 && age >= 0.9 * limits.maxAgeMs
        ? `its oldest event ${Math.round((100 * age) / limits.maxAgeMs)}% of maxAge old`
        : undefined;
  return (
    full &&
    `at ${full}, with this Pipeline's oldest unprocessed event (sequence ${oldest}) among the oldest tenth it holds`
  );
}

// The last gap told per Pipeline uid and stream: a gap is told once, however many reconciles see
// it. Kept in memory: after an operator restart a gap still open is told again.
const told = new Map<string, number>();

/**
 * A Warning Event `EventsDiscarded` on the Pipeline for a gap in its consumer on the EventSource's
 * stream not told before: how many at most, the sequences, and the limits that removed them. Never
 * throws: a stream that cannot be read is looked at again at the next reconcile.
 */
export async function reportDiscarded(
  ctx: Pick<ControllerContext, 'jsm' | 'events'>,
  pl: Pipeline,
  es: EventSource,
  consumer: ConsumerInfo,
  log: Logger,
): Promise<void> {
  let state: StreamState;
  try {
    state = (await (await ctx.jsm()).streams.info(consumer.stream_name)).state;
  } catch (err) {
    log.debug({ err, stream: consumer.stream_name }, 'Could not read the stream for discarded events');
    return;
  }
  const gap = discardedUnprocessed(consumer, state);
  const key = `${pl.metadata.uid ?? ''}/${consumer.stream_name}`;
  if (!gap) return warnAtRisk(ctx, pl, es, consumer, state, key, log);
  if ((told.get(key) ?? 0) >= gap.last) return;
  told.set(key, gap.last);
  const n = gap.last - gap.first + 1;
  const { maxAge, maxBytes } = es.spec.stream;
  const message =
    `the stream of EventSource ${es.metadata.name} removed up to ${n} event${n === 1 ? '' : 's'} ` +
    `(sequences ${gap.first}–${gap.last}) before this Pipeline processed them: its limits ` +
    `(maxAge ${maxAge}, maxBytes ${maxBytes}) were reached while the Pipeline was behind; raise ` +
    'the stream limits, or keep the Pipeline running and scaled to keep up';
  log.error(
    { eventSource: es.metadata.name, first: gap.first, last: gap.last },
    'Events discarded before processing',
  );
  await ctx.events.record(pl, 'Warning', ConditionReason.EventsDiscarded, message);
}

// Pipelines warned of being at risk, per uid and stream, until they are not any more.
const warned = new Set<string>();

async function warnAtRisk(
  ctx: Pick<ControllerContext, 'events'>,
  pl: Pipeline,
  es: EventSource,
  consumer: ConsumerInfo,
  state: StreamState,
  key: string,
  log: Logger,
): Promise<void> {
  const { maxAge, maxBytes } = es.spec.stream;
  const risk = atRisk(
    consumer,
    state,
    { maxAgeMs: parseDuration(maxAge), maxBytes: parseBytes(maxBytes) },
    Date.now(),
  );
  if (!risk) {
    warned.delete(key);
    return;
  }
  if (warned.has(key)) return;
  warned.add(key);
  log.warn({ eventSource: es.metadata.name, risk }, 'Events at risk of removal before processing');
  await ctx.events.record(
    pl,
    'Warning',
    ConditionReason.EventsAtRisk,
    `the stream of EventSource ${es.metadata.name} is ${risk}: at its limits (maxAge ${maxAge}, maxBytes ${maxBytes}) it removes them before this Pipeline processes them; scale the Pipeline up, resume it, or raise the limits`,
  );
}
