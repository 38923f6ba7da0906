// The flow of events between the Pipelines of a namespace: a Pipeline reads EventSources (its
// sources) and, through eventSource Sinks, publishes to EventSources (its outputs). A Pipeline whose
// outputs lead back to its own sources, directly or through other Pipelines, would send its events
// around forever; the Pipeline controller refuses it. Pure, so it is unit-tested.
import type { Pipeline, Sink } from '../api/generated/types.js';

/** The EventSources a Pipeline publishes to through its outputs' eventSource Sinks. */
export function publishedTo(pl: Pipeline, sinkNamed: (name: string) => Sink | undefined): string[] {
  const out = new Set<string>();
  for (const o of pl.spec?.outputs ?? []) {
    const target = sinkNamed(o.sink)?.spec.eventSource?.name;
    if (target !== undefined) out.add(target);
  }
  return [...out].sort();
}

/**
 * The shortest way `start`'s events come back to its sources, as alternating names
 * [pipeline, eventSource, pipeline, eventSource, …, pipeline] from `start` to `start`; undefined
 * when there is none. `pipelines` are the namespace's Pipelines (`start` among them).
 */
export function feedbackCycle(
  start: string,
  pipelines: readonly Pipeline[],
  sinkNamed: (name: string) => Sink | undefined,
): string[] | undefined {
  const byName = new Map(pipelines.map((p) => [p.metadata.name!, p]));
  const first = byName.get(start);
  if (!first || publishedTo(first, sinkNamed).length === 0) return undefined;
  // Who reads each EventSource, in name order so the path found does not depend on list order.
  const readers = new Map<string, string[]>();
  for (const p of [...pipelines].sort((a, b) => a.metadata.name!.localeCompare(b.metadata.name!)))
    for (const s of p.spec?.sources ?? []) {
      const list = readers.get(s.eventSource) ?? [];
      list.push(p.metadata.name!);
      readers.set(s.eventSource, list);
    }
  // Breadth-first over Pipelines; `via` remembers how each was reached.
  const via = new Map<string, { from: string; eventSource: string }>();
  const queue = [start];
  for (let i = 0; i < queue.length; i++) {
    const name = queue[i]!;
    const pl = byName.get(name);
    if (!pl) continue;
    for (const es of publishedTo(pl, sinkNamed)) {
      for (const next of readers.get(es) ?? []) {
        if (next === start) return pathTo(name, es, start, via);
        if (via.has(next)) continue;
        via.set(next, { from: name, eventSource: es });
        queue.push(next);
      }
    }
  }
  return undefined;
}

function pathTo(
  last: string,
  eventSource: string,
  start: string,
  via: ReadonlyMap<string, { from: string; eventSource: string }>,
): string[] {
  const path = [eventSource, start];
  let at = last;
  while (at !== start) {
    const step = via.get(at)!;
    path.unshift(step.eventSource, at);
    at = step.from;
  }
  return [start, ...path];
}

/** The path as a message: Pipeline a → EventSource x → Pipeline b → … */
export function describeCycle(path: readonly string[]): string {
  return path.map((n, i) => `${i % 2 === 0 ? 'Pipeline' : 'EventSource'} ${n}`).join(' → ');
}

/** The Pipelines that read what `pl` publishes: the next hop downstream. */
export function downstreamOf(
  pl: Pipeline,
  pipelines: readonly Pipeline[],
  sinkNamed: (name: string) => Sink | undefined,
): string[] {
  const targets = new Set(publishedTo(pl, sinkNamed));
  if (targets.size === 0) return [];
  return pipelines
    .filter((p) => (p.spec?.sources ?? []).some((s) => targets.has(s.eventSource)))
    .map((p) => p.metadata.name!);
}
