// Which Pipelines name each EventSource and Sink, kept up to date from the Pipeline informer's
// events, so that a change to one of them enqueues its Pipelines without scanning every Pipeline
// of the namespace (which made a burst of EventSource and Sink events cost O(n²)).
import type { Pipeline } from '../api/generated/types.js';

export type DependencyKind = 'EventSource' | 'Sink';

const refKey = (namespace: string, kind: DependencyKind, name: string) => `${namespace}/${kind}/${name}`;

export class DependentsIndex {
  /** namespace/kind/name → names of the Pipelines in that namespace that name it. */
  private readonly byRef = new Map<string, Set<string>>();
  /** namespace/pipeline → the refs it was indexed under. */
  private readonly refsOf = new Map<string, string[]>();

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
}
