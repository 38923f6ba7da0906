// Property tests of the determinism contract: when no event is later than the grace period, the
// results (ids and final values) do not depend on the partition count, on the arrival order, or on
// a crash and restore at any point; and they match a direct computation of each window kind.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  restoreState,
  runOffline,
  type CompiledQuery,
  type QueryCheckpoint,
  type QueryInput,
  type StepOutput,
} from '../../../runtime/queries/index.js';
import { BASE, compile } from './helpers.js';

const GRACE_MS = 5000;
const GRACE = 'GRACE PERIOD 5 SECONDS';
const ALL_AGGREGATES =
  'count(*) AS n, count(data.v) AS nv, count(DISTINCT data.g) AS dg, sum(data.v) AS s, avg(data.v) AS a, min(data.v) AS mn, max(data.v) AS mx, stddev(data.v) AS sd, first(data.g) AS f, last(data.g) AS l';

const QUERIES: Record<string, string> = {
  tumbling: `SELECT data.k AS k, ${ALL_AGGREGATES}, window_start, window_end FROM orders WINDOW TUMBLING (SIZE 10 SECONDS, ${GRACE}) GROUP BY data.k`,
  hopping: `SELECT data.k AS k, ${ALL_AGGREGATES}, window_start FROM orders WINDOW HOPPING (SIZE 10 SECONDS, ADVANCE BY 4 SECONDS, ${GRACE}) GROUP BY data.k`,
  session: `SELECT data.k AS k, ${ALL_AGGREGATES}, window_start, window_end FROM orders WINDOW SESSION (GAP 3 SECONDS, ${GRACE}) GROUP BY data.k`,
  sliding: `SELECT id, data.k AS k, ${ALL_AGGREGATES} FROM orders WINDOW SLIDING (SIZE 5 SECONDS, ${GRACE}) GROUP BY data.k`,
  count: `SELECT data.k AS k, ${ALL_AGGREGATES}, window_start, window_end FROM orders WINDOW COUNT (SIZE 3, ADVANCE BY 2, ${GRACE}) GROUP BY data.k`,
  changes: `SELECT data.k AS k, ${ALL_AGGREGATES} FROM orders WINDOW HOPPING (SIZE 6 SECONDS, ADVANCE BY 3 SECONDS, ${GRACE}) GROUP BY data.k HAVING count(*) > 0 EMIT CHANGES`,
  global: `SELECT ${ALL_AGGREGATES}, window_end FROM orders WHERE data.v IS NOT NULL WINDOW TUMBLING (SIZE 7 SECONDS, ${GRACE})`,
  stateless: `SELECT id, data.k AS k, data.v * 2 AS v2 FROM orders WHERE data.k <> 'c'`,
};

interface Gen {
  k: string;
  t: number;
  v: number | string | null;
  g: string;
  /** Arrival delays, each within the grace period. */
  j1: number;
  j2: number;
}

const genArb: fc.Arbitrary<Gen> = fc.record({
  k: fc.constantFrom('a', 'b', 'c'),
  // Quarter seconds over a minute: many equal times, to exercise tie-breaking.
  t: fc.integer({ min: 0, max: 240 }).map((q) => q * 250),
  v: fc.oneof(
    { weight: 6, arbitrary: fc.integer({ min: -1000, max: 1000 }).map((x) => x / 10) },
    { weight: 1, arbitrary: fc.constant(null) },
    { weight: 1, arbitrary: fc.constant('text') },
  ),
  g: fc.constantFrom('x', 'y', 'z'),
  j1: fc.integer({ min: 0, max: GRACE_MS }),
  j2: fc.integer({ min: 0, max: GRACE_MS }),
});

const gensArb = fc.array(genArb, { maxLength: 60 });

function toInputs(gens: Gen[]): QueryInput[] {
  return gens.map((g, i) => ({
    source: 'orders',
    seq: i + 1,
    event: {
      specversion: '1.0',
      id: `e${i + 1}`,
      type: 'order',
      source: '/shop',
      time: new Date(BASE + g.t).toISOString(),
      data: { k: g.k, v: g.v, g: g.g },
    },
  }));
}

/**
 * Arrival orders where no event is later than the grace period: sorting by t + delay with
 * 0 ≤ delay ≤ grace means every event's time is at least any earlier arrival's time − grace.
 */
function arrival(inputs: QueryInput[], gens: Gen[], delay: (g: Gen) => number): QueryInput[] {
  return inputs
    .map((input, i) => ({ input, at: gens[i]!.t + delay(gens[i]!) }))
    .sort((a, b) => a.at - b.at || a.input.seq - b.input.seq)
    .map((x) => x.input);
}

