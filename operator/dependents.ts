// Which Pipelines name each EventSource and Sink, and which eventSource Sinks publish to each
// EventSource, kept up to date from the informers' events, so that a change to one of them enqueues
// what depends on it without scanning every Pipeline or Sink of the namespace (which made a burst
// of EventSource and Sink events cost O(n²)).
import type { Pipeline, Sink } from '../api/generated/types.js';

export type DependencyKind = 'EventSource' | 'Sink';

const refKey = (namespace: string, kind: DependencyKind, name: string) => `${namespace}/${kind}/${name}`;

export class DependentsIndex {
  /** namespace/kind/name → names of the Pipelines in that namespace that name it. */
  private readonly byRef = new Map<string, Set<string>>();
  /** namespace/pipeline → the refs it was indexed under. */
  private readonly refsOf = new Map<string, string[]>();
  /** namespace/EventSource/name → names of the eventSource Sinks publishing to it. */
  private readonly sinksByTarget = new Map<string, Set<string>>();
  /** namespace/sink → the EventSource ref it was indexed under. */
  private readonly targetOf = new Map<string, string>();

  /** Records a Pipeline as the informer saw it; a deleted one is forgotten. */
  update(pl: Pipeline, verb: 'add' | 'update' | 'delete'): void {
    const namespace = pl.metadata.namespace!;
    const name = pl.metadata.name!;
    const key = `${namespace}/${name}`;
    for (const ref of this.refsOf.get(key) ?? []) {
      const set = this.byRef.get(ref);
      set?.delete(name);
      if (set?.size === 0) this.byRef.delete(ref);
    }
    if (verb === 'delete') {
      this.refsOf.delete(key);
      return;
    }
    const refs = [
      ...new Set([
        ...(pl.spec?.sources ?? []).map((s) => refKey(namespace, 'EventSource', s.eventSource)),
        ...(pl.spec?.outputs ?? []).map((o) => refKey(namespace, 'Sink', o.sink)),
        ...(pl.spec?.tables ?? []).map((t) => refKey(namespace, 'Sink', t.sink)),
      ]),
    ];
    for (const ref of refs) {
      let set = this.byRef.get(ref);
      if (!set) this.byRef.set(ref, (set = new Set()));
      set.add(name);
    }
    this.refsOf.set(key, refs);
  }

  /** Names of the Pipelines in `namespace` that name this EventSource or Sink. */
  pipelinesUsing(kind: DependencyKind, namespace: string, name: string): string[] {
    return [...(this.byRef.get(refKey(namespace, kind, name)) ?? [])];
  }

  /** Records a Sink as the informer saw it: an eventSource Sink is indexed under its target. */
  updateSink(sink: Sink, verb: 'add' | 'update' | 'delete'): void {
    const namespace = sink.metadata.namespace!;
    const name = sink.metadata.name!;
    const key = `${namespace}/${name}`;
    const before = this.targetOf.get(key);
    if (before !== undefined) {
      const set = this.sinksByTarget.get(before);
      set?.delete(name);
      if (set?.size === 0) this.sinksByTarget.delete(before);
      this.targetOf.delete(key);
    }
    const target = sink.spec?.eventSource?.name;
    if (verb === 'delete' || target === undefined) return;
    const ref = refKey(namespace, 'EventSource', target);
    let set = this.sinksByTarget.get(ref);
    if (!set) this.sinksByTarget.set(ref, (set = new Set()));
    set.add(name);
    this.targetOf.set(key, ref);
  }

  /** Names of the eventSource Sinks in `namespace` that publish to this EventSource. */
  sinksPublishingTo(namespace: string, eventSource: string): string[] {
    return [...(this.sinksByTarget.get(refKey(namespace, 'EventSource', eventSource)) ?? [])];
  }
}
