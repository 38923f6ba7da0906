import { describe, expect, it } from 'vitest';
import { resultId, runOffline, sortOutput, type QueryInput } from '../../../runtime/queries/index.js';
import { at, compile, rows } from './helpers.js';

/** An `orders` input at `s` seconds with data {k, v}; seq is given explicitly. */
function kv(seq: number, s: number, k: string, v: number | null): QueryInput {
  return { source: 'orders', seq, event: { id: `e${seq}`, time: at(s), data: { k, v } } };
}

const sel = 'SELECT data.k AS k, count(*) AS n, sum(data.v) AS total, window_start, window_end FROM orders';

describe('TUMBLING windows', () => {
  it('groups events into epoch-aligned [start, end) windows per key', () => {
    const out = runOffline(compile(`${sel} WINDOW TUMBLING (SIZE 10 SECONDS) GROUP BY data.k`), [
      kv(1, 1, 'a', 1),
      kv(2, 3, 'b', 2),
      kv(3, 9.999, 'a', 32),
      kv(4, 10, 'a', 4),
      kv(5, 15, 'a', 8),
      kv(6, 25, 'b', 16),
    ]);
    expect(rows(out)).toEqual([
      { time: at(10), k: 'a', n: 2, total: 33, window_start: at(0), window_end: at(10) },
      { time: at(10), k: 'b', n: 1, total: 2, window_start: at(0), window_end: at(10) },
      { time: at(20), k: 'a', n: 2, total: 12, window_start: at(10), window_end: at(20) },
      { time: at(30), k: 'b', n: 1, total: 16, window_start: at(20), window_end: at(30) },
    ]);
    expect(out.late).toEqual([]);
    expect(out.results.map((r) => r.key)).toEqual(['["a"]', '["b"]', '["a"]', '["b"]']);
  });

  it('aligns windows before 1970 too', () => {
    const out = runOffline(
      compile('SELECT count(*) AS n, window_start FROM orders WINDOW TUMBLING (SIZE 10 SECONDS)'),
      [
        { source: 'orders', seq: 1, event: { id: 'a', time: '1969-12-31T23:59:55Z' } },
        { source: 'orders', seq: 2, event: { id: 'b', time: '1970-01-01T00:00:00Z' } },
      ],
    );
    expect(rows(out)).toEqual([
      { time: '1970-01-01T00:00:00.000Z', n: 1, window_start: '1969-12-31T23:59:50.000Z' },
      { time: '1970-01-01T00:00:10.000Z', n: 1, window_start: '1970-01-01T00:00:00.000Z' },
    ]);
  });

  it('filters groups with HAVING and closes windows as the watermark passes their end', () => {
    const q = compile(
      `${sel} WINDOW TUMBLING (SIZE 10 SECONDS, GRACE PERIOD 2 SECONDS) GROUP BY data.k HAVING count(*) > 1`,
    );
    const state = q.createState();
    expect(state.push([kv(1, 1, 'a', 1), kv(2, 2, 'a', 1), kv(3, 5, 'b', 1)]).results).toEqual([]);
    // Event time 11 puts the watermark at 9: nothing closes yet.
    expect(state.push([kv(4, 11, 'b', 1)]).results).toEqual([]);
    expect(state.watermark).toBe(Date.UTC(2026, 0, 1) + 9000);
    // Event time 12 puts the watermark at 10 = the end of [0, 10): it closes; b has one event only.
    expect(rows(state.push([kv(5, 12, 'b', 1)]))).toEqual([
      { time: at(10), k: 'a', n: 2, total: 2, window_start: at(0), window_end: at(10) },
    ]);
    expect(rows(state.end())).toEqual([
      { time: at(20), k: 'b', n: 2, total: 2, window_start: at(10), window_end: at(20) },
    ]);
  });

  it('gives the groups of a window only their own values, whatever groups closed before', () => {
    // The groups of window [0, 10) are reused for those of [20, 30) once [10, 20) has closed.
    const q = compile(
      'SELECT data.k AS k, count(*) AS n, sum(data.v) AS total, count(DISTINCT data.v) AS d, min(data.v) AS lo, ' +
        'max(data.v) AS hi, first(data.v) AS f, last(data.v) AS l, stddev(data.v) AS sd ' +
        'FROM orders WINDOW TUMBLING (SIZE 10 SECONDS) GROUP BY data.k',
    );
    const out = runOffline(q, [
      kv(1, 1, 'a', 1),
      kv(2, 2, 'a', 3),
      kv(3, 3, 'b', 7),
      kv(4, 11, 'c', 2),
      kv(5, 21, 'd', 5),
      kv(6, 22, 'e', null),
      kv(7, 23, 'a', 4),
    ]);
    const row = (k: string, v: number) => ({ k, n: 1, total: v, d: 1, lo: v, hi: v, f: v, l: v, sd: null });
    expect(out.results.map((r) => r.data)).toEqual([
      { k: 'a', n: 2, total: 4, d: 2, lo: 1, hi: 3, f: 1, l: 3, sd: Math.SQRT2 },
      row('b', 7),
      row('c', 2),
      row('a', 4),
      row('d', 5),
      { k: 'e', n: 1, total: null, d: 0, lo: null, hi: null, f: null, l: null, sd: null },
    ]);
    expect(out.results.map((r) => r.key)).toEqual(['["a"]', '["b"]', '["c"]', '["a"]', '["d"]', '["e"]']);
  });

  it('groups by several values, NULL being a value of its own', () => {
    const q = compile(
      'SELECT data.a AS a, data.b AS b, count(*) AS n FROM orders WINDOW TUMBLING (SIZE 1 MINUTE) GROUP BY data.a, data.b',
    );
    const mk = (seq: number, data: Record<string, unknown>): QueryInput => ({
      source: 'orders',
      seq,
      event: { id: `${seq}`, time: at(seq), data },
    });
    const out = runOffline(q, [
      mk(1, { a: 1, b: 'x' }),
      mk(2, { a: 1, b: 'x' }),
      mk(3, { a: 1 }),
      mk(4, { a: 1, b: null }),
      mk(5, { a: '1', b: 'x' }),
    ]);
    expect(out.results.map((r) => [r.key, r.data])).toEqual([
      ['["1","x"]', { a: '1', b: 'x', n: 1 }],
      ['[1,"x"]', { a: 1, b: 'x', n: 2 }],
      ['[1,null]', { a: 1, b: null, n: 2 }],
    ]);
  });

  it('groups by whole JSON values, whatever the order of their keys', () => {
    const q = compile(
      'SELECT data.o AS o, count(*) AS n FROM orders WINDOW TUMBLING (SIZE 1 MINUTE) GROUP BY data.o',
    );
    const mk = (seq: number, o: unknown): QueryInput => ({
      source: 'orders',
      seq,
      event: { id: `${seq}`, time: at(seq), data: { o } },
    });
    const out = runOffline(q, [
      mk(1, { x: 1, y: 2 }),
      mk(2, { y: 2, x: 1 }),
      mk(3, '{"x":1,"y":2}'),
      mk(4, [1]),
    ]);
    expect(out.results.map((r) => [r.key, r.data.n])).toEqual([
      ['["{\\"x\\":1,\\"y\\":2}"]', 1],
      ['[[1]]', 1],
      ['[{"x":1,"y":2}]', 2],
    ]);
  });
});

