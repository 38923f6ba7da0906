// Watermarks of queries that read two sources: each source's watermark moves with its own events
// (and its own idleness) and the query's is the smaller, so one source running ahead of the other
// delays results but makes no event late. Property: interleaving the two sources' events in any
// order, each source in order within the grace period, gives the results of the time-ordered
// input and no late events, over 1 or 3 partitions and across a crash and restore. Also the idle
// rule per source and checkpoints with and without per-source watermarks.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  restoreState,
  runOffline,
  type QueryCheckpoint,
  type QueryInput,
  type StepOutput,
} from '../../../runtime/queries/index.js';
import { BASE, at, compile } from './helpers.js';

const GRACE_MS = 2000;
const G = 'GRACE PERIOD 2 SECONDS';

const QUERIES: Record<string, string> = {
  'interval join': `SELECT o.id AS o, p.id AS p, p.data.v AS v FROM orders o JOIN payments p WITHIN 3 SECONDS ${G} ON o.data.u = p.data.u AND o.data.v <= p.data.v`,
  'LEFT interval join': `SELECT o.id AS o, p.id AS p FROM orders o LEFT JOIN payments p WITHIN 2 SECONDS ${G} ON o.data.u = p.data.u`,
  'pattern over both sources': `SELECT a.id AS a, b.id AS b FROM PATTERN (EVERY a=orders -> b=payments[data.v >= a.data.v]) WITHIN 10 SECONDS ${G} PARTITION BY data.u`,
  'pattern with an absence': `SELECT a.id AS a, c.id AS c FROM PATTERN (EVERY a=orders -> NOT payments FOR 3 SECONDS -> c=orders) WITHIN 20 SECONDS ${G} PARTITION BY data.u`,
};

interface Gen {
  u: string;
  t: number;
  v: number;
  /** How late the event arrives within its own source, at most the grace period. */
  j: number;
}

const genArb: fc.Arbitrary<Gen> = fc.record({
  u: fc.constantFrom('a', 'b', 'c'),
  t: fc.integer({ min: 0, max: 160 }).map((q) => q * 250),
  v: fc.integer({ min: 0, max: 9 }),
  j: fc.integer({ min: 0, max: GRACE_MS }),
});

type Source = 'orders' | 'payments';

interface Timed {
  input: QueryInput;
  t: number;
  j: number;
}

/** A source's events, numbered in their source's arrival order (by t + j: in order within grace). */
function sourceInputs(source: Source, gens: Gen[]): Timed[] {
  return gens
    .map((g, i) => ({ g, i }))
    .sort((a, b) => a.g.t + a.g.j - (b.g.t + b.g.j) || a.i - b.i)
    .map(({ g, i }, k) => ({
      t: g.t,
      j: g.j,
      input: {
        source,
        seq: k + 1,
        event: {
          specversion: '1.0',
          id: `${source[0]}${i + 1}`,
          type: source,
          source: '/shop',
          time: new Date(BASE + g.t).toISOString(),
          data: { u: g.u, v: g.v },
        },
      },
    }));
}

/** Both sources merged: `pick[i]` says which source the i-th input comes from while both have some. */
function interleave(a: Timed[], b: Timed[], pick: readonly boolean[]): QueryInput[] {
  const out: QueryInput[] = [];
  let i = 0;
  let k = 0;
  for (let n = 0; i < a.length || k < b.length; n++) {
    const fromA = k >= b.length || (i < a.length && (pick[n] ?? n % 2 === 0));
    out.push(fromA ? a[i++]!.input : b[k++]!.input);
  }
  return out;
}

/** Both sources in event-time order, no disorder at all. */
function timeOrdered(a: Timed[], b: Timed[]): QueryInput[] {
  return [...a, ...b]
    .sort(
      (x, y) =>
        x.t - y.t ||
        (x.input.source < y.input.source ? -1 : x.input.source > y.input.source ? 1 : 0) ||
        x.input.seq - y.input.seq,
    )
    .map((x) => x.input);
}

function finals(out: StepOutput): [string, unknown][] {
  return out.results
    .map((r) => [r.id, { time: r.time, key: r.key, data: r.data }] as [string, unknown])
    .sort((a, b) => (a[0] < b[0] ? -1 : 1));
}

