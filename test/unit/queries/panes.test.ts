// HOPPING windows with EMIT FINAL run as panes (windows/panes.ts); EMIT CHANGES keeps one
// accumulator per window (windows/fixed.ts). The final value of each EMIT CHANGES result is the
// window's row, so the two layouts check each other: same ids, same values to the last bit, with
// out-of-order arrivals, several panes per window range, crashes at any point and state limits.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { QueryInput, QueryResult } from '../../../runtime/queries/index.js';
import { runOffline } from '../../../runtime/queries/index.js';
import { BASE, compile } from './helpers.js';

const AGGS =
  'count(*) AS n, count(data.v) AS nv, count(DISTINCT data.g) AS dg, sum(data.v) AS s, avg(data.v) AS a, ' +
  'min(data.v) AS mn, max(data.v) AS mx, stddev(data.v) AS sd, first(data.g) AS f, last(data.g) AS l';
/** Aggregates that can unmerge: each key keeps a running merge of its panes instead. */
const SUMS = 'count(*) AS n, count(data.v) AS nv, sum(data.v) AS s, avg(data.v) AS a';

/** The last emission of each id, as comparable text. */
function finals(results: readonly QueryResult[]): string[] {
  const last = new Map<string, QueryResult>();
  for (const r of results) last.set(r.id, r);
  return [...last.values()].map((r) => JSON.stringify([r.id, r.time, r.key, r.data])).sort();
}

const caseArb = fc.record({
  // SIZE and ADVANCE BY in seconds: SIZE a multiple of ADVANCE or not, few or many panes per window.
  size: fc.constantFrom(2, 6, 10, 12, 30),
  advance: fc.constantFrom(1, 4, 5),
  events: fc.array(
    fc.record({
      k: fc.constantFrom('a', 'b', 'c'),
      t: fc.integer({ min: 0, max: 400 }).map((q) => q * 250),
      v: fc.oneof(
        fc.integer({ min: -1000, max: 1000 }).map((x) => x / 10),
        fc.constant(null),
      ),
      g: fc.constantFrom('x', 'y'),
      delay: fc.integer({ min: 0, max: 5000 }),
    }),
    { maxLength: 80 },
  ),
  crash: fc.double({ min: 0, max: 1, noNaN: true }),
});

describe('HOPPING windows as panes', () => {
  it.each([
    ['any aggregates', AGGS],
    ['counts and sums (running merges)', SUMS],
  ])('give the rows of the per-window layout, with crashes and out-of-order arrivals: %s', (_name, aggs) => {
    fc.assert(
      fc.property(caseArb, ({ size, advance, events, crash }) => {
        fc.pre(advance < size);
        const win = `HOPPING (SIZE ${size} SECONDS, ADVANCE BY ${advance} SECONDS, GRACE PERIOD 5 SECONDS)`;
        const sql = `SELECT data.k AS k, ${aggs}, window_start, window_end FROM orders WINDOW ${win} GROUP BY data.k`;
        const inputs: QueryInput[] = events
          .map((e, i) => ({
            arrival: e.t + e.delay,
            input: {
              source: 'orders',
              seq: i + 1,
              event: { id: `e${i + 1}`, time: new Date(BASE + e.t).toISOString(), data: e },
            },
          }))
          .sort((a, b) => a.arrival - b.arrival || a.input.seq - b.input.seq)
          .map((x) => x.input);
        const crashAt = Math.floor(crash * inputs.length);
        const panes = runOffline(compile(`${sql} EMIT FINAL`), inputs, { crashAt });
        const perWindow = runOffline(compile(`${sql} EMIT CHANGES`), inputs);
        expect(panes.late).toEqual([]);
        expect(finals(panes.results)).toEqual(finals(perWindow.results));
        // EMIT FINAL emits each window once.
        expect(new Set(panes.results.map((r) => r.id)).size).toBe(panes.results.length);
      }),
      { numRuns: 150 },
    );
  });

  it('give a sum that overflowed back once what overflowed has left the window', () => {
    // Two panes of 1 s per window. Pane 0 overflows on its own; panes 2 and 3 only together.
    const sql =
      'SELECT data.k AS k, sum(data.v) AS s, avg(data.v) AS a, count(*) AS n, window_start FROM orders ' +
      'WINDOW HOPPING (SIZE 2 SECONDS, ADVANCE BY 1 SECOND) GROUP BY data.k';
    const events: [number, number][] = [
      [0, 1e308],
      [0.5, 1e308],
      [1, 2.5],
      [2, 1e308],
      [3, 1.7e308],
      [4, 7],
      [5, 0.25],
    ];
    const inputs: QueryInput[] = events.map(([s, v], i) => ({
      source: 'orders',
      seq: i + 1,
      event: { id: `e${i + 1}`, time: new Date(BASE + s * 1000).toISOString(), data: { k: 'a', v } },
    }));
    const panes = runOffline(compile(`${sql} EMIT FINAL`), inputs);
    expect(finals(panes.results)).toEqual(finals(runOffline(compile(`${sql} EMIT CHANGES`), inputs).results));
    expect(panes.results.map((r) => [r.data.window_start, r.data.s, r.data.n])).toEqual([
      ['2025-12-31T23:59:59.000Z', null, 2],
      ['2026-01-01T00:00:00.000Z', null, 3],
      ['2026-01-01T00:00:01.000Z', 1e308 + 2.5, 2],
      ['2026-01-01T00:00:02.000Z', null, 2],
      ['2026-01-01T00:00:03.000Z', 1.7e308 + 7, 2],
      ['2026-01-01T00:00:04.000Z', 7.25, 2],
      ['2026-01-01T00:00:05.000Z', 0.25, 1],
    ]);
  });

  it('counts a group per window and key against maxStateKeys, as the per-window layout does', () => {
    const input = (seq: number, s: number, k: string): QueryInput => ({
      source: 'orders',
      seq,
      event: { id: `e${seq}`, time: new Date(BASE + s * 1000).toISOString(), data: { k } },
    });
    const trace = (emit: string): unknown[] => {
      const q = compile(
        `SELECT data.k AS k, count(*) AS n FROM orders WINDOW HOPPING (SIZE 10 SECONDS, ADVANCE BY 5 SECONDS) GROUP BY data.k EMIT ${emit}`,
        { maxStateKeys: 3 },
      );
      const state = q.createState();
      const steps: [number, number, string][] = [
        [1, 1, 'a'],
        [2, 2, 'a'],
        [3, 6, 'a'],
        [4, 7, 'b'],
        [5, 7, 'c'],
        [6, 10, 'c'],
        [7, 12, 'b'],
        [8, 13, 'a'],
        [9, 30, 'b'],
      ];
      return steps.map(([seq, s, k]) => {
        const out = state.push([input(seq, s, k)]);
        return [out.late.map((l) => l.reason), state.stateKeys];
      });
    };
    const panes = trace('FINAL');
    expect(panes).toEqual(trace('CHANGES'));
    // a at 1 s and 2 s: windows [-5, 5) and [0, 10); at 6 s [-5, 5) has closed and [5, 15) opens;
    // b at 7 s would need two more groups.
    expect(panes.slice(0, 4)).toEqual([
      [[], 2],
      [[], 2],
      [[], 2],
      [['state-limit'], 2],
    ]);
  });
});
