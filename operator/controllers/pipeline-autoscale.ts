// The autoscaler in the Pipeline reconcile: feeds each reconcile's readings to the pure decision
// (operator/autoscale.ts), keeps its state per Pipeline and workload in memory (a restarted
// operator measures again from scratch), tells every change as an Event and the decision in
// status.autoscaling (processors) and status.queryWorkers.autoscaling (query workers). The
// replicas go on the Deployments only; spec.replicas and spec.queryWorkers.replicas are not written.
//
// One spec.autoscaling covers both workloads, each measured and decided on its own: processors on
// their source consumers, query workers on the shuffle stream. Query workers are capped at the
// partitions of all queries (more would own nothing) and never go below one while the Pipeline
// has queries: windows also close on the clock, which needs a running worker.
import type { ConsumerInfo, StreamInfo } from '@nats-io/jetstream';
import type { V1Deployment } from '@kubernetes/client-node';
import type { Pipeline, PipelineStatus } from '../../api/generated/types.js';
import { parseDuration } from '../../api/units.js';
import type { Logger } from '../../runtime/common/logger.js';
import {
  AutoscaleReason,
  decide,
  initialAutoscaleState,
  type AutoscaleSpec,
  type AutoscaleState,
} from '../autoscale.js';
import type { ControllerContext } from '../manager.js';

/** What the autoscaler needs of one source's consumer. */
export interface ConsumerReading {
  pending: number;
  processed: number;
}

export function consumerReading(info: ConsumerInfo): ConsumerReading {
  return {
    pending: info.num_pending + info.num_ack_pending,
    processed: Math.max(0, info.delivered.consumer_seq - info.num_ack_pending),
  };
}

/**
 * The query workers' reading from their shuffle stream, a work queue: a message stays until its
 * partition's owner acked it (after a checkpoint), so the stream's messages are the pending work
 * and the ones gone (last sequence − messages) were processed. Unlike the per-partition consumers'
 * counters, which restart whenever a partition changes owner, these only grow.
 */
export function shuffleReading(info: StreamInfo): ConsumerReading {
  return {
    pending: info.state.messages,
    processed: Math.max(0, info.state.last_seq - info.state.messages),
  };
}

/** Which Deployment of a Pipeline the autoscaler sizes. */
export type ScaledWorkload = 'processors' | 'query workers';

// Per Pipeline: the decision state and the replicas last set, which the Deployment cache may not
// show yet when the next reconcile comes.
interface Kept {
  state: AutoscaleState;
  replicas: number;
}
const states = new WeakMap<ControllerContext, Map<string, Kept>>();

function stateOf(ctx: ControllerContext): Map<string, Kept> {
  let m = states.get(ctx);
  if (!m) states.set(ctx, (m = new Map()));
  return m;
}

export function autoscaleSpec(pl: Pipeline): AutoscaleSpec | undefined {
  const a = pl.spec.autoscaling;
  if (!a) return undefined;
  return {
    minReplicas: a.minReplicas ?? 1,
    maxReplicas: a.maxReplicas,
    targetLagSeconds: a.targetLagSeconds ?? 30,
    scaleDownDelayMs: parseDuration(a.scaleDownDelay ?? '5m'),
    lookbackMs: parseDuration(a.lookback ?? '30s'),
  };
}

/**
 * spec.autoscaling as it applies to the query workers: at most one per partition, at least one
 * (windows close on the clock), within the Pipeline's minReplicas and maxReplicas otherwise.
 */
export function queryWorkerAutoscaleSpec(spec: AutoscaleSpec, partitions: number): AutoscaleSpec {
  const max = Math.max(1, Math.min(spec.maxReplicas, partitions));
  return { ...spec, maxReplicas: max, minReplicas: Math.min(max, Math.max(1, spec.minReplicas)) };
}

/** How soon to look again while autoscaling: a few samples per lookback window. */
export function autoscaleIntervalMs(pl: Pipeline): number | undefined {
  const spec = autoscaleSpec(pl);
  return spec ? Math.min(10_000, Math.max(1000, Math.round(spec.lookbackMs / 4))) : undefined;
}

const keyOf = (pl: Pipeline, workload: ScaledWorkload) =>
  `${pl.metadata.namespace}/${pl.metadata.name}/${workload}`;

