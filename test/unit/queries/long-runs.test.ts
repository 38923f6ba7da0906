// Long runs of the window operators against a direct computation: enough events per key that a
// sliding key's arrays are compacted and reused, sessions grow through many queue entries, keys go
// idle and are forgotten and come back, and events arrive out of order within the grace period;
// with a checkpoint and restore in the middle. (The property tests in properties.test.ts cover
// every aggregate on short inputs.)
import { describe, expect, it } from 'vitest';
import {
  restoreState,
  type QueryCheckpoint,
  type QueryInput,
  type QueryResult,
} from '../../../runtime/queries/index.js';
import { addExact, exactValue } from '../../../runtime/queries/exact-sum.js';
import { BASE, compile } from './helpers.js';

const GRACE_MS = 2000;

interface Ev {
  seq: number;
  k: string;
  t: number;
  v: number;
}

/** Seeded events: keys with bursts and pauses, times jittered within the grace period. */
function events(n: number, seed: number): { evs: Ev[]; arrival: Ev[] } {
  let s = seed;
  const rnd = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296;
  const evs: Ev[] = [];
  let t = 0;
  for (let i = 0; i < n; i++) {
    // Mostly small steps, sometimes a pause longer than any window or gap.
    t += rnd() < 0.02 ? 30_000 : Math.floor(rnd() * 400);
    const k = `k${Math.floor(rnd() * (i < n / 2 ? 6 : 3))}`;
    evs.push({ seq: i + 1, k, t, v: Math.round(rnd() * 2000 - 1000) / 100 });
  }
  const arrival = evs
    .map((e) => ({ e, at: e.t + Math.floor(rnd() * GRACE_MS) }))
    .sort((a, b) => a.at - b.at || a.e.seq - b.e.seq)
    .map((x) => x.e);
  return { evs, arrival };
}

const input = (e: Ev): QueryInput => ({
  source: 'orders',
  seq: e.seq,
  streamTime: BASE + e.t,
  event: { id: `e${e.seq}`, data: { k: e.k, v: e.v } },
});

/** Pushes in batches of 50, checkpoints and restores at `crashAt`, ends. */
function run(sql: string, arrival: Ev[], crashAt: number): QueryResult[] {
  const q = compile(sql);
  let state = q.createState();
  const out: QueryResult[] = [];
  for (let i = 0; i < arrival.length; i += 50) {
    if (i === crashAt) {
      const cp = JSON.parse(JSON.stringify(state.checkpoint())) as QueryCheckpoint;
      state = restoreState(q, cp);
    }
    const step = state.push(arrival.slice(i, i + 50).map(input));
    expect(step.late).toEqual([]);
    out.push(...step.results);
  }
  out.push(...state.end().results);
  return out;
}

/** The correctly rounded sum (exact-sum.ts has its own tests), -0 shown as 0. */
function fsum(vs: number[]): number {
  const p: number[] = [];
  for (const v of vs) addExact(p, v);
  return exactValue(p) || 0;
}

describe('long runs', () => {
  const { evs, arrival } = events(4000, 7);

  it('SLIDING rows match a direct computation, across a restore', () => {
    const sql =
      'SELECT id, data.k AS k, count(*) AS n, sum(data.v) AS s FROM orders WINDOW SLIDING (SIZE 5 SECONDS, GRACE PERIOD 2 SECONDS) GROUP BY data.k';
    const want = new Map(
      evs.map((e) => {
        const inside = evs.filter((x) => x.k === e.k && x.t > e.t - 5000 && x.t <= e.t);
        return [`e${e.seq}`, { n: inside.length, s: fsum(inside.map((x) => x.v)) }];
      }),
    );
    for (const crashAt of [1000, 2500]) {
      const got = run(sql, arrival, crashAt);
      expect(got.length).toBe(evs.length);
      for (const r of got) {
        const w = want.get(r.data.id as string)!;
        expect({ n: r.data.n, s: r.data.s }).toEqual(w);
      }
    }
  });

  it('SESSION rows match a direct computation, across a restore', () => {
    const sql =
      'SELECT data.k AS k, count(*) AS n, sum(data.v) AS s, window_start, window_end FROM orders WINDOW SESSION (GAP 1 SECOND, GRACE PERIOD 2 SECONDS) GROUP BY data.k';
    const want: string[] = [];
    for (const k of new Set(evs.map((e) => e.k))) {
      const ts = evs.filter((e) => e.k === k).sort((a, b) => a.t - b.t);
      let from = 0;
      for (let i = 1; i <= ts.length; i++) {
        if (i < ts.length && ts[i]!.t - ts[i - 1]!.t <= 1000) continue;
        const part = ts.slice(from, i);
        const start = new Date(BASE + part[0]!.t).toISOString();
        const end = new Date(BASE + part[part.length - 1]!.t + 1000).toISOString();
        want.push(`${k} ${start} ${end} ${part.length} ${fsum(part.map((x) => x.v))}`);
        from = i;
      }
    }
    for (const crashAt of [1000, 2500]) {
      const got = run(sql, arrival, crashAt).map(
        (r) => `${r.data.k} ${r.data.window_start} ${r.data.window_end} ${r.data.n} ${r.data.s}`,
      );
      expect(got.sort()).toEqual([...want].sort());
    }
  });
});
