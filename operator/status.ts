// Status and finalizer writes shared by the controllers: status is written once per reconcile and
// only when it differs from what the object already shows; transitions of conditions become
// Kubernetes Events.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { EventSourceStatus, PipelineStatus, SinkStatus } from '../api/generated/types.js';
import {
  ConditionReason,
  conditionTypesByKind,
  findCondition,
  readyFrom,
  setCondition,
  type Condition,
  type ConditionInput,
} from '../api/conditions.js';
import { canonicalJson } from './builders/common.js';
import { primaryPlural, type PrimaryKind } from './cache.js';
import type { ControllerContext } from './manager.js';
import { finalizer } from './names.js';

type Primary = KubernetesObject & { status?: object };

/** Builds the condition list from the computed inputs plus the Ready summary. */
export function computeConditions(
  kind: PrimaryKind,
  previous: Condition[] | undefined,
  inputs: ConditionInput[],
  generation: number,
  now = new Date(),
): Condition[] {
  let list = previous ?? [];
  for (const c of inputs) list = setCondition(list, c, generation, now);
  // A kind whose only condition is Ready (Sink) reports it directly; others summarize into Ready.
  if (conditionTypesByKind[kind].length > 1) {
    list = setCondition(list, readyFrom(list, conditionTypesByKind[kind]), generation, now);
  }
  const order = conditionTypesByKind[kind] as readonly string[];
  return list
    .filter((c) => order.includes(c.type))
    .sort((a, b) => order.indexOf(a.type) - order.indexOf(b.type));
}

// Reasons that mean the user has something to fix: worth an Event the first time they appear.
const userErrorReasons = new Set<string>([
  ConditionReason.InvalidSpec,
  ConditionReason.RulesInvalid,
  ConditionReason.QueriesInvalid,
  ConditionReason.StateLimitReached,
  ConditionReason.SecretNotFound,
  ConditionReason.SinkNotFound,
  ConditionReason.OutputCycle,
  ConditionReason.EventSourceNotFound,
  ConditionReason.AuthenticationFailed,
  ConditionReason.TLSFailed,
  ConditionReason.TableNotFound,
  ConditionReason.SchemaMismatch,
  ConditionReason.StreamError,
  ConditionReason.SchemaInvalid,
  ConditionReason.SchemaNotFound,
  ConditionReason.BreakingSchemaChange,
]);

/**
 * A condition change worth a Kubernetes Event: a flip between True and False of a condition that
 * was already known, or a first False that asks the user to fix something. Objects coming up for the
 * first time (Unknown → True, pods not ready yet) make no Events, so creating a thousand objects
 * does not cost thousands of extra writes.
 */
export function isTransition(before: Condition | undefined, after: Condition): boolean {
  if (before?.status === after.status) return false;
  if (before && before.status !== 'Unknown') return true;
  return after.status === 'False' && userErrorReasons.has(after.reason);
}

/** Writes `status` when it differs from the live one; records Events for transitions. */
export async function writeStatus(
  ctx: ControllerContext,
  kind: PrimaryKind,
  obj: Primary,
  status: (EventSourceStatus | PipelineStatus | SinkStatus) & { conditions: Condition[] },
): Promise<boolean> {
  const live = (obj.status ?? {}) as { conditions?: Condition[] };
  if (canonicalJson(live) === canonicalJson(status)) return false;
  await ctx.applier.applyStatus(
    {
      apiVersion: obj.apiVersion,
      kind: obj.kind,
      metadata: { name: obj.metadata!.name, namespace: obj.metadata!.namespace },
      status,
    } as KubernetesObject,
    primaryPlural[kind],
  );
  for (const c of status.conditions) {
    const before = findCondition(live.conditions, c.type);
    if (!isTransition(before, c)) continue;
    await ctx.events.record(
      obj,
      c.status === 'False' ? 'Warning' : 'Normal',
      c.reason,
      `${c.type}: ${c.message}`,
    );
  }
  return true;
}

export function hasFinalizer(obj: KubernetesObject): boolean {
  return obj.metadata?.finalizers?.includes(finalizer) ?? false;
}

/**
 * Adds eventrunner's finalizer with a server-side apply of metadata only; removes it with a patch
 * that cannot create the object (Applier.removeFinalizer).
 */
export async function setFinalizer(
  ctx: ControllerContext,
  obj: KubernetesObject,
  present: boolean,
): Promise<void> {
  if (!present) return ctx.applier.removeFinalizer(obj, finalizer);
  await ctx.applier.apply({
    apiVersion: obj.apiVersion,
    kind: obj.kind,
    metadata: { name: obj.metadata!.name, namespace: obj.metadata!.namespace, finalizers: [finalizer] },
  });
}

/** Resync period with ±20% jitter, so thousands of objects do not resync in lockstep. */
export function jitteredResync(ms: number): number {
  return Math.round(ms * (0.8 + Math.random() * 0.4));
}

/**
 * The object as a manifest, for the shared validators: server-populated metadata (uid,
 * resourceVersion, managedFields, ...) is not part of what a user wrote, so it is left out.
 */
export function asManifest<T extends KubernetesObject & { spec?: unknown }>(obj: T): T {
  const { name, namespace, labels, annotations } = obj.metadata ?? {};
  return {
    apiVersion: obj.apiVersion,
    kind: obj.kind,
    metadata: {
      name,
      namespace,
      ...(labels ? { labels } : {}),
      ...(annotations ? { annotations } : {}),
    },
    spec: obj.spec,
  } as T;
}
