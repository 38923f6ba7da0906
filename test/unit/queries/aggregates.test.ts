import { describe, expect, it } from 'vitest';
import { runOffline, type QueryInput } from '../../../runtime/queries/index.js';
import { at, compile } from './helpers.js';

/** One tumbling window over events with the given `data.v` values (and times / seqs). */
function aggregate(
  select: string,
  values: unknown[],
  opts: { times?: number[]; seqs?: number[] } = {},
): Record<string, unknown> {
  const inputs: QueryInput[] = values.map((v, i) => ({
    source: 'orders',
    seq: opts.seqs?.[i] ?? i + 1,
    event: { id: `e${i}`, time: at(opts.times?.[i] ?? i), data: v === undefined ? {} : { v } },
  }));
  const out = runOffline(
    compile(`SELECT ${select} FROM orders WINDOW TUMBLING (SIZE 1 HOUR, GRACE PERIOD 1 HOUR)`),
    inputs,
  );
  expect(out.results).toHaveLength(1);
  return out.results[0]!.data;
}

const ALL =
  'count(*) AS c_all, count(data.v) AS c, count(DISTINCT data.v) AS cd, sum(data.v) AS s, avg(data.v) AS a, min(data.v) AS mn, max(data.v) AS mx, stddev(data.v) AS sd, first(data.v) AS f, last(data.v) AS l';

describe('aggregates', () => {
  it('computes every aggregate, skipping NULLs', () => {
    expect(aggregate(ALL, [2, 4, null, 4, undefined, 4, 5, 5, 7, 9])).toEqual({
      c_all: 10,
      c: 8,
      cd: 5,
      s: 40,
      a: 5,
      mn: 2,
      mx: 9,
      sd: Math.sqrt(32 / 7),
      f: 2,
      l: 9,
    });
  });

  it('gives NULL for sum, avg, min, max, stddev, first and last of no values, and 0 for counts', () => {
    expect(aggregate(ALL, [null, undefined])).toEqual({
      c_all: 2,
      c: 0,
      cd: 0,
      s: null,
      a: null,
      mn: null,
      mx: null,
      sd: null,
      f: null,
      l: null,
    });
  });

  it('gives NULL for stddev of one value and 0 for equal values', () => {
    expect(aggregate('stddev(data.v) AS sd', [3])).toEqual({ sd: null });
    expect(aggregate('stddev(data.v) AS sd', [3, 3, 3])).toEqual({ sd: 0 });
  });

  it('keeps stddev exact where the textbook formula cancels', () => {
    expect(aggregate('stddev(data.v) AS sd', [1e9 + 1, 1e9 + 2, 1e9 + 3])).toEqual({ sd: 1 });
    expect(aggregate('stddev(data.v) AS sd', [1e15 + 0.5, 1e15 - 0.5])).toEqual({ sd: Math.SQRT1_2 });
  });

  it('sums exactly, so the order of values does not change the result', () => {
    expect(aggregate('sum(data.v) AS s', [1e16, 1, -1e16])).toEqual({ s: 1 });
    expect(aggregate('sum(data.v) AS s', [1, 1e16, -1e16])).toEqual({ s: 1 });
    expect(aggregate('sum(data.v) AS s, avg(data.v) AS a', Array(10).fill(0.1))).toEqual({ s: 1, a: 0.1 });
    expect(aggregate('sum(data.v) AS s', [0.1, 0.2])).toEqual({ s: 0.30000000000000004 });
    expect(aggregate('sum(data.v) AS s', [1e308, 1e308])).toEqual({ s: null });
    expect(aggregate('sum(data.v) AS s', [-0, 0])).toEqual({ s: 0 });
  });

  it('takes numbers only in sum, avg and stddev', () => {
    expect(
      aggregate('sum(data.v) AS s, avg(data.v) AS a, count(data.v) AS c', [1, '2', true, [3], 5]),
    ).toEqual({ s: 6, a: 3, c: 5 });
  });

  it('orders min and max as booleans < numbers < strings, skipping arrays and objects', () => {
    expect(aggregate('min(data.v) AS mn, max(data.v) AS mx', ['b', 'a', 'c'])).toEqual({ mn: 'a', mx: 'c' });
    expect(aggregate('min(data.v) AS mn, max(data.v) AS mx', [3, 'a', true, [1], { x: 1 }])).toEqual({
      mn: true,
      mx: 'a',
    });
  });

  it('counts distinct JSON values: equal objects once, 1 and "1" apart', () => {
    expect(
      aggregate('count(DISTINCT data.v) AS cd', [{ x: 1, y: 2 }, { y: 2, x: 1 }, 1, '1', 1, null]),
    ).toEqual({ cd: 3 });
  });

  it('picks first and last by event time, ties by source sequence, whatever the arrival order', () => {
    const values = ['late-in-time', 'tie-seq-9', 'tie-seq-2', 'early'];
    const times = [50, 10, 10, 5];
    expect(aggregate('first(data.v) AS f, last(data.v) AS l', values, { times, seqs: [1, 9, 2, 3] })).toEqual(
      {
        f: 'early',
        l: 'late-in-time',
      },
    );
    expect(
      aggregate('first(data.v) AS f, last(data.v) AS l', ['x-seq-9', 'x-seq-2'], {
        times: [10, 10],
        seqs: [9, 2],
      }),
    ).toEqual({
      f: 'x-seq-2',
      l: 'x-seq-9',
    });
    expect(
      aggregate('first(data.v) AS f, last(data.v) AS l', [null, 'a', null], { times: [1, 2, 3] }),
    ).toEqual({ f: 'a', l: 'a' });
  });

  it('aggregates expressions, and filters with aggregates that SELECT does not show', () => {
    const inputs: QueryInput[] = [1, 2, 3].map((v, i) => ({
      source: 'orders',
      seq: i + 1,
      event: { id: `${i}`, time: at(i), data: { v, k: v % 2 } },
    }));
    const q = compile(
      'SELECT data.k AS k, sum(data.v * 10) AS s, round(avg(data.v), 1) AS a FROM orders WINDOW TUMBLING (SIZE 1 MINUTE) GROUP BY data.k HAVING count(*) >= 2 AND max(data.v) > 2',
    );
    expect(runOffline(q, inputs).results.map((r) => r.data)).toEqual([{ k: 1, s: 40, a: 2 }]);
  });
});