/** Forgets what was measured of the Pipeline's workloads (all of them, or one). */
export function forgetAutoscaler(ctx: ControllerContext, pl: Pipeline, workload?: ScaledWorkload): void {
  for (const w of workload ? [workload] : (['processors', 'query workers'] as const))
    stateOf(ctx).delete(keyOf(pl, w));
}

export type AutoscalingStatus = NonNullable<PipelineStatus['autoscaling']>;

/**
 * The processor replicas under spec.autoscaling, and the status to show. `readings` is undefined
 * when a consumer could not be read: the Deployment then keeps what it has.
 */
export async function autoscaleProcessors(
  ctx: ControllerContext,
  pl: Pipeline,
  readings: ConsumerReading[] | undefined,
  deployment: V1Deployment | undefined,
  log: Logger,
  now = Date.now(),
): Promise<{ replicas: number; status: AutoscalingStatus } | undefined> {
  const spec = autoscaleSpec(pl);
  if (!spec) {
    forgetAutoscaler(ctx, pl);
    return undefined;
  }
  return autoscaleWorkload(
    ctx,
    pl,
    'processors',
    spec,
    pl.status?.autoscaling,
    readings,
    deployment,
    log,
    now,
  );
}

/**
 * The query-worker replicas under spec.autoscaling, from the shuffle stream's reading (undefined:
 * it could not be read, the replicas stay), and the status to show.
 */
export async function autoscaleQueryWorkers(
  ctx: ControllerContext,
  pl: Pipeline,
  partitions: number,
  reading: ConsumerReading | undefined,
  deployment: V1Deployment | undefined,
  log: Logger,
  now = Date.now(),
): Promise<{ replicas: number; status: AutoscalingStatus } | undefined> {
  const spec = autoscaleSpec(pl);
  if (!spec || partitions === 0) {
    forgetAutoscaler(ctx, pl, 'query workers');
    return undefined;
  }
  return autoscaleWorkload(
    ctx,
    pl,
    'query workers',
    queryWorkerAutoscaleSpec(spec, partitions),
    pl.status?.queryWorkers?.autoscaling,
    reading && [reading],
    deployment,
    log,
    now,
  );
}

async function autoscaleWorkload(
  ctx: ControllerContext,
  pl: Pipeline,
  workload: ScaledWorkload,
  spec: AutoscaleSpec,
  previous: AutoscalingStatus | undefined,
  readings: ConsumerReading[] | undefined,
  deployment: V1Deployment | undefined,
  log: Logger,
  now: number,
): Promise<{ replicas: number; status: AutoscalingStatus }> {
  const key = keyOf(pl, workload);
  const kept = stateOf(ctx).get(key);
  const current = kept?.replicas ?? deployment?.spec?.replicas ?? Math.max(1, spec.minReplicas);
  if (!readings) {
    return {
      replicas: current,
      status: {
        ...previous,
        desiredReplicas: current,
        reason: 'Unknown',
        message:
          workload === 'processors'
            ? 'the consumers cannot be read; replicas stay as they are'
            : 'the shuffle stream cannot be read; replicas stay as they are',
      },
    };
  }
  const d = decide(spec, kept?.state ?? initialAutoscaleState(), {
    now,
    pending: readings.reduce((n, r) => n + r.pending, 0),
    processed: readings.reduce((n, r) => n + r.processed, 0),
    replicas: current,
    // Ready pods of this count only: the Deployment must have caught up with the last change.
    readyReplicas:
      deployment?.spec?.replicas === current &&
      deployment.status?.observedGeneration === deployment.metadata?.generation
        ? (deployment.status?.readyReplicas ?? 0)
        : 0,
  });
  stateOf(ctx).set(key, { state: d.state, replicas: d.replicas });
  if (d.changed) {
    log.info({ workload, from: current, to: d.replicas, reason: d.reason }, `Scaled ${workload}`);
    await ctx.events.record(pl, 'Normal', d.reason, `${workload} ${current} → ${d.replicas}: ${d.message}`);
  } else if (d.reason === AutoscaleReason.ThroughputPlateau && previous?.reason !== d.reason) {
    await ctx.events.record(pl, 'Normal', d.reason, `${workload} held at ${current}: ${d.message}`);
  }
  return {
    replicas: d.replicas,
    status: {
      desiredReplicas: d.replicas,
      reason: d.reason,
      message: d.message,
      ...(d.changed
        ? { lastScaleTime: new Date(now).toISOString() }
        : previous?.lastScaleTime
          ? { lastScaleTime: previous.lastScaleTime }
          : {}),
    },
  };
}
