// Property tests of patterns and interval joins: when no event is later than the grace period,
// the results (ids and values) do not depend on the arrival order, on the partition count, or on
// a crash and restore at any point.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runOffline, type QueryInput, type StepOutput } from '../../../runtime/queries/index.js';
import { BASE, compile } from './helpers.js';

const GRACE_MS = 5000;
const G = 'GRACE PERIOD 5 SECONDS';

const QUERIES: Record<string, string> = {
  'EVERY with a quantifier and an earlier variable': `SELECT data.u AS u, f[0].data.v AS v0, f[last].data.v AS vl, count(f) AS n, sum(f.data.v) AS s, ok.data.v AS okv
    FROM PATTERN (EVERY f=orders[data.g = 'x']{2,3} -> ok=payments[data.v > f[0].data.v]) WITHIN 20 SECONDS ${G} PARTITION BY data.u`,
  'one match at a time': `SELECT a.id AS a, b.id AS b FROM PATTERN (a=orders -> b=payments[data.g = a.data.g]) WITHIN 15 SECONDS ${G} PARTITION BY data.u`,
  'SEQUENCE with {n,}': `SELECT a[0].id AS a, count(a) AS n, b.id AS b FROM SEQUENCE (EVERY a=orders{2,} -> b=payments) WITHIN 30 SECONDS ${G} PARTITION BY data.u`,
  'NOT … FOR at the end and in the middle': `SELECT a.id AS a, c.id AS c FROM PATTERN (EVERY a=orders[data.g = 'x'] -> NOT payments[data.g = 'x'] FOR 3 SECONDS -> c=orders) WITHIN 20 SECONDS ${G} PARTITION BY data.u`,
  'trailing NOT … FOR': `SELECT a.id AS a FROM PATTERN (EVERY a=orders -> NOT payments FOR 4 SECONDS) WITHIN 10 SECONDS ${G} PARTITION BY data.u`,
  'AND and OR': `SELECT a.id AS a, b.id AS b, c.id AS c, d.id AS d FROM PATTERN (EVERY a=orders -> (b=payments[data.g = 'x'] AND c=orders[data.g = 'y']) -> (d=payments OR e=orders[data.g = 'z'])) WITHIN 25 SECONDS ${G} PARTITION BY data.u`,
  'interval join': `SELECT o.id AS o, p.id AS p, p.data.v AS v FROM orders o JOIN payments p WITHIN 3 SECONDS ${G} ON o.data.u = p.data.u AND o.data.v <= p.data.v`,
  'LEFT interval join': `SELECT o.id AS o, p.id AS p FROM orders o LEFT JOIN payments p WITHIN 2 SECONDS ${G} ON o.data.u = p.data.u WHERE p.data.g IS NULL OR p.data.g <> 'z'`,
};

interface Gen {
  src: 'orders' | 'payments';
  u: string;
  t: number;
  v: number;
  g: string;
  j1: number;
  j2: number;
}

const genArb: fc.Arbitrary<Gen> = fc.record({
  src: fc.constantFrom('orders' as const, 'payments' as const),
  u: fc.constantFrom('a', 'b', 'c'),
  t: fc.integer({ min: 0, max: 240 }).map((q) => q * 250),
  v: fc.integer({ min: 0, max: 9 }),
  g: fc.constantFrom('x', 'y', 'z'),
  j1: fc.integer({ min: 0, max: GRACE_MS }),
  j2: fc.integer({ min: 0, max: GRACE_MS }),
});

function toInputs(gens: Gen[]): QueryInput[] {
  const seqs = { orders: 0, payments: 0 };
  return gens.map((g, i) => ({
    source: g.src,
    seq: ++seqs[g.src],
    event: {
      specversion: '1.0',
      id: `e${i + 1}`,
      type: g.src,
      source: '/shop',
      time: new Date(BASE + g.t).toISOString(),
      data: { u: g.u, v: g.v, g: g.g },
    },
  }));
}

/** Arrival orders where no event is later than the grace period (see properties.test.ts). */
function arrival(inputs: QueryInput[], gens: Gen[], delay: (g: Gen) => number): QueryInput[] {
  return inputs
    .map((input, i) => ({ input, at: gens[i]!.t + delay(gens[i]!), i }))
    .sort((a, b) => a.at - b.at || a.i - b.i)
    .map((x) => x.input);
}

function finals(out: StepOutput): [string, unknown][] {
  return out.results
    .map((r) => [r.id, { time: r.time, key: r.key, data: r.data }] as [string, unknown])
    .sort((a, b) => (a[0] < b[0] ? -1 : 1));
}

const RUNS = { numRuns: 80 };
const gensArb = fc.array(genArb, { maxLength: 50 });

describe.each(Object.entries(QUERIES))('%s: determinism', (_name, sql) => {
  const q = compile(sql);

  it('gives the same results whatever the arrival order within the grace period, over 1 or 3 partitions', () => {
    fc.assert(
      fc.property(gensArb, (gens) => {
        const inputs = toInputs(gens);
        const inOrder = runOffline(
          q,
          arrival(inputs, gens, () => 0),
        );
        const shuffled = runOffline(
          q,
          arrival(inputs, gens, (g) => g.j2),
          { partitions: 3 },
        );
        expect(shuffled.late).toEqual([]);
        expect(finals(shuffled)).toEqual(finals(inOrder));
      }),
      RUNS,
    );
  });

  it('gives the same results after a crash and restore at any point', () => {
    fc.assert(
      fc.property(gensArb, fc.nat(), fc.integer({ min: 1, max: 3 }), (gens, at, partitions) => {
        const inputs = arrival(toInputs(gens), gens, (g) => g.j1);
        const plain = runOffline(q, inputs, { partitions });
        const crashed = runOffline(q, inputs, { partitions, crashAt: at % (inputs.length + 1) });
        expect(finals(crashed)).toEqual(finals(plain));
        expect(crashed.late).toEqual(plain.late);
      }),
      RUNS,
    );
  });
});

describe('patterns find matches at all', () => {
  it('every query above matches something on a dense stream', () => {
    const gens: Gen[] = [];
    for (let i = 0; i < 200; i++)
      gens.push({
        src: i % 3 === 0 ? 'payments' : 'orders',
        u: 'ab'[Math.floor(i / 6) % 2]!,
        t: i * 400,
        v: (i * 7) % 10,
        g: 'xyz'[Math.floor(i / 2) % 3]!,
        j1: 0,
        j2: 0,
      });
    for (const [name, sql] of Object.entries(QUERIES)) {
      const out = runOffline(compile(sql), toInputs(gens));
      expect(out.results.length, name).toBeGreaterThan(0);
    }
  });
});
