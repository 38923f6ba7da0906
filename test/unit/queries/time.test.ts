import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { formatTime } from '../../../runtime/queries/event-time.js';
import { runOffline, sortOutput, type QueryInput } from '../../../runtime/queries/index.js';
import { BASE, at, compile, rows } from './helpers.js';

function kv(seq: number, s: number, k: string, v = 1): QueryInput {
  return { source: 'orders', seq, event: { id: `e${seq}`, time: at(s), data: { k, v } } };
}

const TUMBLE =
  'SELECT data.k AS k, count(*) AS n FROM orders WINDOW TUMBLING (SIZE 10 SECONDS, GRACE PERIOD 2 SECONDS) GROUP BY data.k';

describe('watermarks, grace and late events', () => {
  it('counts events up to the grace period late, and reports later ones without counting them', () => {
    const state = compile(TUMBLE).createState();
    state.push([kv(1, 1, 'a'), kv(2, 11, 'a')]);
    // Watermark 9: the event at 8 is within the grace period of [0, 10).
    expect(state.push([kv(3, 8, 'a')]).late).toEqual([]);
    expect(rows(state.push([kv(4, 12, 'b')]))).toEqual([{ time: at(10), k: 'a', n: 2 }]);
    // [0, 10) has closed: an event at 9.5 is late, reported with its identity.
    expect(state.push([kv(5, 9.5, 'a')])).toEqual({
      results: [],
      late: [{ query: 'q', id: 'e5', seq: 5, source: 'orders', reason: 'late' }],
    });
    expect(sortOutput(state.end()).results.map((r) => r.data)).toEqual([
      { k: 'a', n: 1 },
      { k: 'b', n: 1 },
    ]);
  });

  it('reports an event late in a hopping query when its earliest window has closed, and counts it nowhere', () => {
    const q = compile(
      'SELECT count(*) AS n, window_start FROM orders WINDOW HOPPING (SIZE 10 SECONDS, ADVANCE BY 5 SECONDS)',
    );
    const out = runOffline(q, [kv(1, 1, 'a'), kv(2, 10, 'a'), kv(3, 6, 'a')]);
    expect(out.late.map((l) => l.id)).toEqual(['e3']);
    expect(rows(out)).toEqual([
      { time: at(5), n: 1, window_start: at(-5) },
      { time: at(10), n: 1, window_start: at(0) },
      { time: at(15), n: 1, window_start: at(5) },
      { time: at(20), n: 1, window_start: at(10) },
    ]);
  });

  it('uses the stream time for events without a usable time, and reports events with neither', () => {
    const q = compile('SELECT count(*) AS n FROM orders WINDOW TUMBLING (SIZE 10 SECONDS)');
    const out = runOffline(q, [
      { source: 'orders', seq: 3, event: { id: 'c', time: '2026-01-01T00:00:03+05:30' } },
      { source: 'orders', seq: 1, event: { id: 'a' }, streamTime: BASE + 1000 },
      { source: 'orders', seq: 2, event: { id: 'b', time: 'yesterday' }, streamTime: BASE + 2000 },
      { source: 'orders', seq: 4, event: { id: 'd', time: '2026-02-30T00:00:00Z' } },
      { source: 'orders', seq: 5, event: { id: 'e', time: 17 } },
    ]);
    expect(rows(out)).toEqual([
      { time: '2025-12-31T18:30:10.000Z', n: 1 },
      { time: at(10), n: 2 },
    ]);
    expect(out.late.map((l) => [l.id, l.reason])).toEqual([
      ['d', 'invalid-time'],
      ['e', 'invalid-time'],
    ]);
  });

  it('closes every window at the end of input and treats anything after it as late', () => {
    const state = compile(TUMBLE).createState();
    state.push([kv(1, 1, 'a'), kv(2, 100, 'b')]);
    expect(state.end().results.map((r) => r.data.k)).toEqual(['b']);
    expect(state.watermark).toBe(Infinity);
    expect(state.push([kv(3, 1000, 'c')]).late.map((l) => l.reason)).toEqual(['late']);
    expect(state.tick(BASE + 1e9)).toEqual({ results: [], late: [] });
  });
});

