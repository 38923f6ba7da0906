// The autoscaler in the Pipeline reconcile: feeds each reconcile's readings to the pure decision
// (operator/autoscale.ts), keeps its state per Pipeline and workload in memory (a restarted
// operator measures again from scratch), tells every change as an Event and the decision in
// status.autoscaling (processors) and status.queryWorkers.autoscaling (query workers). The
// replicas go on the Deployments only; spec.replicas and spec.queryWorkers.replicas are not written.
//
// One spec.autoscaling covers both workloads, each measured and decided on its own: processors on
// their source consumers, query workers on the shuffle stream. Query workers are capped at the
// partitions of all queries (more would own nothing) and never go below one while the Pipeline
// has queries: windows also close on the clock, which needs a running worker. Within that, they
// go no higher than the partitions that have work pending (a partition is read by its one owner):
// the shuffle stream's messages are counted per subject, one subject per (query, partition).
//
// Query workers acknowledge in steps: a partition acks the shuffle messages of a pull batch only
// once their results were accepted and a checkpoint covers them, so behind a slow output the
// shuffle stream shrinks by up to a pull batch per partition every few (or many) seconds and
// stands still in between. A rate over a window shorter than those gaps reads 0 or a burst, and one
// that ends between steps reads low. So while work waits they are measured at their steps only
// (decideWorkload), over a window of several of the gaps seen (stepWindowMs): it starts and ends
// at a step, and the rate is that of whole cycles of pull, write and checkpoint.
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
  type Decision,
} from '../autoscale.js';
import type { ControllerContext } from '../manager.js';

/** What the autoscaler needs of one source's consumer, or of the shuffle stream. */
export interface ConsumerReading {
  pending: number;
  processed: number;
  /** Consumers: of `pending`, the events not yet delivered to any pod (num_pending). */
  waiting?: number;
  /** Shuffle stream: how many of the queries' partitions have messages (work pending). */
  busyPartitions?: number;
}

export function consumerReading(info: ConsumerInfo): ConsumerReading {
  return {
    pending: info.num_pending + info.num_ack_pending,
    waiting: info.num_pending,
    processed: Math.max(0, info.delivered.consumer_seq - info.num_ack_pending),
  };
}

/**
 * The query workers' reading from their shuffle stream, a work queue: a message stays until its
 * partition's owner acked it (after a checkpoint), so the stream's messages are the pending work
 * and the ones gone (last sequence − messages) were processed. Unlike the per-partition consumers'
 * counters, which restart whenever a partition changes owner, these only grow. With
 * `partitionSubjects` (the subject of each partition of the Pipeline's queries) and an `info`
 * asked with a subjects filter, the partitions with messages are counted too; a subject of no
 * current partition (a removed query's leftovers) is read by no worker and does not count.
 */
export function shuffleReading(info: StreamInfo, partitionSubjects?: readonly string[]): ConsumerReading {
  const reading: ConsumerReading = {
    pending: info.state.messages,
    processed: Math.max(0, info.state.last_seq - info.state.messages),
  };
  if (!partitionSubjects) return reading;
  // The server leaves `subjects` out when no subject matched the filter: nothing is pending.
  const counts = info.state.subjects ?? {};
  return { ...reading, busyPartitions: partitionSubjects.filter((s) => (counts[s] ?? 0) > 0).length };
}

/**
 * The steps in which a workload's processed count moves: its value at the last reading, since
 * when work has waited without a step (undefined: nothing was pending), and the recent gaps
 * between steps while work waited (when each ended, and how long it was), forgotten once older
 * than the window they imply or when nothing is pending.
 */
export interface StepHistory {
  processed: number;
  waitingSince?: number;
  gaps: { at: number; ms: number }[];
}

/** The rate window spans this many of the longest gap between steps seen in it. */
export const STEP_WINDOW_GAPS = 3;
/**
 * The longest window: the shuffle consumers' ack wait (2 min), after which an unacknowledged
 * message is delivered again; a worker that acknowledged nothing for that long while work waited
 * is making no progress, and the decision says so (NoProgress).
 */
export const MAX_STEP_WINDOW_MS = 120_000;

/**
 * The history after one more reading at `now`. `ready`: every pod of the current count is ready;
 * a gap counts only while they were (pods starting or taking their partitions over are no
 * measure of the steps), so while they are not, the open gap starts again.
 */
export function observeSteps(
  prev: StepHistory | undefined,
  r: ConsumerReading,
  now: number,
  ready = true,
): StepHistory {
  const waiting = r.pending > 0;
  // First reading, or the stream was recreated (its count starts again): nothing known of steps.
  if (!prev || r.processed < prev.processed)
    return { processed: r.processed, waitingSince: waiting ? now : undefined, gaps: [] };
  // Nothing waiting: no step to wait for, and the rate no longer matters (the load is what
  // arrives, which the stream's last sequence tells smoothly); the window is lookback again.
  if (!waiting) return { processed: r.processed, gaps: [] };
  const gaps = prev.gaps.filter((g) => now - g.at < Math.min(MAX_STEP_WINDOW_MS, STEP_WINDOW_GAPS * g.ms));
  if (!ready) return { processed: r.processed, waitingSince: now, gaps };
  if (r.processed > prev.processed) {
    if (prev.waitingSince !== undefined) gaps.push({ at: now, ms: now - prev.waitingSince });
    return { processed: r.processed, waitingSince: now, gaps };
  }
  return { processed: r.processed, waitingSince: prev.waitingSince ?? now, gaps };
}

/**
 * The rate window for a workload that progresses in steps: at least `lookbackMs`, and
 * STEP_WINDOW_GAPS times the longest gap between steps that still lies within the window it
 * implies, the open one (work waiting since the last step) included; at most MAX_STEP_WINDOW_MS.
 */
