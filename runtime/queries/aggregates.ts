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
  /** A copy that merging into (or adding to) leaves `acc` as it was. */
  clone(acc: unknown): unknown;
  result(acc: unknown): Value;
  save(acc: unknown): unknown;
  load(saved: unknown): unknown;
}

const countAll: Aggregate = {
  create: () => 0,
  add: (acc) => (acc as number) + 1,
  merge: (a, b) => (a as number) + (b as number),
  clone: (acc) => acc,
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

interface SumAcc {
  n: number;
  p: Partials;
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

function sumLike(result: (acc: SumAcc) => Value): Aggregate {
  return {
    create: (): SumAcc => ({ n: 0, p: emptyPartials() }),
    add: (acc, v) => {
      if (typeof v === 'number') {
        const a = acc as SumAcc;
        a.n++;
        addExact(a.p, v);
      }
      return acc;
    },
    merge: (into, from) => {
      const a = into as SumAcc;
      const b = from as SumAcc;
      a.n += b.n;
      mergeExact(a.p, b.p);
      return a;
    },
    clone: (acc): SumAcc => ({ n: (acc as SumAcc).n, p: (acc as SumAcc).p.slice() }),
    result: (acc) => result(acc as SumAcc),
    save: (acc) => ({ n: (acc as SumAcc).n, p: savePartials((acc as SumAcc).p) }),
    load: (saved) => {
      const s = saved as { n: number; p: unknown };
      return { n: Number(s.n), p: loadPartials(s.p) };
    },
  };
}

/** Results never show -0. */
const plusZero = (v: number | null): number | null => (v === 0 ? 0 : v);

const sum = sumLike((a) => (a.n === 0 ? null : plusZero(finite(exactValue(a.p)))));
const avg = sumLike((a) => (a.n === 0 ? null : plusZero(finite(exactValue(a.p) / a.n))));

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