describe('HOPPING windows', () => {
  it('puts an event in every window whose start is in (t - SIZE, t]', () => {
    const q = compile(`${sel} WINDOW HOPPING (SIZE 10 SECONDS, ADVANCE BY 5 SECONDS) GROUP BY data.k`);
    expect(rows(runOffline(q, [kv(1, -1, 'a', 1), kv(2, 7, 'a', 2), kv(3, 12, 'a', 4)]))).toEqual([
      { time: at(0), k: 'a', n: 1, total: 1, window_start: at(-10), window_end: at(0) },
      { time: at(5), k: 'a', n: 1, total: 1, window_start: at(-5), window_end: at(5) },
      { time: at(10), k: 'a', n: 1, total: 2, window_start: at(0), window_end: at(10) },
      { time: at(15), k: 'a', n: 2, total: 6, window_start: at(5), window_end: at(15) },
      { time: at(20), k: 'a', n: 1, total: 4, window_start: at(10), window_end: at(20) },
    ]);
  });

  it('works when SIZE is not a multiple of ADVANCE BY', () => {
    const q = compile(
      'SELECT count(*) AS n, window_start FROM orders WINDOW HOPPING (SIZE 10 SECONDS, ADVANCE BY 4 SECONDS)',
    );
    // t = 9 lies in windows starting at 0, 4 and 8; t = 11 in 4 and 8.
    expect(rows(runOffline(q, [kv(1, 9, 'a', 0), kv(2, 11, 'a', 0)]))).toEqual([
      { time: at(10), n: 1, window_start: at(0) },
      { time: at(14), n: 2, window_start: at(4) },
      { time: at(18), n: 2, window_start: at(8) },
    ]);
  });
});

