// A Pipeline's queries run offline, as `eventrunner test` runs them: the events the rules kept
// (routed, not dropped or dead-lettered) go to every source whose `types` match them, numbered per
// source in input order (their stream sequence); each query reads its source, spread over its
// partitions; end of input closes every window. Results and late events become the printed lines
// of DESIGN section 7, and `--crash-at` reruns with a checkpoint and restore and compares.
import type { PipelineSource } from '../../api/generated/types.js';
import { runOffline, sortOutput } from './offline.js';
import { sourceName } from './pipeline.js';
import type { CompiledQuery, QueryInput, StepOutput } from './types.js';
import { canonicalJson } from './values.js';

/** `*` matches one dot-separated segment, a final `>` all remaining ones; no types: every event. */
export function typeMatches(types: readonly string[] | undefined, type: string): boolean {
  if (!types || types.length === 0) return true;
  const parts = type.split('.');
  return types.some((filter) => {
    const f = filter.split('.');
    for (let i = 0; i < f.length; i++) {
      if (f[i] === '>') return i < parts.length;
      if (i >= parts.length || (f[i] !== '*' && f[i] !== parts[i])) return false;
    }
    return f.length === parts.length;
  });
}

export interface QueryResultLine {
  query: string;
  id: string;
  time: string;
  data: Record<string, unknown>;
  routes: string[];
}

export interface LateLine {
  query: string;
  outcome: 'late';
  id: string;
  reason?: string;
}

/** Collects each source's inputs as events arrive, in input order. */
export class QueryInputs {
  private readonly bySource = new Map<string, QueryInput[]>();
  /** How many events had arrived when each input of a source arrived (for --crash-at). */
  private readonly arrival = new Map<string, number[]>();
  private events = 0;

  constructor(private readonly sources: readonly Pick<PipelineSource, 'eventSource' | 'as' | 'types'>[]) {}

  /** A kept event; `only` names the one source it belongs to (--source NAME=FILE). */
  add(event: Record<string, unknown>, only?: string): void {
    this.events++;
    for (const s of this.sources) {
      const name = sourceName(s);
      if (only !== undefined ? only !== name : !typeMatches(s.types, String(event.type))) continue;
      const list = this.bySource.get(name) ?? [];
      list.push({ source: name, seq: list.length + 1, event });
      this.bySource.set(name, list);
      const at = this.arrival.get(name) ?? [];
      at.push(this.events);
      this.arrival.set(name, at);
    }
  }

  /**
   * Why no source takes an event of this type, as the consumers' subject filters would keep it from
   * the Pipeline; undefined when one does or none is declared (--source files give every event).
   */
  unreceived(type: string): string | undefined {
    if (this.sources.length === 0 || this.sources.some((s) => typeMatches(s.types, type))) return undefined;
    const filters = this.sources.map((s) => `${sourceName(s)}: ${(s.types ?? []).join(', ')}`).join('; ');
    return `type ${type} matches no types of the Pipeline's sources (${filters}): the Pipeline never receives it`;
  }

  /** Counts an event that the rules did not keep, so --crash-at counts input events. */
  skip(): void {
    this.events++;
  }

  of(source: string): QueryInput[] {
    return this.bySource.get(source) ?? [];
  }

  /** The inputs of several sources, merged in arrival order (an event of two sources: by name). */
  ofAll(sources: readonly string[]): QueryInput[] {
    if (sources.length === 1) return this.of(sources[0]!);
    const all = sources.flatMap((s) =>
      this.of(s).map((input, i) => ({ input, at: this.arrival.get(s)![i]! })),
    );
    all.sort((a, b) => a.at - b.at || (a.input.source < b.input.source ? -1 : 1));
    return all.map((x) => x.input);
  }

  /** Inputs of the sources that arrived within the first `events` events. */
  countBefore(source: string | readonly string[], events: number): number {
    const sources = typeof source === 'string' ? [source] : source;
    return sources.reduce((n, s) => n + (this.arrival.get(s) ?? []).filter((x) => x <= events).length, 0);
  }
}

export interface QueryRun {
  lines: (QueryResultLine | LateLine)[];
  /** Queries whose results changed with a crash at --crash-at, with what differs. */
  crashDiffs: string[];
}

/**
 * What a run must agree on: each result id's final value (EMIT CHANGES may emit an id more often
 * when a crash splits its input) and the late events.
 */
const outcome = (o: StepOutput) => {
  const last = new Map(o.results.map((r) => [r.id, [r.time, r.data]]));
  return JSON.stringify({
    results: [...last].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    late: o.late.map((l) => [l.source, l.seq, l.reason]),
  });
};

/**
 * A lookup join's inputs with the rows of their keys (`--table NAME=FILE`): the row whose key
 * column equals the event's key, as a query worker reads it; no row when none does.
 */
export function withLookups(
  q: CompiledQuery,
  inputs: QueryInput[],
  tables: ReadonlyMap<string, readonly Record<string, unknown>[]>,
): QueryInput[] {
  const lookup = q.lookup;
  if (!lookup) return inputs;
  const byKey = new Map<string, Record<string, unknown>>();
  for (const row of tables.get(lookup.table) ?? []) {
    const key = row[lookup.keyColumn];
    if (key !== null && key !== undefined) byKey.set(canonicalJson(key), row);
  }
  return inputs.map((input) => {
    const key = lookup.keyOf(input);
    const row = key === undefined || key === null ? undefined : byKey.get(canonicalJson(key));
    return { ...input, rows: { [lookup.table]: row ?? null } };
  });
}

/** Runs every query over the inputs; with crashAt, also with a crash after that many events. */
export function runQueries(
  queries: readonly CompiledQuery[],
  outputsOf: ReadonlyMap<string, readonly string[]>,
  inputs: QueryInputs,
  crashAt?: number,
  tables: ReadonlyMap<string, readonly Record<string, unknown>[]> = new Map(),
): QueryRun {
  const lines: (QueryResultLine | LateLine)[] = [];
  const crashDiffs: string[] = [];
  for (const q of queries) {
    const own = withLookups(q, inputs.ofAll(q.sources), tables);
    const out = sortOutput(runOffline(q, own, { partitions: q.partitions }));
    if (crashAt !== undefined) {
      const crashed = runOffline(q, own, {
        partitions: q.partitions,
        crashAt: inputs.countBefore(q.sources, crashAt),
      });
      if (outcome(crashed) !== outcome(out))
        crashDiffs.push(
          `query ${q.name}: results after a crash at event ${crashAt} differ from a run without it`,
        );
    }
    const routes = [...(outputsOf.get(q.name) ?? [])].sort();
    for (const r of out.results) lines.push({ query: q.name, id: r.id, time: r.time, data: r.data, routes });
    for (const l of out.late)
      lines.push({
        query: q.name,
        outcome: 'late',
        id: l.id,
        ...(l.reason !== 'late' ? { reason: l.reason } : {}),
      });
  }
  return { lines, crashDiffs };
}
