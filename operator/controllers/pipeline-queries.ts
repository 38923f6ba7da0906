// The query side of a Pipeline: its shuffle stream and state bucket in NATS, the query-worker
// ConfigMap and Deployment, their removal once the Pipeline has no queries, the per-query status
// read from what the workers write in the bucket, and an Event when a partition changes owner.
import { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import { ConditionReason, ConditionType, type ConditionInput } from '../../api/conditions.js';
import type { Pipeline, PipelineStatus, ProcessorConfigInput, Sink } from '../../api/generated/types.js';
import type { Logger } from '../../runtime/common/logger.js';
import {
  QUERY_LEASE_MS,
  queryWorkerConfig,
  queryWorkerConfigMap,
  queryWorkerDeployment,
  queryWorkerNames,
  queryWorkerReplicas,
  tableSinkNames,
  totalPartitions,
} from '../builders/query-worker.js';
import type { SecretDigests } from '../builders/processor.js';
import { deleteStreamIfExists, ensureStream } from '../jetstream.js';
import type { ControllerContext } from '../manager.js';
import { queryStateBucket, shuffleStreamName, shuffleSubjectPrefix } from '../names.js';
import { shuffleSubject } from '../../runtime/process/shuffle.js';
import {
  deleteStateBucketIfExists,
  ensureStateBucket,
  ownerChanges,
  queryStatuses,
  readPartitions,
  shuffleStream,
} from '../query-state.js';
import { queryWorkerPermissions } from '../nats-permissions.js';
import { ensureNatsUser } from './nats-users.js';
import { sinkSecretDigests } from './sink-secrets.js';
import { workloadCondition } from './workload.js';
import { autoscaleQueryWorkers, shuffleReading, type ConsumerReading } from './pipeline-autoscale.js';

/** True when the Pipeline runs query workers: it has queries (and they compiled). */
export const hasQueries = (pl: Pipeline) => (pl.spec.queries?.length ?? 0) > 0;

/** The shuffle subject of each partition of the Pipeline's queries, where its owner reads. */
export function shufflePartitionSubjects(pl: Pipeline): string[] {
  const prefix = shuffleSubjectPrefix(pl.metadata.namespace!, pl.metadata.name!);
  return (pl.spec.queries ?? []).flatMap((q) =>
    Array.from({ length: q.partitions ?? 1 }, (_, p) => shuffleSubject(prefix, q.name, p)),
  );
}

/**
 * Creates or repairs the shuffle stream and creates the state bucket; a problem for ConsumerReady.
 * `reading` is the shuffle stream's pending and processed work, for the autoscaler; with
 * spec.autoscaling, also how many partitions have work pending (the stream's messages per subject).
 */
export async function ensureQueryState(
  ctx: ControllerContext,
  pl: Pipeline,
  log: Logger,
): Promise<{ problem?: ConditionInput; transient?: unknown; reading?: ConsumerReading }> {
  try {
    const jsm = await ctx.jsm();
    const res = await ensureStream(jsm, shuffleStream(pl));
    if (res.action !== 'unchanged')
      log.info(
        { stream: res.info.config.name, drifted: res.drifted },
        res.action === 'created' ? 'Created shuffle stream' : 'Repaired shuffle stream drift',
      );
    const bucket = queryStateBucket(pl.metadata.namespace!, pl.metadata.name!);
    if (await ensureStateBucket(jsm, bucket)) log.info({ bucket }, 'Created query state bucket');
    if (!pl.spec.autoscaling) return { reading: shuffleReading(res.info) };
    const prefix = shuffleSubjectPrefix(pl.metadata.namespace!, pl.metadata.name!);
    const info = await jsm.streams.info(res.info.config.name, { subjects_filter: `${prefix}.>` });
    return { reading: shuffleReading(info, shufflePartitionSubjects(pl)) };
  } catch (err) {
    return {
      transient: err,
      problem: {
        type: ConditionType.ConsumerReady,
        status: 'False',
        reason: ConditionReason.QueryStateError,
        message: `query state: ${err instanceof Error ? err.message : String(err)}`,
      },
    };
  }
}

/**
 * Applies the workers' NATS user, ConfigMap and Deployment from the processor config just applied;
 * returns when the user's credentials are due for renewal (undefined: the operator mints none).
 */
export async function ensureQueryWorkers(
  ctx: ControllerContext,
  pl: Pipeline,
  processor: ProcessorConfigInput,
  sinks: Map<string, Sink>,
  digests: SecretDigests,
  log: Logger,
  /** The autoscaler's count, instead of spec.queryWorkers.replicas. */
  replicas?: number,
): Promise<number | undefined> {
  const ns = pl.metadata.namespace!;
  const names = queryWorkerNames(pl);
  // Lookup tables read the Sinks spec.tables names, which need not be outputs; their Secrets are
  // mounted and hashed like the outputs'. A table's missing Sink is retried until it exists.
  const extra = new Map<string, Sink>();
  for (const t of tableSinkNames(pl)) {
    if (sinks.has(t)) continue;
    const sink = ctx.caches.sinks.get(t, ns);
    if (!sink) throw new Error(`Sink ${t} of a lookup table (spec.tables) does not exist`);
    extra.set(t, sink);
  }
  if (extra.size) {
    const more = await sinkSecretDigests(ctx, ns, extra);
    sinks = new Map([...sinks, ...extra]);
    digests = {
      ca: new Map([...(digests.ca ?? []), ...more.ca]),
      credentials: new Map([...(digests.credentials ?? []), ...more.credentials]),
    };
  }
  const config = queryWorkerConfig(pl, processor, ctx.options, sinks);
  // The user before the pods that mount it.
  const renewAt = await ensureNatsUser(
    ctx,
    pl,
    names.natsUser,
    'query-worker',
    queryWorkerPermissions(config),
    log,
  );
  await ctx.children.ensure(
    queryWorkerConfigMap(pl, config, ctx.options),
    ctx.caches.configMaps.get(names.configMap, ns),
  );
  const desired = queryWorkerDeployment(pl, config, sinks, ctx.options, digests);
  if (replicas !== undefined) desired.spec!.replicas = replicas;
  await ctx.children.ensure(desired, ctx.caches.deployments.get(names.deployment, ns));
  return renewAt;
}

/**
 * The query-worker replicas under spec.autoscaling (undefined without it), from the shuffle
 * stream's reading that ensureQueryState returned (undefined: unread, the count stays).
 */
export function scaleQueryWorkers(
  ctx: ControllerContext,
  pl: Pipeline,
  reading: ConsumerReading | undefined,
  log: Logger,
): ReturnType<typeof autoscaleQueryWorkers> {
  const deployment = ctx.caches.deployments.get(queryWorkerNames(pl).deployment, pl.metadata.namespace!);
  return autoscaleQueryWorkers(ctx, pl, totalPartitions(pl), reading, deployment, log);
}

/**
 * A Pipeline whose queries were all removed: its query workers go at once, and its shuffle stream
 * and state bucket too unless deletionPolicy is Retain.
 */
export async function removeQueryWorkers(ctx: ControllerContext, pl: Pipeline, log: Logger): Promise<void> {
  const ns = pl.metadata.namespace!;
  const names = queryWorkerNames(pl);
  const deployment = ctx.caches.deployments.get(names.deployment, ns);
  if (deployment) {
    await ctx.kc
      .makeApiClient(AppsV1Api)
      .deleteNamespacedDeployment({ name: names.deployment, namespace: ns })
      .catch(ignoreNotFound);
    ctx.children.forget(deployment);
    log.info({ deployment: names.deployment }, 'Deleted query-worker Deployment');
  }
  const configMap = ctx.caches.configMaps.get(names.configMap, ns);
  if (configMap) {
    await ctx.kc
      .makeApiClient(CoreV1Api)
      .deleteNamespacedConfigMap({ name: names.configMap, namespace: ns })
      .catch(ignoreNotFound);
    ctx.children.forget(configMap);
  }
  if (pl.status?.queryWorkers && pl.spec.deletionPolicy !== 'Retain') await deleteQueryState(ctx, pl, log);
}

function ignoreNotFound(err: unknown): void {
  if ((err as { code?: number }).code !== 404) throw err;
}

/** Deletes the shuffle stream and the state bucket (deletionPolicy Delete). */
export async function deleteQueryState(ctx: ControllerContext, pl: Pipeline, log: Logger): Promise<void> {
  const ns = pl.metadata.namespace!;
  const name = pl.metadata.name!;
  const jsm = await ctx.jsm();
  if (await deleteStreamIfExists(jsm, shuffleStreamName(ns, name)))
    log.info({ stream: shuffleStreamName(ns, name) }, 'Deleted shuffle stream');
  if (await deleteStateBucketIfExists(jsm, queryStateBucket(ns, name)))
    log.info({ bucket: queryStateBucket(ns, name) }, 'Deleted query state bucket');
  owners.delete(pl.metadata.uid ?? '');
}

/** WorkloadReady of a Pipeline with queries: its processors' readiness, then its query workers'. */
export function withQueryWorkers(
  ctx: ControllerContext,
  pl: Pipeline,
  processor: ConditionInput,
  /** The autoscaler's count, instead of spec.queryWorkers.replicas. */
  replicas = queryWorkerReplicas(pl),
): ConditionInput {
  if (processor.status !== 'True') return processor;
  const deployment = ctx.caches.deployments.get(queryWorkerNames(pl).deployment, pl.metadata.namespace!);
  const workers = workloadCondition(ConditionType.WorkloadReady, deployment, replicas, 'query-worker');
  if (workers.status !== 'True') return workers;
  return { ...processor, message: `${processor.message}; ${workers.message}` };
}

/** status.queryWorkers, and status.queries with what the workers report added to `compiled`. */
export async function queryStatus(
  ctx: ControllerContext,
  pl: Pipeline,
  compiled: PipelineStatus['queries'],
  log: Logger,
): Promise<Pick<PipelineStatus, 'queries' | 'queryWorkers'>> {
  const ns = pl.metadata.namespace!;
  const name = pl.metadata.name!;
  const workers = ctx.caches.deployments.get(queryWorkerNames(pl).deployment, ns);
  return {
    queryWorkers: {
      replicas: workers?.status?.replicas ?? 0,
      readyReplicas: workers?.status?.readyReplicas ?? 0,
      shuffleStream: shuffleStreamName(ns, name),
      stateBucket: queryStateBucket(ns, name),
    },
    queries: { ...compiled, ...(await queryRuntimeStatus(ctx, pl, log)) },
  };
}

// The last owner seen per partition, by Pipeline uid: what an owner change is told against. Kept
// in memory: after an operator restart the first reading only sets it.
const owners = new Map<string, Map<string, string>>();

/**
 * Per-query status from the state bucket, and a Normal Event per (old owner, new owner) when
 * partitions moved since the last reading. A bucket that cannot be read makes `owned` unknown.
 */
async function queryRuntimeStatus(
  ctx: ControllerContext,
  pl: Pipeline,
  log: Logger,
): Promise<Pick<NonNullable<PipelineStatus['queries']>, 'owned' | 'watermark' | 'items'>> {
  const queries = (pl.spec.queries ?? []).map((q) => ({ name: q.name, partitions: q.partitions ?? 1 }));
  const all = queries.reduce((n, q) => n + q.partitions, 0);
  const bucket = queryStateBucket(pl.metadata.namespace!, pl.metadata.name!);
  const now = Date.now();
  let seen;
  try {
    seen = await readPartitions(await ctx.jsm(), bucket, QUERY_LEASE_MS, now);
  } catch (err) {
    log.debug({ err, bucket }, 'Could not read the query state bucket');
    return { owned: `unknown/${all}` };
  }
  const items = queryStatuses(queries, seen);
  const uid = pl.metadata.uid ?? '';
  const before = owners.get(uid) ?? new Map<string, string>();
  const moved = ownerChanges(before, seen);
  const byPair = new Map<string, string[]>();
  for (const m of moved) {
    const pair = `${m.from}\u0000${m.to}`;
    byPair.set(pair, [...(byPair.get(pair) ?? []), m.partition]);
  }
  for (const [pair, partitions] of byPair) {
    const [from, to] = pair.split('\u0000');
    log.info({ from, to, partitions }, 'Query partitions changed owner');
    await ctx.events.record(
      pl,
      'Normal',
      ConditionReason.PartitionOwnerChanged,
      `${partitions.length} partition${partitions.length === 1 ? '' : 's'} (${partitions.join(', ')}) moved from ${from} to ${to}`,
    );
  }
  for (const o of seen) if (o.owner) before.set(`${o.query}/${o.partition}`, o.owner);
  owners.set(uid, before);
  const watermarks = items.flatMap((i) => (i.watermark ? [i.watermark] : [])).sort();
  return {
    owned: `${items.reduce((n, i) => n + (i.owned ?? 0), 0)}/${all}`,
    ...(watermarks.length ? { watermark: watermarks[0] } : {}),
    items,
  };
}