describe('SESSION windows', () => {
  const q = () => compile(`${sel} WINDOW SESSION (GAP 10 SECONDS, GRACE PERIOD 60 SECONDS) GROUP BY data.k`);

  it('forms sessions [first, last + GAP) per key and bridges two sessions with an event between them', () => {
    const out = runOffline(q(), [
      kv(1, 0, 'a', 1),
      kv(2, 5, 'a', 2),
      kv(3, 22, 'a', 4),
      kv(4, 40, 'b', 100),
      // 13 is within GAP of 5 (session [0, 15)) and of 22 (session [22, 32)): one session now.
      kv(5, 13, 'a', 8),
      kv(6, 100, 'b', 200),
    ]);
    expect(rows(out)).toEqual([
      { time: at(32), k: 'a', n: 4, total: 15, window_start: at(0), window_end: at(32) },
      { time: at(50), k: 'b', n: 1, total: 100, window_start: at(40), window_end: at(50) },
      { time: at(110), k: 'b', n: 1, total: 200, window_start: at(100), window_end: at(110) },
    ]);
  });

  it('extends a session backwards when an earlier event arrives', () => {
    const out = runOffline(q(), [kv(1, 20, 'a', 1), kv(2, 12, 'a', 2)]);
    expect(rows(out)).toEqual([
      { time: at(30), k: 'a', n: 2, total: 3, window_start: at(12), window_end: at(30) },
    ]);
  });

  it('puts events exactly GAP apart in one session, as Flink and Kafka Streams do', () => {
    const out = runOffline(q(), [kv(1, 0, 'a', 1), kv(2, 10, 'a', 2), kv(3, 21, 'a', 4)]);
    expect(rows(out).map((r) => [r.window_start, r.window_end])).toEqual([
      [at(0), at(20)],
      [at(21), at(31)],
    ]);
  });

  it('reports an event that would have joined a closed session as late', () => {
    const state = compile(`${sel} WINDOW SESSION (GAP 10 SECONDS) GROUP BY data.k`).createState();
    state.push([kv(1, 0, 'a', 1), kv(2, 5, 'a', 1)]);
    // Watermark 16 is past a's session [0, 15): it closes.
    expect(rows(state.push([kv(3, 16, 'b', 1)]))).toEqual([
      { time: at(15), k: 'a', n: 2, total: 2, window_start: at(0), window_end: at(15) },
    ]);
    // 15 + GAP > watermark, but 15 touches the closed session: late, counted nowhere.
    expect(state.push([kv(4, 15, 'a', 1)]).late).toEqual([
      { query: 'q', id: 'e4', seq: 4, source: 'orders', reason: 'late' },
    ]);
    // 16 starts a new session of a.
    expect(state.push([kv(5, 16, 'a', 1)]).late).toEqual([]);
    expect(sortOutput(state.end()).results.map((r) => ({ time: r.time, ...r.data }))).toEqual([
      { time: at(26), k: 'a', n: 1, total: 1, window_start: at(16), window_end: at(26) },
      { time: at(26), k: 'b', n: 1, total: 1, window_start: at(16), window_end: at(26) },
    ]);
  });
  it('forgets a key once its closed end stops mattering, and takes it back as a new key', () => {
    const state = compile(
      'SELECT data.o AS o, count(*) AS n FROM orders WINDOW SESSION (GAP 10 SECONDS) GROUP BY data.o',
    ).createState();
    const ev = (seq: number, s: number, o: Record<string, number>): QueryInput => ({
      source: 'orders',
      seq,
      event: { id: `e${seq}`, time: at(s), data: { o } },
    });
    const keys = () => (state.checkpoint().state as { keys: unknown[] }).keys;
    state.push([ev(1, 0, { x: 1, y: 2 }), ev(2, 11, { z: 1 })]);
    // {x,y}'s session [0, 10] closed at watermark 11; its end is remembered until watermark 20.
    expect(keys()).toEqual([
      { key: '[{"x":1,"y":2}]', values: [{ x: 1, y: 2 }], closedEnd: Date.parse(at(10)), sessions: [] },
      expect.objectContaining({ key: '[{"z":1}]' }),
    ]);
    // Watermark 25 closes {z}'s session [11, 21] and is past 20.
    state.push([ev(3, 25, { z: 1 })]);
    expect(keys()).toEqual([expect.objectContaining({ key: '[{"z":1}]' })]);
    // The same key, its members in another order: a new key, shown as this event holds it.
    state.push([ev(4, 26, { y: 2, x: 1 })]);
    expect(keys()[0]).toEqual({
      key: '[{"x":1,"y":2}]',
      values: [{ y: 2, x: 1 }],
      closedEnd: null,
      sessions: [{ start: Date.parse(at(26)), last: Date.parse(at(26)), accs: [1] }],
    });
    const last = state.end().results.find((r) => r.key === '[{"x":1,"y":2}]');
    expect(JSON.stringify(last?.data)).toBe('{"o":{"y":2,"x":1},"n":1}');
  });

  it('write window bounds in ids as JSON does, at any time', () => {
    // Before 1970, small, at and around multiples of 10^8 ms, and up to the largest Date.
    const times = [
      -8.64e15,
      -1,
      0,
      5,
      99_999_999,
      100_000_000,
      1_767_225_599_999,
      1_800_000_000_000,
      8.64e15 - 1,
    ];
    const q = compile('SELECT count(*) AS n FROM orders WINDOW SESSION (GAP 1 MILLISECOND) GROUP BY data.k');
    const inputs: QueryInput[] = times.map((t, i) => ({
      source: 'orders',
      seq: i + 1,
      streamTime: t,
      event: { id: `e${i}`, data: { k: `k${i}` } },
    }));
    const ids = runOffline(q, inputs).results.map((r) => r.id);
    const expected = times.map((t, i) => resultId(['team-a', 'shop', 'q', 'window', t, t + 1, `["k${i}"]`]));
    expect(ids.sort()).toEqual(expected.sort());
  });
});

