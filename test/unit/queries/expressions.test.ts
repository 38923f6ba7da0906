import { describe, expect, it } from 'vitest';
import { runOffline } from '../../../runtime/queries/index.js';
import { at, compile, evalExpr, evalRow } from './helpers.js';

describe('scalar expressions', () => {
  it('does arithmetic with SQL precedence, and NULL for anything that is not a number', () => {
    expect(
      evalRow('1 + 2 * 3 AS a, (1 + 2) * 3 AS b, 7 / 2 AS c, 7 % 3 AS d, -data.x AS e, 2 - -1 AS f', {
        x: 4,
      }),
    ).toEqual({
      a: 7,
      b: 9,
      c: 3.5,
      d: 1,
      e: -4,
      f: 3,
    });
    expect(
      evalRow("1 / 0 AS a, 5 % 0 AS b, 'a' + 1 AS c, NULL + 1 AS d, data.missing * 2 AS e, -data.s AS f", {
        s: 'x',
      }),
    ).toEqual({
      a: null,
      b: null,
      c: null,
      d: null,
      e: null,
      f: null,
    });
    expect(evalExpr('data.big * data.big', { big: 1e200 })).toBeNull();
    expect(evalRow('1e3 AS a, .5 AS b, 2.50 AS c', {})).toEqual({ a: 1000, b: 0.5, c: 2.5 });
  });

  it('compares values of one type; other comparisons are NULL or false', () => {
    expect(
      evalRow(
        "data.a = 1 AS a, 'a' < 'b' AS b, 1 = '1' AS c, 1 < 'a' AS d, NULL = NULL AS e, data.missing = 1 AS f, 2 <> 3 AS g, 2 != 2 AS h, TRUE > FALSE AS i, 3 >= 3 AS j, 'B' <= 'a' AS k",
        { a: 1 },
      ),
    ).toEqual({
      a: true,
      b: true,
      c: false,
      d: null,
      e: null,
      f: null,
      g: true,
      h: false,
      i: true,
      j: true,
      k: true,
    });
    expect(
      evalRow('data.o = data.p AS same, data.o = data.q AS differ, data.o < data.p AS ordered', {
        o: { x: 1, y: [1, 2] },
        p: { y: [1, 2], x: 1 },
        q: { x: 2 },
      }),
    ).toEqual({ same: true, differ: false, ordered: null });
  });

  it('uses three-valued logic for AND, OR and NOT', () => {
    expect(
      evalRow(
        'TRUE AND NULL AS a, FALSE AND NULL AS b, TRUE OR NULL AS c, FALSE OR NULL AS d, NOT NULL AS e, NOT FALSE AS f, NULL AND FALSE AS g, NULL OR TRUE AS h, 1 AND TRUE AS i',
        {},
      ),
    ).toEqual({ a: null, b: false, c: true, d: null, e: null, f: true, g: false, h: true, i: null });
    expect(evalExpr('NOT 1 = 2 AND 2 = 2 OR FALSE')).toBe(true);
  });

  it('tests for NULL: missing fields and JSON null are NULL, zero and empty text are not', () => {
    expect(
      evalRow(
        'data.missing IS NULL AS a, data.n IS NULL AS b, data.z IS NULL AS c, data.e IS NOT NULL AS d, data.n IS NOT NULL AS e',
        { n: null, z: 0, e: '' },
      ),
    ).toEqual({ a: true, b: true, c: false, d: true, e: false });
  });

  it('evaluates IN and NOT IN with SQL NULL rules', () => {
    expect(
      evalRow(
        "2 IN (1, 2) AS a, 3 IN (1, 2) AS b, 3 IN (1, NULL) AS c, NULL IN (1) AS d, 3 NOT IN (1, 2) AS e, 1 NOT IN (1, NULL) AS f, 3 NOT IN (1, NULL) AS g, data.t IN ('x', 'y') AS h",
        { t: 'y' },
      ),
    ).toEqual({ a: true, b: false, c: null, d: null, e: true, f: false, g: null, h: true });
  });

  it('matches LIKE patterns with % and _, a backslash escape, by code point', () => {
    expect(
      evalRow(
        "'abc' LIKE 'a%' AS a, 'abc' LIKE '_b_' AS b, 'abc' LIKE 'a_' AS c, 'abc' NOT LIKE '%c' AS d, '50%' LIKE '50\\%' AS e, '500' LIKE '50\\%' AS f, data.s LIKE '_x' AS g, 5 LIKE '5' AS h, 'abc' LIKE '%b%' AS i, 'abc' LIKE 'abc' AS j, '' LIKE '%' AS k, 'aXbXc' LIKE 'a%b%c' AS l",
        { s: '😀x' },
      ),
    ).toEqual({
      a: true,
      b: true,
      c: false,
      d: false,
      e: true,
      f: false,
      g: true,
      h: null,
      i: true,
      j: true,
      k: true,
      l: true,
    });
    expect(
      evalRow('data.s LIKE data.p AS m, data.s LIKE data.missing AS n', { s: 'order-17', p: 'order-%' }),
    ).toEqual({ m: true, n: null });
    // A pattern that would backtrack badly in a naive matcher stays fast.
    expect(evalExpr(`data.s LIKE '${'%a'.repeat(30)}b'`, { s: 'a'.repeat(5000) })).toBe(false);
  });

  it('evaluates searched and simple CASE, NULL without a matching branch', () => {
    const sql = "CASE WHEN data.n > 10 THEN 'big' WHEN data.n > 5 THEN 'mid' ELSE 'small' END";
    expect(evalExpr(sql, { n: 11 })).toBe('big');
    expect(evalExpr(sql, { n: 6 })).toBe('mid');
    expect(evalExpr(sql, { n: 1 })).toBe('small');
    expect(evalExpr(sql, {})).toBe('small');
    expect(evalExpr("CASE data.c WHEN 'DE' THEN 1 WHEN 'FR' THEN 2 END", { c: 'FR' })).toBe(2);
    expect(evalExpr("CASE data.c WHEN 'DE' THEN 1 END", { c: 'IT' })).toBeNull();
    expect(evalExpr('CASE WHEN NULL THEN 1 ELSE 2 END')).toBe(2);
  });

  it('has COALESCE, LOWER, UPPER, CONCAT and ||', () => {
    expect(
      evalRow(
        "coalesce(data.missing, data.b, 'x') AS a, coalesce(data.missing) AS b, lower('AbC') AS c, upper(data.s) AS d, upper(5) AS e, concat('a', NULL, 1, TRUE, data.o) AS f, 'a' || NULL AS g, 'n=' || 1.5 AS h, data.s || data.s AS i",
        { b: 0, s: 'ß', o: { k: [1] } },
      ),
    ).toEqual({
      a: 0,
      b: null,
      c: 'abc',
      d: 'SS',
      e: null,
      f: 'a1true{"k":[1]}',
      g: null,
      h: 'n=1.5',
      i: 'ßß',
    });
  });

  it('has ABS, ROUND (halves away from zero, as written in decimal), FLOOR and CEIL', () => {
    expect(
      evalRow(
        'abs(-2) AS a, round(2.5) AS b, round(-2.5) AS c, round(1.005, 2) AS d, round(1234.5, -2) AS e, round(2.345, 1.5) AS f, floor(-1.5) AS g, ceil(1.2) AS h, ceil(-0.5) AS i, round(0.1 + 0.2, 10) AS j, abs(NULL) AS k, round(data.s) AS l, round(-0.4) AS m',
        { s: '1.5' },
      ),
    ).toEqual({
      a: 2,
      b: 3,
      c: -3,
      d: 1.01,
      e: 1200,
      f: null,
      g: -2,
      h: 2,
      i: 0,
      j: 0.3,
      k: null,
      l: null,
      m: 0,
    });
    expect(Object.is(evalExpr('ceil(-0.5)'), 0)).toBe(true);
    expect(evalExpr('round(1152921504606846976, 2)')).toBe(2 ** 60);
  });

  it('reads attributes, extensions, data paths, quoted names and array elements', () => {
    const data = { 'a-b': 1, items: [{ sku: 'x' }, 2], end: 'e', nested: { deep: { v: 7 } } };
    expect(
      evalRow(
        `id, type, source, time, traceid, data['a-b'] AS ab, data.items[0].sku AS sku, data.items[5] AS none, data.items['0'] AS strkey, data."end" AS theend, data.nested.deep.v AS v, data.items[1].x AS deeper`,
        data,
        { traceid: 't-1' },
      ),
    ).toEqual({
      id: 'x',
      type: 'order',
      source: '/shop',
      time: at(0),
      traceid: 't-1',
      ab: 1,
      sku: 'x',
      none: null,
      strkey: null,
      theend: 'e',
      v: 7,
      deeper: null,
    });
    expect(evalRow('data AS d', [1, 2])).toEqual({ d: [1, 2] });
  });

  it("reads string literals with '' as an escaped quote", () => {
    expect(evalExpr("'it''s'")).toBe("it's");
    expect(evalExpr("'line\none'")).toBe('line\none');
  });

  it('keeps events only when WHERE is true (not NULL, not a non-boolean)', () => {
    const q = compile("SELECT id FROM orders WHERE data.ok AND data.kind <> 'test'");
    const input = (id: string, data: Record<string, unknown>) => ({
      source: 'orders',
      seq: Number(id),
      event: { id, time: at(0), data },
    });
    const out = runOffline(q, [
      input('1', { ok: true, kind: 'real' }),
      input('2', { ok: true }),
      input('3', { ok: 'yes', kind: 'real' }),
      input('4', { ok: true, kind: 'test' }),
      input('5', { ok: true, kind: 'real' }),
    ]);
    expect(out.results.map((r) => r.data.id)).toEqual(['1', '5']);
    expect(out.results.map((r) => q.keyOf({ source: 'orders', seq: 1, event: { id: r.data.id } }))).toEqual([
      undefined,
      undefined,
    ]);
  });

  it('emits a row per event with the event time and no key', () => {
    const q = compile('SELECT id, data.n * 2 AS twice FROM orders');
    const out = runOffline(q, [
      {
        source: 'orders',
        seq: 1,
        event: { id: 'a', time: '2026-01-01T01:02:03.456789+01:00', data: { n: 1 } },
      },
      { source: 'orders', seq: 2, event: { id: 'b', data: { n: 2 } }, streamTime: Date.UTC(2026, 0, 2) },
    ]);
    expect(out.results.map((r) => ({ time: r.time, key: r.key, data: r.data }))).toEqual([
      { time: '2026-01-01T00:02:03.456Z', key: '', data: { id: 'a', twice: 2 } },
      { time: '2026-01-02T00:00:00.000Z', key: '', data: { id: 'b', twice: 4 } },
    ]);
    expect(q.kind).toBe('stateless');
    expect(q.windowKind).toBeUndefined();
  });
});
