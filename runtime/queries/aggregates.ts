// Aggregate functions in the shape of Flink's AggregateFunction: a small accumulator per group
// (create), updated per value (add), combined when session windows merge (merge), read when a
// row is emitted (result), and saved as plain JSON in checkpoints (save/load). `add` and `merge`
// return the accumulator, so counters and min/max can be bare values instead of objects.
//
// Every aggregate skips NULLs. sum/avg/min/max/first/last of no values are NULL; count is 0;
// stddev (sample) is NULL below two values. sum, avg and stddev take numbers only (other values are
// skipped like NULL) and are exact (exact-sum.ts), so their results do not depend on order.
// min/max order booleans < numbers < strings and skip arrays and objects. first/last pick by event
// time, ties broken by source stream sequence, then source name.
import type { AggregateCall } from './checker.js';
import {
  addExact,
  addExactProduct,
  exactValue,
  mergeExact,
  sampleStddev,
  type Partials,
} from './exact-sum.js';
import { canonicalJson, finite, isNull, rankOf, totalCompare, type Value } from './values.js';

export interface Aggregate {
  create(): unknown;
  add(acc: unknown, v: Value, t: number, seq: number, src: string): unknown;
  merge(into: unknown, from: unknown): unknown;
  /**
   * Takes back a merge: `into` has `from` merged in, and is left as if it had not, exactly (the
   * result is the one merging without `from` gives). Undefined when it cannot be taken apart (a
   * sum that overflowed); `into` is then of no further use. Only counts and sums have it.
   */
  unmerge?(into: unknown, from: unknown): unknown;
  /** A copy that merging into (or adding to) leaves `acc` as it was. */
  clone(acc: unknown): unknown;
  /**
   * An empty accumulator, reusing the storage of `scratch` — a scratch accumulator that only its
   * caller refers to — when adding and merging into it can never make it another's.
   */
  reset(scratch: unknown): unknown;
  /** A copy of `from` (as clone), reusing the storage of `scratch` as reset does. */
  copyInto(scratch: unknown, from: unknown): unknown;
  result(acc: unknown): Value;
  save(acc: unknown): unknown;
  load(saved: unknown): unknown;
}

const countAll: Aggregate = {
  create: () => 0,
  add: (acc) => (acc as number) + 1,
  merge: (a, b) => (a as number) + (b as number),
  unmerge: (a, b) => (a as number) - (b as number),
  clone: (acc) => acc,
  reset: () => 0,
  copyInto: (_scratch, from) => from,
  result: (acc) => acc,
  save: (acc) => acc,
  load: (saved) => Number(saved),
};

const countValues: Aggregate = {
  ...countAll,
  add: (acc, v) => (isNull(v) ? acc : (acc as number) + 1),
};

const countDistinct: Aggregate = {
  create: () => new Set<string>(),
  add: (acc, v) => (isNull(v) ? acc : (acc as Set<string>).add(canonicalJson(v))),
  merge: (a, b) => {
    for (const k of b as Set<string>) (a as Set<string>).add(k);
    return a;
  },
  clone: (acc) => new Set(acc as Set<string>),
  reset: (scratch) => {
    (scratch as Set<string>).clear();
    return scratch;
  },
  copyInto: (scratch, from) => {
    const s = scratch as Set<string>;
    s.clear();
    for (const k of from as Set<string>) s.add(k);
    return s;
  },
  result: (acc) => (acc as Set<string>).size,
  save: (acc) => [...(acc as Set<string>)].sort(),
  load: (saved) => new Set(saved as string[]),
};

/**
 * A new, empty exact sum. The two -0 partials are zeros that the first addition drops; written as
 * a literal they make V8 allocate an unboxed array of doubles with room for two partials at once,
 * which is what most sums need, instead of growing and converting an empty array on first use.
 */
export const emptyPartials = (): Partials => [-0, -0];

/** Makes `into` hold the entries of `from`, in place. */
function copyPartials(into: Partials, from: Partials): void {
  // pop() rather than setting the length (as addExact).
  while (into.length > from.length) into.pop();
  for (let i = 0; i < from.length; i++) into[i] = from[i]!;
}

