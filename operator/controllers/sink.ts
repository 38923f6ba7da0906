// Sink → a probe of the database with the referenced Secrets' credentials and TLS CA bundle
// (schema created first when manageSchema says so), of a webhook's host (resolves and connects,
// nothing sent), or of the target EventSource's stream; Ready says what is wrong: a missing Secret,
// unreachable, a certificate problem, authentication, no table, no EventSource.
import { ConditionReason, ConditionType, findCondition, type ConditionInput } from '../../api/conditions.js';
import { sinkKind, sinkTarget } from '../../api/summary.js';
import { formatPath, validateSink } from '../../api/validate.js';
import type { Logger } from '../../runtime/common/logger.js';
import { SinkProbeErrorCode } from '../../runtime/sinks/errors.js';
import { ensureSchema, probeSink, type ProbeResult } from '../../runtime/sinks/probe.js';
import type { ControllerContext } from '../manager.js';
import { streamName, subjectPrefix } from '../names.js';
import type { ReconcileResult } from '../queue.js';
import { asManifest, computeConditions, jitteredResync, writeStatus } from '../status.js';
import { isSinkSecretError, sinkCredentials } from './sink-secrets.js';

/** The Sink's Ready reason for each way a probe fails: the one place a probe code becomes a reason. */
export const reasonByProbeCode = {
  [SinkProbeErrorCode.InvalidSpec]: ConditionReason.InvalidSpec,
  [SinkProbeErrorCode.ConnectionFailed]: ConditionReason.ConnectionFailed,
  [SinkProbeErrorCode.TlsFailed]: ConditionReason.TLSFailed,
  [SinkProbeErrorCode.AuthenticationFailed]: ConditionReason.AuthenticationFailed,
  [SinkProbeErrorCode.TableNotFound]: ConditionReason.TableNotFound,
  [SinkProbeErrorCode.SchemaMismatch]: ConditionReason.SchemaMismatch,
  [SinkProbeErrorCode.StreamNotFound]: ConditionReason.EventSourceNotReady,
} as const satisfies Record<SinkProbeErrorCode, ConditionReason>;

export function probeCondition(result: ProbeResult): ConditionInput {
  if (result.ok) {
    const table = result.kind === 'scylla' || result.kind === 'clickhouse';
    return {
      type: ConditionType.Ready,
      status: 'True',
      reason: ConditionReason.ProbeSucceeded,
      message:
        (table ? `${result.target} on ${result.message}` : `${result.target}: ${result.message}`) +
        (result.warning ? `; not idempotent: ${result.warning}` : ''),
    };
  }
  return {
    type: ConditionType.Ready,
    status: 'False',
    reason: reasonByProbeCode[result.code ?? SinkProbeErrorCode.ConnectionFailed],
    message: result.message,
  };
}

export async function reconcileSink(
  ctx: ControllerContext,
  namespace: string,
  name: string,
  log: Logger,
): Promise<ReconcileResult | void> {
  const sink = ctx.caches.sinks.get(name, namespace);
  if (!sink || sink.metadata.deletionTimestamp) return;
  const generation = sink.metadata.generation ?? 0;
  let condition: ConditionInput;
  const { issues } = validateSink(asManifest(sink));
  if (issues.length) {
    condition = {
      type: ConditionType.Ready,
      status: 'False',
      reason: ConditionReason.InvalidSpec,
      message: issues.map((i) => `${formatPath(i.path)}: ${i.message}`).join('; '),
    };
  } else if (sink.spec.eventSource) {
    condition = await eventSourceCondition(ctx, namespace, sink.spec.eventSource.name);
  } else {
    try {
      const credentials = await sinkCredentials(ctx, sink);
      const manage = sink.spec.scylla?.manageSchema ?? sink.spec.clickhouse?.manageSchema ?? false;
      let created: string[] = [];
      if (manage) {
        try {
          created = await ensureSchema(sink.spec, credentials);
        } catch (err) {
          log.info({ err }, 'Schema not ensured; the probe reports why');
        }
      }
      const result = await probeSink(sink.spec, credentials);
      condition = probeCondition(result);
      if (created.length && result.ok) {
        log.info({ actions: created }, 'Created Sink schema');
        await ctx.events.record(sink, 'Normal', ConditionReason.SchemaCreated, created.join('; '));
      }
      // Told once, when the probe first finds it (the Ready message keeps saying it).
      const before = findCondition(sink.status?.conditions, ConditionType.Ready)?.message ?? '';
      if (result.warning && !before.includes(result.warning))
        await ctx.events.record(
          sink,
          'Warning',
          ConditionReason.NotIdempotent,
          `table ${result.target}: ${result.warning}`,
        );
    } catch (err) {
      if (!isSinkSecretError(err)) throw err;
      condition = { type: ConditionType.Ready, status: 'False', reason: err.reason, message: err.message };
    }
  }
  const conditions = computeConditions('Sink', sink.status?.conditions, [condition], generation);
  const ready = findCondition(conditions, ConditionType.Ready)!;
  await writeStatus(ctx, 'Sink', sink, {
    observedGeneration: generation,
    conditions,
    kind: sinkKind(sink.spec),
    target: sinkTarget(sink.spec),
    // The time of the last probe whose outcome changed: a probe that finds the same thing writes nothing.
    lastProbeTime: ready.lastTransitionTime,
  });
  // A failing Sink is probed again within 10 s, or at the resync when that is sooner; the operator
  // never gives up on it.
  const resyncMs = ctx.options.resyncMs;
  return {
    requeueAfterMs: jitteredResync(
      condition.status === 'True' ? resyncMs : Math.min(10_000, resyncMs || 10_000),
    ),
  };
}

/** An eventSource Sink is ready when its EventSource exists in the namespace and has its stream. */
async function eventSourceCondition(
  ctx: ControllerContext,
  namespace: string,
  target: string,
): Promise<ConditionInput> {
  if (!ctx.caches.eventSources.get(target, namespace))
    return {
      type: ConditionType.Ready,
      status: 'False',
      reason: ConditionReason.EventSourceNotFound,
      message: `EventSource ${target} (spec.eventSource.name) does not exist in namespace ${namespace}`,
    };
  const result = await probeSink({ eventSource: { name: target } }, undefined, {
    eventSource: {
      jsm: await ctx.jsm(),
      target: { stream: streamName(namespace, target), subjectPrefix: subjectPrefix(namespace, target) },
    },
  });
  return probeCondition(result);
}
