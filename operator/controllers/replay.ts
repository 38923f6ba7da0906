// Replay → a replay Deployment (the Pipeline's processor pod running `eventrunner replay-worker`)
// until the worker reports the Replay finished in the Pipeline's replay bucket; status copies its
// progress (total, done, failed), Events mark start and end, and the Deployment, the Replay's
// work stream and its NATS user are removed when it finishes or is deleted (the finalizer waits
// for that). The operator creates the replay bucket; it goes with the Pipeline's dead-letter
// stream (deleteReplayBucket), whose redriven dead letters it marks.
import { AppsV1Api, type V1Deployment } from '@kubernetes/client-node';
import { parse as parseYaml } from 'yaml';
import { Kvm, type KV } from '@nats-io/kv';
import { ConditionReason, ConditionType, setCondition, type ConditionInput } from '../../api/conditions.js';
import type { Pipeline, ProcessorConfigInput, Replay, ReplayStatus } from '../../api/generated/types.js';
import type { Logger } from '../../runtime/common/logger.js';
import {
  progressKey,
  replayBucketName,
  workStreamName,
  type ReplayProgress,
} from '../../runtime/replay/plan.js';
import { isNotFound } from '../apply.js';
import { deleteStreamIfExists, isJsNotFound } from '../jetstream.js';
import { ensureKvBucket } from '../query-state.js';
import { canonicalJson } from '../builders/common.js';
import {
  replayDeployment,
  replayDeploymentName,
  replayNatsUserName,
  replayPlan,
} from '../builders/replay.js';
import { processorNames } from '../builders/processor.js';
import { replayPermissions } from '../nats-permissions.js';
import { ensureNatsUser } from './nats-users.js';
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
  // The bucket, and under per-workload NATS users the pod's own user, before the pod.
  if (await ensureReplayBucket(ctx, namespace, pl.metadata.name!))
    log.info({ bucket: replayBucketName(namespace, pl.metadata.name!) }, 'Created replay bucket');
  if (ctx.natsSigner) {
    const config = await readProcessorConfig(ctx, pl);
    if (!config) {
      await writeReplayStatus(ctx, rp, 'Pending', undefined, {
        type: ConditionType.Succeeded,
        status: 'Unknown',
        reason: ConditionReason.PipelineNotFound,
        message: `Pipeline ${pl.metadata.name} has no processor config yet`,
      });
      return { requeueAfterMs: 5000 };
    }
    await ensureNatsUser(
      ctx,
      rp,
      replayNatsUserName(rp),
      'replay',
      replayPermissions(config, replayPlan(rp)),
      log,
    );
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

/** The processor config the replay pod runs with, as the processor's ConfigMap holds it. */
async function readProcessorConfig(
  ctx: ControllerContext,
  pl: Pipeline,
): Promise<ProcessorConfigInput | undefined> {
  try {
    // The ConfigMap cache keeps no data.
    const cm = await ctx.core.readNamespacedConfigMap({
      name: processorNames(pl).configMap,
      namespace: pl.metadata.namespace!,
    });
    const text = cm.data?.['config.yaml'];
    return text ? (parseYaml(text) as ProcessorConfigInput) : undefined;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** Creates the Pipeline's replay bucket when it is missing; true when it did. */
async function ensureReplayBucket(
  ctx: ControllerContext,
  namespace: string,
  pipeline: string,
): Promise<boolean> {
  return ensureKvBucket(
    await ctx.jsm(),
    replayBucketName(namespace, pipeline),
    `eventrunner Replay progress and redriven dead letters of Pipeline ${namespace}/${pipeline}`,
  );
}

/**
 * Deletes a deleted Pipeline's replay bucket with its dead-letter stream: its redriven marks name
 * dead letters by sequence, and mean nothing without them. Kept when the dead-letter stream is.
 */
export async function deleteReplayBucket(ctx: ControllerContext, pl: Pipeline, log: Logger): Promise<void> {
  const bucket = replayBucketName(pl.metadata.namespace!, pl.metadata.name!);
  if (await deleteStreamIfExists(await ctx.jsm(), `KV_${bucket}`))
    log.info({ bucket }, 'Deleted replay bucket');
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
 * Removes what the Replay made: its Deployment, its NATS user and its work stream; on deletion
 * also its progress record. The redriven marks stay: they belong to the dead letters, not to one
 * Replay.
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
  if (ctx.natsSigner)
    await ctx.applier.delete({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: replayNatsUserName(rp), namespace },
    });
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