/**
 * Partials are saved without zeros (which carry nothing); ±Infinity and NaN after an overflow,
 * which JSON cannot hold, are saved as text.
 */
const savePartials = (p: Partials): (number | string)[] =>
  p.filter((x) => x !== 0).map((x) => (Number.isFinite(x) ? x : String(x)));
const loadPartials = (saved: unknown): Partials => {
  const p = (saved as (number | string)[]).map(Number);
  return p.length === 0 ? emptyPartials() : p;
};

/**
 * A sum or avg accumulator is one array of doubles: the count of numbers added at index 0, then
 * the exact sum's partials (exact-sum.ts, from index 1) — one object per group, not an object and
 * its partials. A new one has room for two partials: the two -0 are zeros that the first addition
 * drops, and make V8 allocate an unboxed array of doubles (as emptyPartials).
 */
type SumAcc = number[];

const SUM_FROM = 1;

function sumLike(result: (n: number, sum: number) => Value): Aggregate {
  return {
    create: (): SumAcc => [0, -0, -0],
    add: (acc, v) => {
      if (typeof v === 'number') {
        const a = acc as SumAcc;
        a[0]!++;
        addExact(a, v, SUM_FROM);
      }
      return acc;
    },
    merge: (into, from) => {
      const a = into as SumAcc;
      const b = from as SumAcc;
      a[0]! += b[0]!;
      for (let i = SUM_FROM; i < b.length; i++) addExact(a, b[i]!, SUM_FROM);
      return a;
    },
    unmerge: (into, from) => {
      const a = into as SumAcc;
      const b = from as SumAcc;
      a[0]! -= b[0]!;
      for (let i = SUM_FROM; i < b.length; i++) addExact(a, -b[i]!, SUM_FROM);
      // After an overflow the only partial is not finite, and subtracting cannot undo it.
      return Number.isFinite(a[a.length - 1]) ? a : undefined;
    },
    clone: (acc): SumAcc => (acc as SumAcc).slice(),
    reset: (scratch) => {
      const a = scratch as SumAcc;
      while (a.length > SUM_FROM) a.pop();
      a[0] = 0;
      return a;
    },
    copyInto: (scratch, from) => {
      copyPartials(scratch as SumAcc, from as SumAcc);
      return scratch;
    },
    result: (acc) => {
      const a = acc as SumAcc;
      return a[0] === 0 ? null : result(a[0]!, exactValue(a, SUM_FROM));
    },
    save: (acc) => {
      const a = acc as SumAcc;
      return { n: a[0], p: savePartials(a.slice(SUM_FROM)) };
    },
    load: (saved) => {
      const s = saved as { n: number; p: unknown };
      const p = loadPartials(s.p);
      const a: SumAcc = [Number(s.n), -0, -0];
      a.length = SUM_FROM;
      for (const x of p) a.push(x);
      if (a.length === SUM_FROM) a.push(-0, -0);
      return a;
    },
  };
}

/** Results never show -0. */
const plusZero = (v: number | null): number | null => (v === 0 ? 0 : v);

const sum = sumLike((_n, total) => plusZero(finite(total)));
const avg = sumLike((n, total) => plusZero(finite(total / n)));

interface StddevAcc {
  n: number;
  s1: Partials;
  s2: Partials;
}