describe('idle partitions', () => {
  const q = compile(TUMBLE, { idleTimeout: '10s' });
  const NOW = BASE + 20_000;

  it('advance the watermark with the wall clock after idleTimeout without input', () => {
    const state = q.createState();
    state.push([kv(1, 5, 'a')]);
    expect(state.tick(NOW).results).toEqual([]);
    expect(state.tick(NOW + 9_999).results).toEqual([]);
    // Idle for 10s: watermark = now − idleTimeout − grace = BASE + 18s, past the end of [0, 10).
    expect(rows(state.tick(NOW + 10_000))).toEqual([{ time: at(10), k: 'a', n: 1 }]);
    expect(state.watermark).toBe(BASE + 18_000);
    expect(state.checkpoint().watermarkFloor).toBe(BASE + 18_000);
    // An event of the closed window is now late; one of the open window [10, 20) is not.
    expect(state.push([kv(2, 9, 'a'), kv(3, 17, 'a')]).late.map((l) => l.id)).toEqual(['e2']);
  });

  it('never advance past an event still in flight', () => {
    const state = q.createState();
    state.push([kv(1, 5, 'a')]);
    state.tick(NOW);
    expect(state.tick(NOW + 10_000, BASE + 8_000).results).toEqual([]);
    expect(state.watermark).toBe(BASE + 7_999);
    expect(state.push([kv(2, 8, 'a')]).late).toEqual([]);
  });

  it('restart the idle clock when input arrives', () => {
    const state = q.createState();
    state.push([kv(1, 5, 'a')]);
    state.tick(NOW);
    state.push([kv(2, 6, 'a')]);
    expect(state.tick(NOW + 10_000).results).toEqual([]);
    expect(state.tick(NOW + 19_999).results).toEqual([]);
    expect(rows(state.tick(NOW + 20_000))).toEqual([{ time: at(10), k: 'a', n: 2 }]);
  });

  it('never move the watermark backwards', () => {
    const state = q.createState();
    state.push([kv(1, 500, 'a')]);
    state.tick(NOW);
    state.tick(NOW + 10_000);
    expect(state.watermark).toBe(BASE + 498_000);
  });
});

describe('EMIT CHANGES', () => {
  const sql =
    'SELECT data.k AS k, count(*) AS n, sum(data.v) AS s FROM orders WINDOW TUMBLING (SIZE 10 SECONDS) GROUP BY data.k HAVING count(*) > 1 EMIT CHANGES';

  it('re-emits the same id with new values after each push that changed a window', () => {
    const state = compile(sql).createState();
    expect(state.push([kv(1, 1, 'a', 1)]).results).toEqual([]);
    const first = state.push([kv(2, 2, 'a', 2), kv(3, 3, 'b', 5)]).results;
    expect(first.map((r) => r.data)).toEqual([{ k: 'a', n: 2, s: 3 }]);
    const second = state.push([kv(4, 4, 'a', 4), kv(5, 5, 'a', 8)]).results;
    expect(second.map((r) => r.data)).toEqual([{ k: 'a', n: 4, s: 15 }]);
    expect(second[0]!.id).toBe(first[0]!.id);
    expect(second[0]!.time).toBe(at(10));
    // Closing the window sends nothing new: its last change is already out.
    expect(state.push([kv(6, 10, 'c', 0)]).results).toEqual([]);
    expect(state.end().results).toEqual([]);
  });

  it('ends with the same values as EMIT FINAL', () => {
    const inputs = [
      kv(1, 1, 'a', 1),
      kv(2, 12, 'a', 2),
      kv(3, 3, 'a', 4),
      kv(4, 5, 'b', 1),
      kv(5, 6, 'b', 1),
      kv(6, 15, 'a', 1),
    ];
    const lastById = new Map<string, unknown>();
    const graced = sql.replace('SIZE 10 SECONDS', 'SIZE 10 SECONDS, GRACE PERIOD 10 SECONDS');
    const state = compile(graced).createState();
    for (const input of inputs) for (const r of state.push([input]).results) lastById.set(r.id, r.data);
    for (const r of state.end().results) lastById.set(r.id, r.data);
    const final = runOffline(compile(graced.replace('EMIT CHANGES', 'EMIT FINAL')), inputs);
    expect(Object.fromEntries(lastById)).toEqual(
      Object.fromEntries(final.results.map((r) => [r.id, r.data])),
    );
    expect(final.late).toEqual([]);
    expect(lastById.size).toBe(3);
  });
});

