// Replay → a replay Deployment (the Pipeline's processor pod running `eventrunner replay-worker`)
// until the worker reports the Replay finished in the Pipeline's replay bucket; status copies its
// progress (total, done, failed), Events mark start and end, and the Deployment and the Replay's
// work stream are removed when it finishes or is deleted (the finalizer waits for that).
import { AppsV1Api, type V1Deployment } from '@kubernetes/client-node';
import { Kvm, type KV } from '@nats-io/kv';
import { ConditionReason, ConditionType, setCondition, type ConditionInput } from '../../api/conditions.js';
import type { Replay, ReplayStatus } from '../../api/generated/types.js';
import type { Logger } from '../../runtime/common/logger.js';
import {
  progressKey,
  replayBucketName,
  workStreamName,
  type ReplayProgress,
} from '../../runtime/replay/plan.js';
import { isNotFound } from '../apply.js';
import { isJsNotFound } from '../jetstream.js';
import { canonicalJson } from '../builders/common.js';
import { replayDeployment, replayDeploymentName, replayPlan } from '../builders/replay.js';
import type { ControllerContext } from '../manager.js';
import { childName } from '../names.js';
import type { ReconcileResult } from '../queue.js';
import { hasFinalizer, setFinalizer } from '../status.js';

type Phase = NonNullable<ReplayStatus['phase']>;

/** How often a running Replay's progress is read. */
const PROGRESS_MS = 1000;

export async function reconcileReplay(
  ctx: ControllerContext,
  namespace: string,
  name: string,
  log: Logger,
): Promise<ReconcileResult | void> {
  const rp = ctx.caches.replays.get(name, namespace);
  if (!rp) return;
  if (rp.metadata.deletionTimestamp) {
    if (!hasFinalizer(rp)) return;
    await cleanUp(ctx, rp, log, true);
    await setFinalizer(ctx, rp, false);
    return;
  }
  if (!hasFinalizer(rp)) await setFinalizer(ctx, rp, true);
  const phase = rp.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') {
    await cleanUp(ctx, rp, log, false);
    return;
  }

  const pl = ctx.caches.pipelines.get(rp.spec.pipeline, namespace);
  if (!pl) {
    await writeReplayStatus(ctx, rp, 'Failed', undefined, {
      type: ConditionType.Succeeded,
      status: 'False',
      reason: ConditionReason.PipelineNotFound,
      message: `Pipeline ${rp.spec.pipeline} (spec.pipeline) does not exist in namespace ${namespace}`,
    });
    return;
  }
  const processor = await readDeployment(ctx, namespace, childName(pl.metadata.name!, 'processor'));
  if (!processor) {
    await writeReplayStatus(ctx, rp, 'Pending', undefined, {
      type: ConditionType.Succeeded,
      status: 'Unknown',
      reason: ConditionReason.PipelineNotFound,
      message: `Pipeline ${pl.metadata.name} has no processor Deployment yet`,
    });
    return { requeueAfterMs: 5000 };
  }
  const desired = replayDeployment(rp, processor);
  if (await ctx.children.ensure(desired, ctx.caches.deployments.get(desired.metadata!.name!, namespace)))
    log.info({ deployment: desired.metadata!.name }, 'Applied replay Deployment');

  const progress = await readProgress(ctx, rp);
  const outcome = outcomeOf(progress);
  await writeReplayStatus(ctx, rp, outcome.phase, progress, outcome.condition);
  if (outcome.phase === 'Running') return { requeueAfterMs: PROGRESS_MS };
  await cleanUp(ctx, rp, log, false);
}

/** The phase and condition a worker's progress report means. */
export function outcomeOf(p: ReplayProgress | undefined): { phase: Phase; condition: ConditionInput } {
  const type = ConditionType.Succeeded;
  if (p?.error)
    return {
      phase: 'Failed',
      condition: { type, status: 'False', reason: ConditionReason.ReplayFailed, message: p.error },
    };
  if (!p?.finished)
    return {
      phase: 'Running',
      condition: {
        type,
        status: 'Unknown',
        reason: ConditionReason.ReplayRunning,
        message: p?.selected
          ? `${p.done + p.failed} of ${p.total} events settled`
          : `selecting events (${p?.total ?? 0} so far)`,
      },
    };
  if (p.failed > 0)
    return {
      phase: 'Failed',
      condition: {
        type,
        status: 'False',
        reason: ConditionReason.EventsDeadLetteredAgain,
        message: `${p.failed} of ${p.total} events were dead-lettered again; the dead-letter stream has their new reasons`,
      },
    };
  return {
    phase: 'Succeeded',
    condition: {
      type,
      status: 'True',
      reason: ConditionReason.ReplaySucceeded,
      message: `${p.done} of ${p.total} events went through the Pipeline`,
    },
  };
}