const stddev: Aggregate = {
  create: (): StddevAcc => ({ n: 0, s1: emptyPartials(), s2: emptyPartials() }),
  add: (acc, v) => {
    if (typeof v === 'number') {
      const a = acc as StddevAcc;
      a.n++;
      addExact(a.s1, v);
      addExactProduct(a.s2, v, v);
    }
    return acc;
  },
  merge: (into, from) => {
    const a = into as StddevAcc;
    const b = from as StddevAcc;
    a.n += b.n;
    mergeExact(a.s1, b.s1);
    mergeExact(a.s2, b.s2);
    return a;
  },
  clone: (acc): StddevAcc => {
    const a = acc as StddevAcc;
    return { n: a.n, s1: a.s1.slice(), s2: a.s2.slice() };
  },
  reset: (scratch) => {
    const a = scratch as StddevAcc;
    a.n = 0;
    a.s1.length = 0;
    a.s2.length = 0;
    return a;
  },
  copyInto: (scratch, from) => {
    const a = scratch as StddevAcc;
    const b = from as StddevAcc;
    a.n = b.n;
    copyPartials(a.s1, b.s1);
    copyPartials(a.s2, b.s2);
    return a;
  },
  result: (acc) => {
    const a = acc as StddevAcc;
    return sampleStddev(a.n, a.s1, a.s2);
  },
  save: (acc) => {
    const a = acc as StddevAcc;
    return { n: a.n, s1: savePartials(a.s1), s2: savePartials(a.s2) };
  },
  load: (saved) => {
    const s = saved as { n: number; s1: unknown; s2: unknown };
    return { n: Number(s.n), s1: loadPartials(s.s1), s2: loadPartials(s.s2) };
  },
};

function extreme(sign: 1 | -1): Aggregate {
  const better = (v: Value, acc: unknown): boolean =>
    rankOf(v) !== undefined && (acc === undefined || sign * totalCompare(v, acc) < 0);
  return {
    create: () => undefined,
    add: (acc, v) => (better(v, acc) ? v : acc),
    merge: (a, b) => (b !== undefined && better(b, a) ? b : a),
    clone: (acc) => acc,
    reset: () => undefined,
    copyInto: (_scratch, from) => from,
    result: (acc) => (acc === undefined ? null : acc),
    save: (acc) => (acc === undefined ? null : acc),
    load: (saved) => (saved === null ? undefined : saved),
  };
}

interface PickAcc {
  has: boolean;
  v: Value;
  t: number;
  seq: number;
  src: string;
}

/** Order of (time, seq, source): negative when the first comes before the second. */
export function compareOrder(
  t1: number,
  seq1: number,
  src1: string,
  t2: number,
  seq2: number,
  src2: string,
): number {
  if (t1 !== t2) return t1 - t2;
  if (seq1 !== seq2) return seq1 - seq2;
  return src1 === src2 ? 0 : src1 < src2 ? -1 : 1;
}

function pick(sign: 1 | -1): Aggregate {
  const wins = (a: PickAcc, t: number, seq: number, src: string): boolean =>
    !a.has || sign * compareOrder(t, seq, src, a.t, a.seq, a.src) < 0;
  return {
    create: (): PickAcc => ({ has: false, v: null, t: 0, seq: 0, src: '' }),
    add: (acc, v, t, seq, src) => {
      const a = acc as PickAcc;
      if (!isNull(v) && wins(a, t, seq, src)) {
        a.has = true;
        a.v = v;
        a.t = t;
        a.seq = seq;
        a.src = src;
      }
      return a;
    },
    merge: (into, from) => {
      const b = from as PickAcc;
      return b.has && wins(into as PickAcc, b.t, b.seq, b.src) ? b : into;
    },
    clone: (acc) => ({ ...(acc as PickAcc) }),
    // merge can return `from` itself, so the scratch may be another's: never reuse it.
    reset: (): PickAcc => ({ has: false, v: null, t: 0, seq: 0, src: '' }),
    copyInto: (_scratch, from) => ({ ...(from as PickAcc) }),
    result: (acc) => ((acc as PickAcc).has ? (acc as PickAcc).v : null),
    save: (acc) => {
      const a = acc as PickAcc;
      return a.has ? { v: a.v, t: a.t, seq: a.seq, src: a.src } : null;
    },
    load: (saved) => {
      if (saved === null) return { has: false, v: null, t: 0, seq: 0, src: '' };
      const s = saved as PickAcc;
      return { has: true, v: s.v, t: Number(s.t), seq: Number(s.seq), src: String(s.src) };
    },
  };
}

const BY_NAME = {
  sum,
  avg,
  stddev,
  min: extreme(1),
  max: extreme(-1),
  first: pick(1),
  last: pick(-1),
} as const;

export function aggregateFor(call: AggregateCall): Aggregate {
  if (call.name === 'count') return call.star ? countAll : call.distinct ? countDistinct : countValues;
  return BY_NAME[call.name];
}