describe('maxStateKeys', () => {
  it('refuses events that need a new state entry past the limit, reports them, and recovers when state shrinks', () => {
    const q = compile(
      'SELECT data.k AS k, count(*) AS n FROM orders WINDOW TUMBLING (SIZE 10 SECONDS) GROUP BY data.k',
      { maxStateKeys: 2 },
    );
    const state = q.createState();
    const out = state.push([kv(1, 1, 'a'), kv(2, 2, 'b'), kv(3, 3, 'c'), kv(4, 4, 'a')]);
    expect(out.late).toEqual([{ query: 'q', id: 'e3', seq: 3, source: 'orders', reason: 'state-limit' }]);
    expect(state.stateKeys).toBe(2);
    expect(state.overLimit).toBe(true);
    expect(state.rejected).toBe(1);
    // The window closes; its entries are gone and new keys fit again.
    const next = state.push([kv(5, 10, 'c')]);
    expect(sortOutput(next).results.map((r) => r.data)).toEqual([
      { k: 'a', n: 2 },
      { k: 'b', n: 1 },
    ]);
    expect(next.late).toEqual([]);
    expect(state.stateKeys).toBe(1);
    expect(state.overLimit).toBe(false);
    expect(state.checkpoint().rejected).toBe(1);
  });

  it('applies to every window kind', () => {
    const kinds: [string, number][] = [
      ['SESSION (GAP 10 SECONDS)', 1],
      ['SLIDING (SIZE 10 SECONDS)', 1],
      ['COUNT (SIZE 2)', 1],
      // An event belongs to two hopping windows, so it needs two entries.
      ['HOPPING (SIZE 10 SECONDS, ADVANCE BY 5 SECONDS)', 2],
    ];
    for (const [w, maxStateKeys] of kinds) {
      const q = compile(`SELECT count(*) AS n FROM orders WINDOW ${w} GROUP BY data.k`, { maxStateKeys });
      const state = q.createState();
      const out = state.push([kv(1, 1, 'a'), kv(2, 1, 'b')]);
      expect(
        out.late.map((l) => l.reason),
        w,
      ).toEqual(['state-limit']);
    }
  });
});

describe('formatTime', () => {
  it('writes exactly what Date#toISOString writes', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.integer({ min: -62_000_000_000_000, max: 253_402_300_799_999 }),
          fc.double({ min: -1e15, max: 1e15, noNaN: true }),
          fc.constantFrom(0, 86_399_999, 86_400_000, 951_782_400_000, 253_402_300_799_999),
        ),
        (ms) => {
          expect(formatTime(ms)).toBe(new Date(ms).toISOString());
          expect(formatTime(ms + 1)).toBe(new Date(ms + 1).toISOString());
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('writes each of a run of nearby times right, whatever the one before it was', () => {
    // Consecutive times mostly share their second (and day), which formatTime reuses.
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 253_402_300_000_000 }),
        fc.array(fc.integer({ min: -90_000_000, max: 90_000_000 }), { minLength: 1, maxLength: 50 }),
        (base, offsets) => {
          for (const d of offsets) {
            const ms = base + (d % 3 === 0 ? d % 1000 : d);
            expect(formatTime(ms)).toBe(new Date(ms).toISOString());
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('writes what Date#toISOString writes for runs of nearby times, between far ones', () => {
    // Times a few seconds to minutes apart reuse formatted minutes; far ones take their place.
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 253_402_300_000_000 }),
        fc.array(fc.integer({ min: -400_000, max: 400_000 }), { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 0, max: 253_402_300_799_999 }),
        (base, steps, far) => {
          for (const step of steps) {
            const ms = Math.max(0, base + step);
            expect(formatTime(ms)).toBe(new Date(ms).toISOString());
            expect(formatTime(far)).toBe(new Date(far).toISOString());
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