/** The final value of each result id (the last emitted, for EMIT CHANGES). */
function finals(out: StepOutput): Map<string, unknown> {
  const m = new Map<string, unknown>();
  for (const r of out.results) m.set(r.id, { time: r.time, key: r.key, data: r.data });
  return m;
}

function sorted(m: Map<string, unknown>): [string, unknown][] {
  return [...m.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1));
}

const RUNS = { numRuns: 60 };

describe.each(Object.entries(QUERIES))('%s query: determinism', (_kind, sql) => {
  const q = compile(sql);

  it('gives the same results with 1, 3 or 7 partitions', () => {
    fc.assert(
      fc.property(gensArb, (gens) => {
        const inputs = arrival(toInputs(gens), gens, (g) => g.j1);
        const one = runOffline(q, inputs, { partitions: 1 });
        expect(one.late).toEqual([]);
        const expected = sorted(finals(one));
        for (const partitions of [3, 7]) {
          const out = runOffline(q, inputs, { partitions });
          expect(out.late).toEqual([]);
          expect(sorted(finals(out))).toEqual(expected);
        }
      }),
      RUNS,
    );
  });

  it('gives the same results whatever the arrival order within the grace period', () => {
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
          { partitions: 2 },
        );
        expect(shuffled.late).toEqual([]);
        expect(sorted(finals(shuffled))).toEqual(sorted(finals(inOrder)));
      }),
      RUNS,
    );
  });

  it('gives the same results after a crash and restore at any point', () => {
    fc.assert(
      fc.property(gensArb, fc.nat(), fc.integer({ min: 1, max: 4 }), (gens, at, partitions) => {
        const inputs = arrival(toInputs(gens), gens, (g) => g.j1);
        const crashAt = at % (inputs.length + 1);
        const plain = runOffline(q, inputs, { partitions });
        const crashed = runOffline(q, inputs, { partitions, crashAt });
        expect(crashed.late).toEqual([]);
        expect(sorted(finals(crashed))).toEqual(sorted(finals(plain)));
      }),
      RUNS,
    );
  });

  it('saves the same checkpoint again after a restore', () => {
    fc.assert(
      fc.property(gensArb, fc.nat(), (gens, at) => {
        const inputs = arrival(toInputs(gens), gens, (g) => g.j1);
        const state = q.createState();
        state.push(inputs.slice(0, at % (inputs.length + 1)));
        const saved = state.checkpoint();
        const restored = restoreState(q, JSON.parse(JSON.stringify(saved)) as QueryCheckpoint);
        expect(restored.checkpoint()).toEqual(saved);
        expect(restored.stateKeys).toBe(state.stateKeys);
        expect(restored.watermark).toBe(state.watermark);
      }),
      RUNS,
    );
  });
});

// ---- A direct computation of each window kind, to check the streaming operators against. ----

interface Ev {
  k: string;
  t: number;
  seq: number;
  v: number;
  id: string;
}

interface Expected {
  k: string;
  n: number;
  s: number;
  mn: number;
  mx: number;
  f: number;
  l: number;
}

function summarize(k: string, evs: Ev[]): Expected {
  const ordered = [...evs].sort((a, b) => a.t - b.t || a.seq - b.seq);
  const vs = evs.map((e) => e.v);
  return {
    k,
    n: evs.length,
    s: vs.reduce((a, b) => a + b, 0),
    mn: Math.min(...vs),
    mx: Math.max(...vs),
    f: ordered[0]!.v,
    l: ordered[ordered.length - 1]!.v,
  };
}

function byKey(evs: Ev[]): Map<string, Ev[]> {
  const m = new Map<string, Ev[]>();
  for (const e of evs) m.set(e.k, [...(m.get(e.k) ?? []), e]);
  return m;
}

const iso = (ms: number): string => new Date(ms).toISOString();