const RUNS = { numRuns: 100 };
const caseArb = fc.record({
  orders: fc.array(genArb, { maxLength: 40 }),
  payments: fc.array(genArb, { maxLength: 40 }),
  pick: fc.array(fc.boolean(), { maxLength: 80 }),
  /** Arrival order as a run of one source, then the other: the largest skew there is. */
  blocks: fc.boolean(),
  partitions: fc.integer({ min: 1, max: 3 }),
  crash: fc.nat(),
});

describe.each(Object.entries(QUERIES))('%s over two sources', (_name, sql) => {
  const q = compile(sql);

  it('gives the time-ordered results and no late event however the sources are skewed', () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        const orders = sourceInputs('orders', c.orders);
        const payments = sourceInputs('payments', c.payments);
        const reference = runOffline(q, timeOrdered(orders, payments));
        expect(reference.late).toEqual([]);
        const pick = c.blocks ? [] : c.pick;
        const skewed = c.blocks
          ? [...orders, ...payments].map((x) => x.input)
          : interleave(orders, payments, pick);
        const out = runOffline(q, skewed, { partitions: c.partitions });
        expect(out.late).toEqual([]);
        expect(finals(out)).toEqual(finals(reference));
        const crashed = runOffline(q, skewed, {
          partitions: c.partitions,
          crashAt: c.crash % (skewed.length + 1),
        });
        expect(crashed.late).toEqual([]);
        expect(finals(crashed)).toEqual(finals(reference));
      }),
      RUNS,
    );
  });
});

let n = 0;
function ev(source: Source, s: number, data: Record<string, unknown>): QueryInput {
  n++;
  return {
    source,
    seq: n,
    event: { specversion: '1.0', id: `${source[0]}${n}`, type: source, source: '/shop', time: at(s), data },
  };
}

describe('two sources, one ahead', () => {
  it('an event behind the other source is not late; one behind its own source is', () => {
    const q = compile(
      `SELECT a.id AS a, b.id AS b FROM PATTERN (EVERY a=orders -> b=payments) WITHIN 1 MINUTE GRACE PERIOD 1 SECOND`,
    );
    const early = ev('orders', 3, {});
    const late = ev('orders', 1, {});
    const out = runOffline(q, [ev('payments', 10, {}), early, late, ev('payments', 11, {})]);
    // The payments ran 7 s ahead of the grace period: the order of 3 s still matches.
    expect(out.results.map((r) => [r.data.a, r.data.b])).toEqual([[early.event.id, expect.any(String)]]);
    // The order of 1 s came after one of 3 s, 2 s out of order with a grace period of 1 s.
    expect(out.late.map((l) => l.id)).toEqual([late.event.id]);
  });

  it('holds the watermark at the slower source until it catches up', () => {
    const q = compile(
      `SELECT o.id AS o FROM orders o LEFT JOIN payments p WITHIN 5 SECONDS ON o.data.id = p.data.order`,
    );
    const state = q.createState();
    const first = ev('orders', 0, { id: 1 });
    state.push([first, ev('orders', 100, { id: 2 })]);
    expect(state.watermark).toBe(-Infinity); // nothing from payments yet
    expect(state.push([ev('payments', 3, { order: 9 })]).results).toEqual([]);
    expect(state.watermark).toBe(BASE + 3000);
    const closed = state.push([ev('payments', 5.001, { order: 9 })]).results;
    expect(closed.map((r) => r.data.o)).toEqual([first.event.id]);
    expect(state.watermark).toBe(BASE + 5001);
  });
});

