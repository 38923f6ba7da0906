// The autoscaler in the Pipeline reconcile: feeds each reconcile's consumer readings to the pure
// decision (operator/autoscale.ts), keeps its state per Pipeline in memory (a restarted operator
// measures again from scratch), tells every change as an Event and the decision in
// status.autoscaling. The replicas go on the processor Deployment only; spec.replicas is not written.
import type { ConsumerInfo } from '@nats-io/jetstream';
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

/** How soon to look again while autoscaling: a few samples per lookback window. */
export function autoscaleIntervalMs(pl: Pipeline): number | undefined {
  const spec = autoscaleSpec(pl);
  return spec ? Math.min(10_000, Math.max(1000, Math.round(spec.lookbackMs / 4))) : undefined;
}

export function forgetAutoscaler(ctx: ControllerContext, pl: Pipeline): void {
  stateOf(ctx).delete(`${pl.metadata.namespace}/${pl.metadata.name}`);
}

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
): Promise<{ replicas: number; status: NonNullable<PipelineStatus['autoscaling']> } | undefined> {
  const spec = autoscaleSpec(pl);
  if (!spec) {
    forgetAutoscaler(ctx, pl);
    return undefined;
  }
  const previous = pl.status?.autoscaling;
  const key = `${pl.metadata.namespace}/${pl.metadata.name}`;
  const kept = stateOf(ctx).get(key);
  const current = kept?.replicas ?? deployment?.spec?.replicas ?? Math.max(1, spec.minReplicas);
  if (!readings) {
    return {
      replicas: current,
      status: {
        ...previous,
        desiredReplicas: current,
        reason: 'Unknown',
        message: 'the consumers cannot be read; replicas stay as they are',
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
    log.info({ from: current, to: d.replicas, reason: d.reason }, 'Scaled processors');
    await ctx.events.record(pl, 'Normal', d.reason, `processors ${current} → ${d.replicas}: ${d.message}`);
  } else if (d.reason === AutoscaleReason.ThroughputPlateau && previous?.reason !== d.reason) {
    await ctx.events.record(pl, 'Normal', d.reason, `processors held at ${current}: ${d.message}`);
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