describe('SLIDING windows', () => {
  it('emits a row per event over its key’s events in (t - SIZE, t], peers included', () => {
    const q = compile(
      'SELECT id, data.v AS v, count(*) AS n, sum(data.v) AS total, window_start, window_end FROM orders WINDOW SLIDING (SIZE 10 SECONDS) GROUP BY data.k',
    );
    const out = runOffline(q, [
      kv(1, 0, 'a', 1),
      kv(2, 5, 'a', 2),
      kv(6, 7, 'b', 32),
      kv(3, 10, 'a', 4),
      kv(4, 10, 'a', 8),
      kv(5, 20, 'a', 16),
    ]);
    expect(out.late).toEqual([]);
    expect(rows(out)).toEqual([
      { time: at(0), id: 'e1', v: 1, n: 1, total: 1, window_start: at(-10), window_end: at(0) },
      { time: at(5), id: 'e2', v: 2, n: 2, total: 3, window_start: at(-5), window_end: at(5) },
      { time: at(7), id: 'e6', v: 32, n: 1, total: 32, window_start: at(-3), window_end: at(7) },
      { time: at(10), id: 'e3', v: 4, n: 3, total: 14, window_start: at(0), window_end: at(10) },
      { time: at(10), id: 'e4', v: 8, n: 3, total: 14, window_start: at(0), window_end: at(10) },
      { time: at(20), id: 'e5', v: 16, n: 1, total: 16, window_start: at(10), window_end: at(20) },
    ]);
  });

  it('emits a row once the watermark is past its event, and reports older events as late', () => {
    const q = compile(
      'SELECT id, count(*) AS n FROM orders WINDOW SLIDING (SIZE 10 SECONDS, GRACE PERIOD 2 SECONDS) GROUP BY data.k',
    );
    const state = q.createState();
    expect(state.push([kv(1, 0, 'a', 1), kv(2, 2, 'a', 1)]).results).toEqual([]);
    expect(rows(state.push([kv(3, 3, 'a', 1)]))).toEqual([{ time: at(0), id: 'e1', n: 1 }]);
    // Watermark is 1: an event at 0.5 is late, one at 1 is not.
    expect(state.push([kv(4, 0.5, 'a', 1)]).late.map((l) => l.id)).toEqual(['e4']);
    expect(state.push([kv(5, 1, 'a', 1)]).late).toEqual([]);
    expect(rows(state.end())).toEqual([
      { time: at(1), id: 'e5', n: 2 },
      { time: at(2), id: 'e2', n: 3 },
      { time: at(3), id: 'e3', n: 4 },
    ]);
  });
});

