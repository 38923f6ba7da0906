// Running a query over a list of inputs without any infrastructure, as `eventrunner test` does and
// as the tests check the streaming engine against: inputs go to partitions by key, in order; end
// of input closes every window. With `crashAt: n`, every partition is checkpointed after the first
// n inputs, the engine is thrown away, the checkpoints go through JSON text and are restored, and
// the remaining inputs are replayed — which must not change the results.
import { restoreState } from './query.js';
import type {
  CompiledQuery,
  LateEvent,
  QueryCheckpoint,
  QueryInput,
  QueryResult,
  StepOutput,
} from './types.js';

export interface OfflineOptions {
  /** Partitions to spread keys over (default 1). */
  partitions?: number;
  /** Checkpoint, discard and restore every partition after this many inputs. */
  crashAt?: number;
}

const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Results by (time, key, id); a result emitted several times (EMIT CHANGES) keeps its emission
 * order, so the last one is its final value. Late events by (source, seq).
 */
export function sortOutput(out: StepOutput): StepOutput {
  // Array.prototype.sort is stable, which keeps repeated ids in emission order.
  const results = [...out.results].sort(
    (a, b) => byText(a.time, b.time) || byText(a.key, b.key) || byText(a.id, b.id),
  );
  const late = [...out.late].sort((a, b) => byText(a.source, b.source) || a.seq - b.seq);
  return { results, late };
}

export function runOffline(
  q: CompiledQuery,
  inputs: readonly QueryInput[],
  opts: OfflineOptions = {},
): StepOutput {
  const partitions = opts.partitions ?? 1;
  const crashAt = opts.crashAt ?? inputs.length;
  if (!Number.isSafeInteger(crashAt) || crashAt < 0 || crashAt > inputs.length) {
    throw new RangeError(`crashAt must be between 0 and ${inputs.length}, got ${crashAt}`);
  }
  const routed: QueryInput[][][] = [[], []].map(() => Array.from({ length: partitions }, () => []));
  inputs.forEach((input, i) => {
    // One partition needs no key: push applies WHERE itself.
    let p = 0;
    if (partitions > 1) {
      const key = q.keyOf(input);
      if (key === undefined) return;
      p = q.partitionOf(key, partitions);
    }
    routed[i < crashAt ? 0 : 1]![p]!.push(input);
  });
  const results: QueryResult[] = [];
  const late: LateEvent[] = [];
  const collect = (o: StepOutput): void => {
    for (const r of o.results) results.push(r);
    for (const l of o.late) late.push(l);
  };
  let states = Array.from({ length: partitions }, () => q.createState());
  states.forEach((s, p) => collect(s.push(routed[0]![p]!)));
  if (opts.crashAt !== undefined) {
    const saved = states.map((s) => JSON.stringify(s.checkpoint()));
    states = saved.map((text) => restoreState(q, JSON.parse(text) as QueryCheckpoint));
  }
  states.forEach((s, p) => {
    collect(s.push(routed[1]![p]!));
    collect(s.end());
  });
  return sortOutput({ results, late });
}
