// What a Replay runs, as plain data shared by the operator and the replay worker: the names of the
// NATS objects it uses, the spec it passes on, and which dead letters a redrive filter selects.
// Pure: no I/O here.
import { DeadLetterHeader } from '../process/deadletter.js';

/** The Replay as the worker gets it (the CRD's spec, plus who it is). */
export interface ReplayPlan {
  namespace: string;
  name: string;
  uid: string;
  pipeline: string;
  from?: { time?: string; sequence?: number };
  to?: { time?: string; sequence?: number };
  deadLetters?: DeadLetterFilter;
  ratePerSecond?: number;
}

export interface DeadLetterFilter {
  reason?: string;
  rule?: string;
  output?: string;
  /** Only query results of this query. */
  query?: string;
  since?: string;
  until?: string;
}

/** Where the worker reports progress; the operator copies it into the Replay's status. */
export interface ReplayProgress {
  /** Events selected so far (final once `selected` is true). */
  total: number;
  done: number;
  failed: number;
  /** Every selected event was copied into the work stream. */
  selected: boolean;
  /** Every copied event was settled: written, dropped by the rules or dead-lettered again. */
  finished: boolean;
  /** Why the replay could not run, when it could not. */
  error?: string;
}

/** Header on every replayed copy: the stream and sequence of the event as first stored. */
export const ORIGIN_HEADER = 'eventrunner-replay-origin';

/** Stream, consumer and bucket names allow only [A-Za-z0-9_-]. */
const token = (s: string) => s.replace(/[^A-Za-z0-9_-]/g, '_');

/**
 * The Replay's own work stream, named with its uid: a Replay deleted and created again under the
 * same name starts a new stream whose sequences, which name its dead letters, never repeat.
 */
export function workStreamName(p: Pick<ReplayPlan, 'namespace' | 'name' | 'uid'>): string {
  return `ER_RP_${token(p.namespace)}_${token(p.name)}_${token(p.uid).slice(0, 8)}`;
}

export function workSubject(p: Pick<ReplayPlan, 'namespace' | 'name' | 'uid'>, source: number): string {
  return `${workSubjectPrefix(p)}.${source}`;
}

export function workSubjectPrefix(p: Pick<ReplayPlan, 'namespace' | 'name' | 'uid'>): string {
  return `er.replay.${token(p.namespace)}.${token(p.name)}.${token(p.uid).slice(0, 8)}`;
}

export const workConsumerName = (source: number): string => `replay-${source}`;

/** Where redriven query results wait on the work stream, and their consumer. */
export function workResultsSubject(p: Pick<ReplayPlan, 'namespace' | 'name' | 'uid'>): string {
  return `${workSubjectPrefix(p)}.results`;
}
export const workResultsConsumer = 'replay-results';

/**
 * The replay pod's inbox prefix under per-workload NATS users: its own, beside the processor's
 * whose config file it reads, so that neither user may read the other's replies.
 */
export const replayInboxPrefix = (processorInboxPrefix: string): string => `${processorInboxPrefix}_replay`;

/** Per Pipeline: progress of its Replays and the ids of its dead letters already redriven. */
export function replayBucketName(namespace: string, pipeline: string): string {
  return `ER_RP_${token(namespace)}_${token(pipeline)}`;
}

export const progressKey = (p: Pick<ReplayPlan, 'name' | 'uid'>): string => `progress.${p.name}.${p.uid}`;
export const redrivenKey = (deadLetterSequence: number): string => `redriven.${deadLetterSequence}`;

/** Header reading that works for the client's MsgHdrs and plain maps alike. */
export interface HeaderReader {
  get(k: string): string;
}

/** Whether a dead letter matches a redrive filter; `storedAt` is when the dead-letter stream stored it. */
export function matchesDeadLetter(
  filter: DeadLetterFilter,
  h: HeaderReader | undefined,
  storedAt: Date,
): boolean {
  if (filter.since && storedAt < new Date(filter.since)) return false;
  if (filter.until && storedAt >= new Date(filter.until)) return false;
  const get = (k: string) => h?.get(k) ?? '';
  if (filter.reason && !get(DeadLetterHeader.Reason).toLowerCase().includes(filter.reason.toLowerCase()))
    return false;
  if (filter.rule && get(DeadLetterHeader.Rule) !== filter.rule) return false;
  if (filter.output && get(DeadLetterHeader.Output) !== filter.output) return false;
  if (filter.query && get('eventrunner-query') !== filter.query) return false;
  return true;
}

/**
 * The event a dead letter holds, as first stored: a replayed copy names it in its origin header
 * (the dead letter of a replayed event points at the work stream, which is gone); otherwise the
 * dead letter's original stream and sequence.
 */
export function originOf(h: HeaderReader | undefined): { stream: string; sequence: number } | undefined {
  const origin = h?.get(ORIGIN_HEADER);
  if (origin) {
    const at = origin.lastIndexOf(':');
    const sequence = Number(origin.slice(at + 1));
    if (at > 0 && Number.isInteger(sequence)) return { stream: origin.slice(0, at), sequence };
  }
  const stream = h?.get(DeadLetterHeader.Stream);
  const sequence = Number(h?.get(DeadLetterHeader.Sequence));
  return stream && Number.isInteger(sequence) && sequence > 0 ? { stream, sequence } : undefined;
}
