// Desired JetStream state (pure builders) and the apply step that makes NATS match it: create what
// is missing, update what drifted, and report what cannot be changed in place (storage type).
import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  type ConsumerConfig,
  type ConsumerInfo,
  type JetStreamManager,
  type StreamConfig,
  type StreamInfo,
} from '@nats-io/jetstream';
import { ConditionReason } from '../api/conditions.js';
import type { EventSource, Pipeline } from '../api/generated/types.js';
import { parseBytes, parseDuration } from '../api/units.js';
import { TerminalError } from '../runtime/common/errors.js';
import {
  consumerName,
  deadLetterStreamName,
  deadLetterSubject,
  streamName,
  subjectPrefix,
  typeFilterSubjects,
} from './names.js';

const nanos = (ms: number) => Math.round(ms * 1e6);

export type DesiredStream = Pick<
  StreamConfig,
  | 'name'
  | 'subjects'
  | 'retention'
  | 'storage'
  | 'max_age'
  | 'max_bytes'
  | 'num_replicas'
  | 'duplicate_window'
  | 'discard'
  | 'description'
>;

export function eventSourceStream(es: EventSource): DesiredStream {
  const ns = es.metadata.namespace ?? 'default';
  const name = es.metadata.name!;
  const s = es.spec.stream;
  return {
    name: streamName(ns, name),
    description: `eventrunner EventSource ${ns}/${name}`,
    subjects: [`${subjectPrefix(ns, name)}.>`],
    retention: RetentionPolicy.Limits,
    storage: s.storage === 'memory' ? StorageType.Memory : StorageType.File,
    max_age: nanos(parseDuration(s.maxAge)),
    max_bytes: parseBytes(s.maxBytes),
    num_replicas: s.replicas,
    duplicate_window: nanos(parseDuration(s.duplicateWindow)),
    discard: DiscardPolicy.Old,
  };
}

/**
 * A dead letter's id is its original's stream and sequence: a processor that dead-lettered an event
 * and died before terminating it gets the event again and dead-letters it again, maybe long after
 * (ackWait, backoff, an outage of every processor). The stream drops the repeat for as long as it
 * keeps dead letters (its maxAge), or a week when it keeps them by size only: dead letters are few,
 * so the ids cost little memory.
 */
export function deadLetterDuplicateWindowMs(maxAgeMs: number): number {
  return maxAgeMs > 0 ? maxAgeMs : 7 * 24 * 3600 * 1000;
}

export function deadLetterStream(pl: Pipeline): DesiredStream {
  const ns = pl.metadata.namespace ?? 'default';
  const name = pl.metadata.name!;
  return {
    name: deadLetterStreamName(ns, name),
    description: `eventrunner dead letters of Pipeline ${ns}/${name}`,
    subjects: [deadLetterSubject(ns, name)],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    max_age: nanos(parseDuration(pl.spec.deadLetter.maxAge)),
    max_bytes: parseBytes(pl.spec.deadLetter.maxBytes),
    num_replicas: 1,
    duplicate_window: nanos(deadLetterDuplicateWindowMs(parseDuration(pl.spec.deadLetter.maxAge))),
    discard: DiscardPolicy.Old,
  };
}

export type DesiredConsumer = Pick<
  ConsumerConfig,
  | 'durable_name'
  | 'ack_policy'
  | 'deliver_policy'
  | 'filter_subject'
  | 'filter_subjects'
  | 'max_deliver'
  | 'ack_wait'
  | 'max_ack_pending'
  | 'description'
>;

/**
 * The durable consumer a Pipeline has on one source EventSource's stream. `delivery.backoff` is
 * not set on the consumer: JetStream would then use backoff[0] as the ack wait of the first
 * delivery, redelivering events a processor is still writing. The processor applies the backoff
 * itself with `nak(delay)` after a transient sink failure, and ack_wait stays `delivery.ackWait`.
 */
export function pipelineConsumer(
  pl: Pipeline,
  source: { eventSource: string; types?: string[] },
): DesiredConsumer {
  const ns = pl.metadata.namespace ?? 'default';
  const d = pl.spec.delivery;
  const filters = typeFilterSubjects(subjectPrefix(ns, source.eventSource), source.types);
  return {
    durable_name: consumerName(ns, pl.metadata.name!),
    description: `eventrunner Pipeline ${ns}/${pl.metadata.name}`,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    // nats-server stores a single filter as filter_subject; desire it in that form so that a
    // converged consumer shows no drift.
    ...(filters.length === 1 ? { filter_subject: filters[0] } : { filter_subjects: filters }),
    max_deliver: d.maxDeliver,
    ack_wait: nanos(parseDuration(d.ackWait)),
    max_ack_pending: d.maxAckPending,
  };
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

/** Fields of `desired` that the live config does not match. */
export function drift<T extends object>(desired: T, actual: Partial<T>): (keyof T)[] {
  return (Object.keys(desired) as (keyof T)[]).filter((k) => !same(desired[k], actual[k]));
}

export function isJsNotFound(err: unknown): boolean {
  return err instanceof JetStreamApiError && (err.code === 10059 || err.code === 10014 || err.status === 404);
}

export type ApplyAction = 'created' | 'updated' | 'unchanged';

export async function ensureStream(
  jsm: JetStreamManager,
  desired: DesiredStream,
): Promise<{ action: ApplyAction; info: StreamInfo; drifted: string[] }> {
  let current: StreamInfo | undefined;
  try {
    current = await jsm.streams.info(desired.name);
  } catch (err) {
    if (!isJsNotFound(err)) throw err;
  }
  if (!current) {
    const info = await jsm.streams.add(desired);
    return { action: 'created', info, drifted: [] };
  }
  const drifted = drift(desired, current.config).map(String);
  if (drifted.length === 0) return { action: 'unchanged', info: current, drifted };
  if (drifted.includes('storage')) {
    throw new TerminalError(
      ConditionReason.StorageImmutable,
      `stream ${desired.name} uses ${current.config.storage} storage; JetStream cannot change a stream's storage in place — delete and recreate the EventSource to move it`,
    );
  }
  const info = await jsm.streams.update(desired.name, { ...current.config, ...desired });
  return { action: 'updated', info, drifted };
}

export async function ensureConsumer(
  jsm: JetStreamManager,
  stream: string,
  desired: DesiredConsumer,
): Promise<{ action: ApplyAction; info: ConsumerInfo; drifted: string[] }> {
  let current: ConsumerInfo | undefined;
  try {
    current = await jsm.consumers.info(stream, desired.durable_name!);
  } catch (err) {
    if (!isJsNotFound(err)) throw err;
  }
  if (!current) {
    const info = await jsm.consumers.add(stream, desired);
    return { action: 'created', info, drifted: [] };
  }
  const drifted = drift(desired, current.config).map(String);
  if (drifted.length === 0) return { action: 'unchanged', info: current, drifted };
  const { durable_name: _d, deliver_policy: _p, ...updatable } = desired;
  const info = await jsm.consumers.update(stream, desired.durable_name!, updatable);
  return { action: 'updated', info, drifted };
}

export async function deleteStreamIfExists(jsm: JetStreamManager, name: string): Promise<boolean> {
  try {
    return await jsm.streams.delete(name);
  } catch (err) {
    if (isJsNotFound(err)) return false;
    throw err;
  }
}

export async function deleteConsumerIfExists(
  jsm: JetStreamManager,
  stream: string,
  name: string,
): Promise<boolean> {
  try {
    return await jsm.consumers.delete(stream, name);
  } catch (err) {
    if (isJsNotFound(err)) return false;
    throw err;
  }
}