export function stepWindowMs(h: StepHistory, lookbackMs: number, now: number): number {
  const longest = Math.max(
    0,
    ...h.gaps.map((g) => g.ms),
    h.waitingSince === undefined ? 0 : now - h.waitingSince,
  );
  // In whole tenths of a second: it is shown in the status message.
  const ms = Math.ceil((STEP_WINDOW_GAPS * longest) / 100) * 100;
  return Math.max(lookbackMs, Math.min(MAX_STEP_WINDOW_MS, ms));
}

/** Which Deployment of a Pipeline the autoscaler sizes. */
export type ScaledWorkload = 'processors' | 'query workers';

/**
 * What the autoscaler keeps per Pipeline and workload: the decision state and the replicas last
 * set, which the Deployment cache may not show yet when the next reconcile comes.
 */
export interface Kept {
  state: AutoscaleState;
  replicas: number;
  /** Query workers: the steps of their processed count. */
  steps?: StepHistory;
  /** Query workers: the last decision's reason and message, which stand between steps. */
  last?: { reason: AutoscaleReason; message: string };
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

/**
 * One decision for a workload, pure: its reading and what was kept go in, the decision, what to
 * keep and the message to show come out. Query workers are measured over a window spanning their
 * steps (see the top of this file); the message then says how long it is and why.
 */
export function decideWorkload(
  workload: ScaledWorkload,
  spec: AutoscaleSpec,
  kept: Kept | undefined,
  reading: ConsumerReading,
  obs: { now: number; replicas: number; readyReplicas: number },
): { decision: Decision; kept: Kept; message: string } {
  const steps =
    workload === 'query workers'
      ? observeSteps(kept?.steps, reading, obs.now, obs.readyReplicas >= obs.replicas)
      : undefined;
  const windowMs = steps ? stepWindowMs(steps, spec.lookbackMs, obs.now) : spec.lookbackMs;
  // Between two steps, while work waits, a reading tells nothing new of the rate and would end
  // the window mid-step: the last decision stands, and no sample is taken. So every window of
  // the query workers starts and ends at a step, and the rate is that of whole cycles. (A count
  // outside the bounds is fixed at once, and a wait past the longest window is NoProgress.)
  const between =
    steps !== undefined &&
    kept?.last !== undefined &&
    kept.steps !== undefined &&
    reading.pending > 0 &&
    reading.processed === kept.steps.processed &&
    obs.replicas > 0 &&
    obs.replicas >= spec.minReplicas &&
    obs.replicas <= spec.maxReplicas &&
    steps.waitingSince !== undefined &&
    obs.now - steps.waitingSince < MAX_STEP_WINDOW_MS;
  if (between) {
    const last = kept.last!;
    return {
      decision: {
        replicas: obs.replicas,
        reason: last.reason,
        message: last.message,
        state: kept.state,
        changed: false,
      },
      kept: { ...kept, steps },
      message: last.message,
    };
  }
  const d = decide({ ...spec, lookbackMs: windowMs }, kept?.state ?? initialAutoscaleState(), {
    ...obs,
    ...reading,
  });
  const message =
    windowMs > spec.lookbackMs
      ? `${d.message} (rate window ${round1(windowMs / 1000)}s from step to step: the workers ` +
        `acknowledge input at checkpoints, up to ${round1(windowMs / STEP_WINDOW_GAPS / 1000)}s apart)`
      : d.message;
  return {
    decision: d,
    kept: {
      state: d.state,
      replicas: d.replicas,
      ...(steps ? { steps, last: { reason: d.reason, message } } : {}),
    },
    message,
  };
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
  const {
    decision: d,
    kept: next,
    message,
  } = decideWorkload(workload, spec, kept, sum(readings), {
    now,
    replicas: current,
    // Ready pods of this count only: the Deployment must have caught up with the last change.
    readyReplicas:
      deployment?.spec?.replicas === current &&
      deployment.status?.observedGeneration === deployment.metadata?.generation
        ? (deployment.status?.readyReplicas ?? 0)
        : 0,
  });
  stateOf(ctx).set(key, next);
  if (d.changed) {
    log.info({ workload, from: current, to: d.replicas, reason: d.reason }, `Scaled ${workload}`);
    await ctx.events.record(pl, 'Normal', d.reason, `${workload} ${current} → ${d.replicas}: ${message}`);
  } else if (d.reason === AutoscaleReason.ThroughputPlateau && previous?.reason !== d.reason) {
    await ctx.events.record(pl, 'Normal', d.reason, `${workload} held at ${current}: ${message}`);
  }
  return {
    replicas: d.replicas,
    status: {
      desiredReplicas: d.replicas,
      reason: d.reason,
      message,
      ...(d.changed
        ? { lastScaleTime: new Date(now).toISOString() }
        : previous?.lastScaleTime
          ? { lastScaleTime: previous.lastScaleTime }
          : {}),
    },
  };
}

function sum(readings: ConsumerReading[]): ConsumerReading {
  const busy = readings.flatMap((r) => (r.busyPartitions === undefined ? [] : [r.busyPartitions]));
  const waiting = readings.every((r) => r.waiting !== undefined);
  return {
    pending: readings.reduce((n, r) => n + r.pending, 0),
    processed: readings.reduce((n, r) => n + r.processed, 0),
    ...(waiting && readings.length ? { waiting: readings.reduce((n, r) => n + r.waiting!, 0) } : {}),
    ...(busy.length ? { busyPartitions: busy.reduce((n, b) => n + b, 0) } : {}),
  };
}

const round1 = (n: number) => Math.round(n * 10) / 10;