describe('idle sources', () => {
  const q = compile(
    `SELECT o.data.id AS order_id, p.data.amount AS paid FROM orders o LEFT JOIN payments p WITHIN 10 SECONDS ON o.data.id = p.data.order`,
    { idleTimeout: '10s' },
  );
  const NOW = BASE + 20_000;

  it('a source without input for idleTimeout moves its own watermark with the wall clock', () => {
    const state = q.createState();
    state.push([ev('orders', 0, { id: 1 })]);
    state.tick(NOW); // starts both sources' idle clocks
    state.push([ev('orders', 30, { id: 2 })]);
    expect(state.tick(NOW + 9_999).results).toEqual([]); // payments quiet for less than idleTimeout
    expect(state.watermark).toBe(-Infinity);
    // Payments idle for 10 s: their watermark = now − idleTimeout − grace = BASE + 20 s; the
    // orders' is 30 s; the query's is the smaller, which closes order 1 (0 s + WITHIN 10 s).
    const closed = state.tick(NOW + 10_000).results;
    expect(closed.map((r) => [r.time, r.data])).toEqual([[at(0), { order_id: 1, paid: null }]]);
    expect(state.watermark).toBe(BASE + 20_000);
    expect(state.checkpoint().sources).toEqual({
      orders: { maxTime: BASE + 30_000, watermarkFloor: null },
      payments: { maxTime: null, watermarkFloor: BASE + 20_000 },
    });
    // A payment behind the idle floor is late; one after it joins order 2.
    const out = state.push([
      ev('payments', 15, { order: 1, amount: 1 }),
      ev('payments', 25, { order: 2, amount: 2 }),
    ]);
    expect(out.late.map((l) => l.source)).toEqual(['payments']);
    expect(out.results.map((r) => r.data)).toEqual([{ order_id: 2, paid: 2 }]);
    expect(state.watermark).toBe(BASE + 25_000);
  });

  it('input of one source does not keep the other from going idle', () => {
    const state = q.createState();
    state.push([ev('orders', 0, { id: 1 })]);
    state.tick(NOW);
    for (let s = 1; s <= 10; s++) {
      state.push([ev('orders', 30 + s, { id: 100 + s })]);
      state.tick(NOW + s * 1000);
    }
    expect(state.watermark).toBe(BASE + 20_000); // payments idle since NOW; orders at 40 s
  });

  it('a source that never goes quiet keeps the watermark at its own', () => {
    const state = q.createState();
    state.tick(NOW);
    for (let s = 0; s <= 20; s++) {
      state.push([ev('orders', s, { id: s })]);
      state.tick(NOW + s * 1000);
    }
    // Payments idle since NOW: floor NOW + 20 s − 10 s = BASE + 30 s; orders at 20 s hold it.
    expect(state.watermark).toBe(BASE + 20_000);
  });
});

describe('checkpoints of two-source queries', () => {
  const q = compile(
    `SELECT o.id AS o, p.id AS p FROM orders o JOIN payments p WITHIN 5 SECONDS GRACE PERIOD 1 SECOND ON o.data.u = p.data.u`,
  );

  it('keep each source watermark, so a restored partition holds time where it was', () => {
    const state = q.createState();
    state.push([ev('payments', 60, { u: 1 }), ev('orders', 10, { u: 1 })]);
    expect(state.watermark).toBe(BASE + 9_000);
    const cp = JSON.parse(JSON.stringify(state.checkpoint())) as QueryCheckpoint;
    expect(cp.maxTime).toBe(BASE + 60_000);
    const restored = restoreState(q, cp);
    expect(restored.watermark).toBe(BASE + 9_000);
    // An order of 12 s is not late after the restore (payments are 48 s ahead).
    const out = restored.push([ev('orders', 12, { u: 1 })]);
    expect(out.late).toEqual([]);
  });

  it('restore a checkpoint without per-source watermarks with the one watermark it had', () => {
    const state = q.createState();
    state.push([ev('payments', 60, { u: 1 }), ev('orders', 10, { u: 1 })]);
    const legacy = JSON.parse(JSON.stringify(state.checkpoint())) as QueryCheckpoint;
    delete legacy.sources;
    const restored = restoreState(q, legacy);
    // As before per-source watermarks: the largest time of any source minus the grace period.
    expect(restored.watermark).toBe(BASE + 59_000);
    expect(restored.push([ev('orders', 12, { u: 1 })]).late.map((l) => l.reason)).toEqual(['late']);
    // From there each source moves on its own.
    restored.push([ev('orders', 70, { u: 2 }), ev('payments', 80, { u: 2 })]);
    expect(restored.watermark).toBe(BASE + 69_000);
  });

  it('refuse malformed per-source watermarks with the field named', () => {
    const state = q.createState();
    state.push([ev('orders', 10, { u: 1 })]);
    const cp = JSON.parse(JSON.stringify(state.checkpoint())) as QueryCheckpoint;
    (cp as unknown as { sources: unknown }).sources = { orders: { maxTime: 'soon' } };
    expect(() => restoreState(q, cp)).toThrow(/sources\.orders\.maxTime must be a finite number/);
  });
});