function expectedRows(kind: string, evs: Ev[]): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const [k, list] of byKey(evs)) {
    const ordered = [...list].sort((a, b) => a.t - b.t || a.seq - b.seq);
    if (kind === 'tumbling' || kind === 'hopping') {
      const size = 10_000;
      const adv = kind === 'tumbling' ? size : 4000;
      const windows = new Map<number, Ev[]>();
      for (const e of list) {
        for (let s = Math.floor((e.t - BASE) / adv) * adv + BASE; s > e.t - size; s -= adv)
          windows.set(s, [...(windows.get(s) ?? []), e]);
      }
      for (const [s, w] of windows) out.push({ ...summarize(k, w), ws: iso(s), we: iso(s + size) });
    } else if (kind === 'session') {
      let cur: Ev[] = [];
      const flush = (): void => {
        if (cur.length)
          out.push({ ...summarize(k, cur), ws: iso(cur[0]!.t), we: iso(cur[cur.length - 1]!.t + 3000) });
        cur = [];
      };
      for (const e of ordered) {
        // Events at most GAP apart share a session (touching sessions merge).
        if (cur.length && e.t - cur[cur.length - 1]!.t > 3000) flush();
        cur.push(e);
      }
      flush();
    } else if (kind === 'sliding') {
      for (const e of ordered) {
        const w = ordered.filter((x) => x.t > e.t - 5000 && x.t <= e.t);
        out.push({ ...summarize(k, w), id: e.id });
      }
    } else if (kind === 'count') {
      for (let start = 0; start + 3 <= ordered.length; start += 2) {
        const w = ordered.slice(start, start + 3);
        out.push({ ...summarize(k, w), ws: iso(w[0]!.t), we: iso(w[2]!.t) });
      }
    }
  }
  return out;
}

const ORACLE_SQL: Record<string, string> = {
  tumbling: `SELECT data.k AS k, count(*) AS n, sum(data.v) AS s, min(data.v) AS mn, max(data.v) AS mx, first(data.v) AS f, last(data.v) AS l, window_start AS ws, window_end AS we FROM orders WINDOW TUMBLING (SIZE 10 SECONDS, ${GRACE}) GROUP BY data.k`,
  hopping: `SELECT data.k AS k, count(*) AS n, sum(data.v) AS s, min(data.v) AS mn, max(data.v) AS mx, first(data.v) AS f, last(data.v) AS l, window_start AS ws, window_end AS we FROM orders WINDOW HOPPING (SIZE 10 SECONDS, ADVANCE BY 4 SECONDS, ${GRACE}) GROUP BY data.k`,
  session: `SELECT data.k AS k, count(*) AS n, sum(data.v) AS s, min(data.v) AS mn, max(data.v) AS mx, first(data.v) AS f, last(data.v) AS l, window_start AS ws, window_end AS we FROM orders WINDOW SESSION (GAP 3 SECONDS, ${GRACE}) GROUP BY data.k`,
  sliding: `SELECT id, data.k AS k, count(*) AS n, sum(data.v) AS s, min(data.v) AS mn, max(data.v) AS mx, first(data.v) AS f, last(data.v) AS l FROM orders WINDOW SLIDING (SIZE 5 SECONDS, ${GRACE}) GROUP BY data.k`,
  count: `SELECT data.k AS k, count(*) AS n, sum(data.v) AS s, min(data.v) AS mn, max(data.v) AS mx, first(data.v) AS f, last(data.v) AS l, window_start AS ws, window_end AS we FROM orders WINDOW COUNT (SIZE 3, ADVANCE BY 2, ${GRACE}) GROUP BY data.k`,
};

const evArb = fc.record({
  k: fc.constantFrom('a', 'b'),
  t: fc.integer({ min: 0, max: 120 }).map((q) => BASE + q * 250),
  v: fc.integer({ min: -50, max: 50 }),
  j: fc.integer({ min: 0, max: GRACE_MS }),
});

const canon = (rs: Record<string, unknown>[]): string[] =>
  rs.map((r) => JSON.stringify(Object.entries(r).sort())).sort();

describe.each(Object.keys(ORACLE_SQL))('%s windows', (kind) => {
  const q: CompiledQuery = compile(ORACLE_SQL[kind]!);

  it('match a direct computation over all events', () => {
    fc.assert(
      fc.property(fc.array(evArb, { maxLength: 50 }), (raw) => {
        const evs: Ev[] = raw.map((r, i) => ({ k: r.k, t: r.t, seq: i + 1, v: r.v, id: `e${i + 1}` }));
        const inputs: QueryInput[] = raw
          .map((r, i) => ({
            r,
            input: {
              source: 'orders',
              seq: i + 1,
              event: { id: `e${i + 1}`, time: iso(r.t), data: { k: r.k, v: r.v } },
            },
          }))
          .sort((a, b) => a.r.t + a.r.j - (b.r.t + b.r.j) || a.input.seq - b.input.seq)
          .map((x) => x.input);
        const out = runOffline(q, inputs, { partitions: 2 });
        expect(out.late).toEqual([]);
        expect(canon(out.results.map((r) => r.data))).toEqual(canon(expectedRows(kind, evs)));
      }),
      { numRuns: 80 },
    );
  });
});
