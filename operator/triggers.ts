// Which informer events are worth a reconcile. Every write the operator makes comes back as a watch
// event; reconciling again on each one made a thousand Pipelines cost about five reconciles apiece
// (own finalizer, own status, each child created, each status write of their EventSource and Sink).
// An event now enqueues only what it can change:
// - an object itself, when what a reconcile reads of it changed: its generation (spec), labels,
//   annotations or deletion — not its status, which only the operator writes;
// - the objects depending on it (a Pipeline on its EventSources and Sinks), when what they read
//   of it changed: existence, spec, deletion, or the conditions they report from;
// - the owner of a child, unless the event is the very object the operator's own apply returned
//   (children.ts), which the reconcile that applied it has already taken into account.
// Adds and deletes always count. Pure apart from the last fingerprint kept per object.
import type { KubernetesObject } from '@kubernetes/client-node';

interface Observed extends KubernetesObject {
  status?: { conditions?: { type: string; status: string; reason?: string; message?: string }[] };
}

/** What a reconcile of the object reads of its own metadata: not status, not finalizers. */
export function specFingerprint(obj: KubernetesObject): string {
  const m = obj.metadata ?? {};
  return JSON.stringify([m.generation, m.deletionTimestamp, m.labels ?? null, m.annotations ?? null]);
}

/**
 * What a dependent reads of the object: its spec and deletion, and the given conditions' status,
 * reason and message (not lastTransitionTime, counters or other status fields).
 */
export function readinessFingerprint(obj: Observed, conditionTypes: readonly string[]): string {
  const m = obj.metadata ?? {};
  const conditions = (obj.status?.conditions ?? [])
    .filter((c) => conditionTypes.includes(c.type))
    .map((c) => [c.type, c.status, c.reason, c.message]);
  conditions.sort((a, b) => (a[0]! < b[0]! ? -1 : a[0]! > b[0]! ? 1 : 0));
  return JSON.stringify([m.generation, m.deletionTimestamp, conditions]);
}

/** Remembers one fingerprint per object and says whether an event changed it. */
export class ChangeFilter {
  private readonly last = new Map<string, string>();

  constructor(private readonly fingerprint: (obj: KubernetesObject) => string) {}

  /** True for adds and deletes, and for updates whose fingerprint differs from the last one seen. */
  changed(obj: KubernetesObject, verb: 'add' | 'update' | 'delete'): boolean {
    const key = `${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`;
    if (verb === 'delete') {
      this.last.delete(key);
      return true;
    }
    const fp = this.fingerprint(obj);
    const before = this.last.get(key);
    this.last.set(key, fp);
    return verb === 'add' || before !== fp;
  }
}
