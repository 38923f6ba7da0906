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
import { maxDeliveriesSubject } from '../runtime/process/max-deliveries.js';
import {
  advisoryStreamName,
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

const MIN_REDELIVERY_WINDOW_MS = 120_000;

/**
 * How long after a Pipeline first published an event it may publish it again: a redelivery (a
 * processor died before acking it, or another output failed) writes every routed output again, and
 * the last one comes at most maxDeliver × (ackWait + the longest backoff) after the first delivery
 * (never less than two minutes). A stream it publishes to must remember message ids that long.
 */
export function redeliveryWindowMs(delivery: Pipeline['spec']['delivery']): number {
  const ackWait = parseDuration(delivery.ackWait);
  const backoff = Math.max(0, ...(delivery.backoff ?? []).map(parseDuration));
  return Math.max(MIN_REDELIVERY_WINDOW_MS, delivery.maxDeliver * (ackWait + backoff));
}

/**
 * The EventSource's stream. `publishers` are the Pipelines whose outputs publish to it (eventSource
 * Sinks): its duplicate window is widened to their redelivery window, so an event one of them
 * publishes again is still dropped as a duplicate (within maxAge, which bounds the window).
 */
export function eventSourceStream(es: EventSource, publishers: readonly Pipeline[] = []): DesiredStream {
  const ns = es.metadata.namespace ?? 'default';
  const name = es.metadata.name!;
  const s = es.spec.stream;
  const maxAge = parseDuration(s.maxAge);
  let window = parseDuration(s.duplicateWindow);
  for (const p of publishers)
    if (p.spec?.delivery) window = Math.max(window, redeliveryWindowMs(p.spec.delivery));
  if (maxAge > 0) window = Math.min(window, maxAge);
  return {
    name: streamName(ns, name),
    description: `eventrunner EventSource ${ns}/${name}`,
    subjects: [`${subjectPrefix(ns, name)}.>`],
    retention: RetentionPolicy.Limits,
    storage: s.storage === 'memory' ? StorageType.Memory : StorageType.File,
    max_age: nanos(maxAge),
    max_bytes: parseBytes(s.maxBytes),
    num_replicas: s.replicas,
    duplicate_window: nanos(window),
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

/**
 * Replicas of a Pipeline's own streams (dead letters, max-deliveries advisories): as many as its
 * most replicated source stream, so that what is taken out of a replicated stream is kept as
 * safely as it was there.
 */
export function pipelineStreamReplicas(sources: Iterable<EventSource>): number {
  let replicas = 1;
  for (const es of sources) replicas = Math.max(replicas, es.spec.stream.replicas ?? 1);
  return replicas;
}

export function deadLetterStream(pl: Pipeline, replicas = 1): DesiredStream {
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
    num_replicas: replicas,
    duplicate_window: nanos(deadLetterDuplicateWindowMs(parseDuration(pl.spec.deadLetter.maxAge))),
    discard: DiscardPolicy.Old,
  };
}

/**
 * JetStream tells that a consumer gave up on an event (maxDeliver reached without an ack or term)
 * only in a core NATS advisory, which nobody hears while no processor is connected. This stream
 * keeps the advisories of the Pipeline's consumers until a processor has dead-lettered the event
 * and acknowledged the advisory (work-queue retention: acknowledged advisories are removed).
 */
export function advisoryStream(pl: Pipeline, replicas = 1): DesiredStream {
  const ns = pl.metadata.namespace ?? 'default';
  const name = pl.metadata.name!;
  const consumer = consumerName(ns, name);
  return {
    name: advisoryStreamName(ns, name),
    description: `eventrunner max-deliveries advisories of Pipeline ${ns}/${name}`,
    subjects: [
      ...new Set(pl.spec.sources.map((s) => maxDeliveriesSubject(streamName(ns, s.eventSource), consumer))),
    ],
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    // An advisory older than the dead letters' duplicate window could dead-letter an event twice;
    // the event itself is rarely kept that long by its source stream anyway.
    max_age: nanos(deadLetterDuplicateWindowMs(parseDuration(pl.spec.deadLetter.maxAge))),
    max_bytes: parseBytes(pl.spec.deadLetter.maxBytes),
    num_replicas: replicas,
    duplicate_window: nanos(120_000),
    discard: DiscardPolicy.Old,
  };
}

/**
 * The processors' durable consumer on the advisory stream: every advisory is retried until it
 * has been handled (no maxDeliver), a few at a time.
 */
export function advisoryConsumer(pl: Pipeline): DesiredConsumer {
  const ns = pl.metadata.namespace ?? 'default';
  return {
    durable_name: consumerName(ns, pl.metadata.name!),
    description: `eventrunner Pipeline ${ns}/${pl.metadata.name} max-deliveries advisories`,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    max_deliver: -1,
    ack_wait: nanos(30_000),
    max_ack_pending: 64,
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

/**
 * A Pipeline's own streams: its dead letters, and its max-deliveries advisories with the
 * processors' consumer on them. Returns the dead-letter stream's result (its depth goes to status).
 */
export async function ensurePipelineStreams(
  jsm: JetStreamManager,
  pl: Pipeline,
  replicas: number,
): Promise<{
  deadLetters: Awaited<ReturnType<typeof ensureStream>>;
  advisories: Awaited<ReturnType<typeof ensureStream>>;
  advisoryConsumer: Awaited<ReturnType<typeof ensureConsumer>>;
}> {
  const deadLetters = await ensureStream(jsm, deadLetterStream(pl, replicas));
  const advisories = await ensureStream(jsm, advisoryStream(pl, replicas));
  const consumer = await ensureConsumer(jsm, advisories.info.config.name, advisoryConsumer(pl));
  return { deadLetters, advisories, advisoryConsumer: consumer };
}
