// The NATS side of a Pipeline's queries: its shuffle stream (desired config from the spec, a pure
// builder), the KV bucket of partition leases, checkpoints and partition status (created when
// missing, deleted with the Pipeline), and the per-query status read back from that bucket.
import { DiscardPolicy, RetentionPolicy, StorageType, type JetStreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { ConditionReason, ConditionType, type ConditionInput } from '../api/conditions.js';
import type { Pipeline, QueryStatus } from '../api/generated/types.js';
import { DEFAULT_MAX_STATE_KEYS } from '../runtime/queries/query.js';
import type { PartitionStatus } from '../runtime/query-worker/status.js';
import type { DesiredStream } from './jetstream.js';
import { isJsNotFound, redeliveryWindowMs } from './jetstream.js';
import { shuffleStreamName, shuffleSubjectPrefix } from './names.js';

const nanos = (ms: number) => Math.round(ms * 1e6);

/**
 * The shuffle stream: a work queue (a message is gone once its partition's owner acked it after a
 * checkpoint), one subject per query and partition under the Pipeline's prefix.
 */
export function shuffleStream(pl: Pipeline): DesiredStream {
  const ns = pl.metadata.namespace ?? 'default';
  const name = pl.metadata.name!;
  return {
    name: shuffleStreamName(ns, name),
    description: `eventrunner query inputs of Pipeline ${ns}/${name}`,
    subjects: [`${shuffleSubjectPrefix(ns, name)}.>`],
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    max_age: 0,
    max_bytes: -1,
    num_replicas: 1,
    // A source event is published again when it is redelivered: ids are remembered that long.
    duplicate_window: nanos(redeliveryWindowMs(pl.spec.delivery)),
    discard: DiscardPolicy.Old,
  };
}

/**
 * Creates a KV bucket when it is missing; true when it did. History 1: its users (leases,
 * checkpoints, Replay progress) revision-check against the latest value only.
 */
export async function ensureKvBucket(
  jsm: JetStreamManager,
  bucket: string,
  description: string,
): Promise<boolean> {
  try {
    await jsm.streams.info(`KV_${bucket}`);
    return false;
  } catch (err) {
    if (!isJsNotFound(err)) throw err;
  }
  await new Kvm(jsm.jetstream()).create(bucket, { history: 1, description });
  return true;
}

/** Creates the Pipeline's state bucket when it is missing; true when it did. */
export const ensureStateBucket = (jsm: JetStreamManager, bucket: string): Promise<boolean> =>
  ensureKvBucket(jsm, bucket, 'eventrunner partition leases, checkpoints and status');

export async function deleteStateBucketIfExists(jsm: JetStreamManager, bucket: string): Promise<boolean> {
  try {
    return await jsm.streams.delete(`KV_${bucket}`);
  } catch (err) {
    if (isJsNotFound(err)) return false;
    throw err;
  }
}

/** A lease as the workers write it (runtime/query-worker/leases.ts). */
export interface LeaseValue {
  owner: string;
}

/** What the bucket holds for one partition: its live owner, and what that owner last reported. */
export interface PartitionObservation {
  query: string;
  partition: number;
  /** The lease's owner, when the lease is held and was renewed within its duration. */
  owner?: string;
  status?: PartitionStatus;
}

/** Reads every lease and status key of the bucket: one observation per partition that has any. */
export async function readPartitions(
  jsm: JetStreamManager,
  bucket: string,
  leaseMs: number,
  now: number,
): Promise<PartitionObservation[]> {
  const kv = await new Kvm(jsm.jetstream()).open(bucket);
  const byKey = new Map<string, PartitionObservation>();
  const at = (query: string, partition: number) => {
    const k = `${query}.${partition}`;
    let o = byKey.get(k);
    if (!o) byKey.set(k, (o = { query, partition }));
    return o;
  };
  const keys: string[] = [];
  for await (const k of await kv.keys(['lease.>', 'status.>'])) keys.push(k);
  for (const key of keys) {
    const m = /^(lease|status)\.([^.]+)\.(\d+)$/.exec(key);
    if (!m) continue;
    const e = await kv.get(key);
    if (e?.operation !== 'PUT') continue;
    const o = at(m[2]!, Number(m[3]));
    try {
      if (m[1] === 'lease') {
        // A lease not renewed within its duration is abandoned (twice that here: the operator's
        // clock is not the server's).
        if (now - e.created.getTime() <= 2 * leaseMs) o.owner = (e.json() as LeaseValue).owner;
      } else o.status = e.json() as PartitionStatus;
    } catch {
      // A value that is not JSON says nothing.
    }
  }
  return [...byKey.values()];
}

/**
 * Per-query status from the observations (pure). Times, not ages: an idle Pipeline's status stays
 * as it is, and kubectl shows the ages.
 */
export function queryStatuses(
  queries: readonly { name: string; partitions: number }[],
  seen: readonly PartitionObservation[],
): QueryStatus[] {
  return queries.map((q) => {
    const mine = seen.filter((o) => o.query === q.name && o.partition < q.partitions);
    const owners = new Set(mine.flatMap((o) => (o.owner ? [o.owner] : [])));
    const statuses = mine.flatMap((o) => (o.status ? [o.status] : []));
    const watermarks = statuses.flatMap((s) => (s.watermark === null ? [] : [s.watermark]));
    const times = statuses.map((s) => Date.parse(s.at)).filter(Number.isFinite);
    return {
      name: q.name,
      partitions: q.partitions,
      owned: mine.filter((o) => o.owner).length,
      workers: owners.size,
      ...(watermarks.length ? { watermark: rfc3339(Math.min(...watermarks)) } : {}),
      lateEvents: statuses.reduce((n, s) => n + s.late, 0),
      stateKeys: statuses.reduce((n, s) => n + s.stateKeys, 0),
      stateLimitedEvents: statuses.reduce((n, s) => n + (s.rejected ?? 0), 0),
      partitionsAtStateLimit: statuses.filter((s) => s.full === true).length,
      ...(times.length ? { lastCheckpoint: rfc3339(Math.min(...times)) } : {}),
    };
  });
}

/** Seconds precision, as Kubernetes writes times. */
export function rfc3339(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** Owner changes between two readings: partitions that had a live owner and now have another. */
export function ownerChanges(
  before: ReadonlyMap<string, string>,
  seen: readonly PartitionObservation[],
): { partition: string; from: string; to: string }[] {
  const out: { partition: string; from: string; to: string }[] = [];
  for (const o of seen) {
    const k = `${o.query}/${o.partition}`;
    const from = before.get(k);
    if (o.owner && from && from !== o.owner) out.push({ partition: k, from, to: o.owner });
  }
  return out.sort((a, b) => (a.partition < b.partition ? -1 : a.partition > b.partition ? 1 : 0));
}

/**
 * QueryStateWithinLimits from the per-query status (pure): False, naming each query and what to
 * change, while a partition holds its query's maxStateKeys. Without the workers' reports (not
 * readable, or queries that do not compile while the last good ones run), undefined when the
 * condition was `known` (it keeps what it said), else True: nothing has reported a limit.
 */
export function stateLimitCondition(
  queries: readonly { name: string; maxStateKeys?: number }[],
  items: readonly QueryStatus[] | undefined,
  known: boolean,
): ConditionInput | undefined {
  const type = ConditionType.QueryStateWithinLimits;
  const within = (message: string): ConditionInput => ({
    type,
    status: 'True',
    reason: ConditionReason.StateWithinLimits,
    message,
  });
  if (queries.length === 0) return within('no queries');
  if (!items) return known ? undefined : within('no query partition has reported reaching maxStateKeys');
  const full = queries.flatMap((q, i) => {
    const item = items.find((it) => it.name === q.name);
    const at = item?.partitionsAtStateLimit ?? 0;
    if (at === 0) return [];
    const max = q.maxStateKeys ?? DEFAULT_MAX_STATE_KEYS;
    return [
      `query ${q.name}: ${at} of ${item?.partitions ?? at} partitions at maxStateKeys (${max} state keys), ${item?.stateLimitedEvents ?? 0} inputs needing new state dead-lettered with reason state-limit so far; raise spec.queries[${i}].maxStateKeys or its partitions, or shorten its windows`,
    ];
  });
  return full.length
    ? { type, status: 'False', reason: ConditionReason.StateLimitReached, message: full.join('; ') }
    : within('every query partition holds fewer state keys than its maxStateKeys');
}