async function writeReplayStatus(
  ctx: ControllerContext,
  rp: Replay,
  phase: Phase,
  progress: ReplayProgress | undefined,
  condition: ConditionInput,
): Promise<void> {
  const live = rp.status ?? {};
  const generation = rp.metadata.generation ?? 0;
  const now = new Date();
  const ended = phase === 'Succeeded' || phase === 'Failed';
  const status: ReplayStatus = {
    observedGeneration: generation,
    phase,
    total: progress?.total ?? live.total ?? 0,
    done: progress?.done ?? live.done ?? 0,
    failed: progress?.failed ?? live.failed ?? 0,
    ...(live.startTime || phase !== 'Pending' ? { startTime: live.startTime ?? now.toISOString() } : {}),
    ...(ended ? { completionTime: live.completionTime ?? now.toISOString() } : {}),
    conditions: setCondition(live.conditions, condition, generation, now),
  };
  if (canonicalJson(live) === canonicalJson(status)) return;
  await ctx.applier.applyStatus(
    {
      apiVersion: rp.apiVersion,
      kind: rp.kind,
      metadata: { name: rp.metadata.name, namespace: rp.metadata.namespace },
      status,
    },
    'replays',
  );
  if (live.phase === phase) return;
  if (phase === 'Running')
    await ctx.events.record(rp, 'Normal', 'ReplayStarted', `Replaying into Pipeline ${rp.spec.pipeline}`);
  else if (phase !== 'Pending')
    await ctx.events.record(
      rp,
      phase === 'Failed' ? 'Warning' : 'Normal',
      condition.reason,
      condition.message,
    );
}

async function readDeployment(
  ctx: ControllerContext,
  namespace: string,
  name: string,
): Promise<V1Deployment | undefined> {
  try {
    // The cache keeps no pod templates; the replay pod is made from the processor's.
    return await ctx.kc.makeApiClient(AppsV1Api).readNamespacedDeployment({ name, namespace });
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

async function bucketOf(ctx: ControllerContext, rp: Replay): Promise<KV | undefined> {
  const jsm = await ctx.jsm();
  try {
    await jsm.streams.info(`KV_${replayBucketName(rp.metadata.namespace!, rp.spec.pipeline)}`);
  } catch (err) {
    if (isJsNotFound(err)) return undefined;
    throw err;
  }
  return new Kvm(jsm.jetstream()).open(replayBucketName(rp.metadata.namespace!, rp.spec.pipeline));
}

async function readProgress(ctx: ControllerContext, rp: Replay): Promise<ReplayProgress | undefined> {
  const kv = await bucketOf(ctx, rp);
  const e = await kv?.get(progressKey(replayPlan(rp)));
  return e && e.operation === 'PUT' ? (e.json() as ReplayProgress) : undefined;
}

/**
 * Removes what the Replay made: its Deployment and its work stream; on deletion also its progress
 * record. The redriven marks stay: they belong to the dead letters, not to one Replay.
 */
async function cleanUp(ctx: ControllerContext, rp: Replay, log: Logger, deleting: boolean): Promise<void> {
  const namespace = rp.metadata.namespace!;
  const deployment = replayDeploymentName(rp);
  if (ctx.caches.deployments.get(deployment, namespace)) {
    await ctx.applier.delete({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: deployment, namespace },
    });
    log.info({ deployment }, 'Deleted replay Deployment');
  }
  const jsm = await ctx.jsm();
  const stream = workStreamName(replayPlan(rp));
  try {
    await jsm.streams.delete(stream);
    log.info({ stream }, 'Deleted replay work stream');
  } catch (err) {
    if (!isJsNotFound(err)) throw err;
  }
  if (deleting) await (await bucketOf(ctx, rp))?.delete(progressKey(replayPlan(rp)));
}