describe('COUNT windows', () => {
  const countSel =
    'SELECT data.k AS k, count(*) AS n, sum(data.v) AS total, first(data.v) AS f, last(data.v) AS l, window_start, window_end FROM orders';

  it('emits each SIZE events of a key, never a partly filled window', () => {
    const inputs = [1, 2, 3, 4, 5, 6, 7].map((s) => kv(s, s, 'a', s));
    const out = runOffline(compile(`${countSel} WINDOW COUNT (SIZE 3) GROUP BY data.k`), [
      ...inputs,
      kv(8, 8, 'b', 1),
    ]);
    expect(rows(out)).toEqual([
      { time: at(3), k: 'a', n: 3, total: 6, f: 1, l: 3, window_start: at(1), window_end: at(3) },
      { time: at(6), k: 'a', n: 3, total: 15, f: 4, l: 6, window_start: at(4), window_end: at(6) },
    ]);
  });

  it('slides by ADVANCE BY events', () => {
    const inputs = [1, 2, 3, 4, 5].map((s) => kv(s, s, 'a', s));
    const by1 = runOffline(
      compile(`SELECT sum(data.v) AS total FROM orders WINDOW COUNT (SIZE 3, ADVANCE BY 1)`),
      inputs,
    );
    expect(rows(by1)).toEqual([
      { time: at(3), total: 6 },
      { time: at(4), total: 9 },
      { time: at(5), total: 12 },
    ]);
    const by2 = runOffline(
      compile(`SELECT sum(data.v) AS total FROM orders WINDOW COUNT (SIZE 3, ADVANCE BY 2)`),
      inputs,
    );
    expect(rows(by2)).toEqual([
      { time: at(3), total: 6 },
      { time: at(5), total: 12 },
    ]);
  });

  it('numbers events by event time, then source sequence, not by arrival', () => {
    const q = compile(
      `SELECT first(data.v) AS f, last(data.v) AS l FROM orders WINDOW COUNT (SIZE 2, GRACE PERIOD 5 SECONDS)`,
    );
    const out = runOffline(q, [kv(10, 2, 'a', 20), kv(11, 1, 'a', 10), kv(3, 2, 'a', 21), kv(4, 3, 'a', 30)]);
    // By (time, seq): v10 (t1), v21 (t2, seq 3), v20 (t2, seq 10), v30 (t3).
    expect(rows(out)).toEqual([
      { time: at(2), f: 10, l: 21 },
      { time: at(3), f: 20, l: 30 },
    ]);
  });

  it('gives each window of a key an ordinal that makes its id', () => {
    const q = compile(`SELECT count(*) AS n FROM orders WINDOW COUNT (SIZE 1) GROUP BY data.k`);
    const ids = runOffline(q, [kv(1, 1, 'a', 0), kv(2, 2, 'a', 0), kv(3, 3, 'b', 0)]).results.map(
      (r) => r.id,
    );
    expect(new Set(ids).size).toBe(3);
    const again = runOffline(q, [kv(7, 1, 'a', 0), kv(8, 2, 'a', 0), kv(9, 3, 'b', 0)]).results.map(
      (r) => r.id,
    );
    expect(again).toEqual(ids);
  });
});
