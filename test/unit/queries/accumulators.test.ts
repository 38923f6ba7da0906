// Accumulators reused as scratch (reset, copyInto: sliding rows, merged hopping panes) give what
// fresh ones (create, clone) give, and leave the accumulators they copy from as they were; sum and
// avg keep their count and partials in one array but save and load the checkpoint form of
// state.ts ({ n, p }), so checkpoints written before load and restore the same results.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { aggregateFor, type Aggregate } from '../../../runtime/queries/aggregates.js';
import type { AggregateName } from '../../../runtime/queries/checker.js';
import { addExact, exactValue } from '../../../runtime/queries/exact-sum.js';
import type { Value } from '../../../runtime/queries/values.js';

const CALLS: { label: string; name: AggregateName; star: boolean; distinct: boolean }[] = [
  { label: 'count(*)', name: 'count', star: true, distinct: false },
  { label: 'count(x)', name: 'count', star: false, distinct: false },
  { label: 'count(DISTINCT x)', name: 'count', star: false, distinct: true },
  ...(['sum', 'avg', 'stddev', 'min', 'max', 'first', 'last'] as const).map((name) => ({
    label: name,
    name,
    star: false,
    distinct: false,
  })),
];

const aggOf = (c: (typeof CALLS)[number]): Aggregate =>
  aggregateFor({ name: c.name, star: c.star, distinct: c.distinct, key: c.label });

const valueArb: fc.Arbitrary<Value> = fc.oneof(
  fc.integer({ min: -1000, max: 1000 }).map((x) => x / 10),
  fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e300, max: 1e300 }),
  fc.constantFrom<Value>(null, 'a', 'b', true, 1e308, -1e308),
);

interface Item {
  v: Value;
  t: number;
  seq: number;
}

const itemsArb = fc.array(
  fc.record({ v: valueArb, t: fc.integer({ min: 0, max: 50 }), seq: fc.integer({ min: 1, max: 1000 }) }),
  { maxLength: 12 },
);

function addAll(agg: Aggregate, acc: unknown, items: readonly Item[]): unknown {
  for (const x of items) acc = agg.add(acc, x.v, x.t, x.seq, 'ev');
  return acc;
}

/** What an accumulator shows: its result and its checkpoint form, as text. */
const view = (agg: Aggregate, acc: unknown): string => JSON.stringify([agg.result(acc), agg.save(acc)]);

describe('scratch accumulators', () => {
  for (const call of CALLS) {
    it(`${call.label}: reset and copyInto give what create and clone give`, () => {
      const agg = aggOf(call);
      fc.assert(
        fc.property(itemsArb, itemsArb, itemsArb, (before, a, b) => {
          // A scratch that held other values first.
          const scratch = addAll(agg, agg.create(), before);
          const fromReset = addAll(agg, agg.reset(scratch), a);
          expect(view(agg, fromReset)).toBe(view(agg, addAll(agg, agg.create(), a)));

          const accA = addAll(agg, agg.create(), a);
          const accB = addAll(agg, agg.create(), b);
          const savedA = view(agg, accA);
          const scratch2 = addAll(agg, agg.create(), before);
          const merged = agg.merge(agg.copyInto(scratch2, accA), accB);
          const expected = agg.merge(agg.clone(accA), addAll(agg, agg.create(), b));
          expect(view(agg, merged)).toBe(view(agg, expected));
          // Merging into the copy leaves the original as it was; so does resetting the copy.
          expect(view(agg, accA)).toBe(savedA);
          agg.reset(merged);
          expect(view(agg, accA)).toBe(savedA);
        }),
        { numRuns: 150 },
      );
    });
  }
});

describe('sum and avg in one array', () => {
  for (const name of ['sum', 'avg'] as const) {
    it(`${name}: saves { n, p } as the object layout did, and loads it back to the same results`, () => {
      const agg = aggOf({ label: name, name, star: false, distinct: false });
      fc.assert(
        fc.property(itemsArb, (items) => {
          const acc = addAll(agg, agg.create(), items);
          // The former layout: a count and an array of partials, saved without zeros.
          const numbers = items.map((x) => x.v).filter((v): v is number => typeof v === 'number');
          const p: number[] = [];
          for (const v of numbers) addExact(p, v);
          const former = {
            n: numbers.length,
            p: p.filter((x) => x !== 0).map((x) => (Number.isFinite(x) ? x : String(x))),
          };
          expect(agg.save(acc)).toEqual(former);
          const total = exactValue(p);
          const expected =
            numbers.length === 0
              ? null
              : Number.isFinite(total)
                ? (name === 'sum' ? total : total / numbers.length) || 0
                : null;
          expect(agg.result(acc)).toBe(Number.isFinite(expected) ? expected : null);
          // A checkpoint (this layout's or the former's, the same JSON) restores the same results,
          // and values added after the restore count as they would have without it.
          const restored = agg.load(JSON.parse(JSON.stringify(former)));
          expect(view(agg, restored)).toBe(view(agg, acc));
          const more = [
            { v: 2.5, t: 1, seq: 1 },
            { v: -0.1, t: 2, seq: 2 },
          ];
          expect(view(agg, addAll(agg, restored, more))).toBe(view(agg, addAll(agg, acc, more)));
        }),
        { numRuns: 300 },
      );
    });
  }
});
