import { describe, expect, it } from 'vitest';
import { runOffline, type QueryInput } from '../../../runtime/queries/index.js';
import { at, compile, evalRow } from './helpers.js';

describe('prototype safety', () => {
  it('reads __proto__, constructor and prototype members as NULL unless the event has them', () => {
    expect(
      evalRow(
        "data.__proto__ AS a, data.constructor AS b, data['toString'] AS c, data.items.length AS d, data.s.length AS e, data['hasOwnProperty'] AS f, constructor AS g, data.items['map'] AS h, data.nested.constructor.name AS i",
        { items: [1, 2], s: 'abc', nested: {} },
      ),
    ).toEqual({ a: null, b: null, c: null, d: null, e: null, f: null, g: null, h: null, i: null });
  });

  it('reads own fields of those names as data', () => {
    const data = JSON.parse('{"__proto__": {"x": 1}, "constructor": "c"}') as Record<string, unknown>;
    expect(evalRow('data.__proto__.x AS a, data.constructor AS b', data)).toEqual({ a: 1, b: 'c' });
  });

  it('writes columns named like prototype members as own data, never touching a prototype', () => {
    const row = evalRow('data.a AS "__proto__", data.b AS "constructor", data.c AS "toString"', {
      a: { polluted: true },
      b: 2,
      c: 3,
    });
    expect(Object.getPrototypeOf(row)).toBe(Object.prototype);
    expect(Object.keys(row)).toEqual(['__proto__', 'constructor', 'toString']);
    expect(Object.getOwnPropertyDescriptor(row, '__proto__')?.value).toEqual({ polluted: true });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(JSON.parse(JSON.stringify(row))).toEqual(
      JSON.parse('{"__proto__":{"polluted":true},"constructor":2,"toString":3}'),
    );
  });

  it('groups by values named like prototype members without confusing keys', () => {
    const q = compile(
      'SELECT data.k AS k, count(*) AS n FROM orders WINDOW TUMBLING (SIZE 1 MINUTE) GROUP BY data.k',
    );
    const input = (seq: number, k: unknown): QueryInput => ({
      source: 'orders',
      seq,
      event: { id: `${seq}`, time: at(seq), data: { k } },
    });
    const out = runOffline(q, [
      input(1, '__proto__'),
      input(2, 'constructor'),
      input(3, '__proto__'),
      input(4, 'toString'),
    ]);
    expect(out.results.map((r) => [r.data.k, r.data.n])).toEqual([
      ['__proto__', 2],
      ['constructor', 1],
      ['toString', 1],
    ]);
    expect(Object.prototype).not.toHaveProperty('n');
  });

  it('keeps events with odd shapes from failing the query', () => {
    const q = compile(
      "SELECT id, data.a.b AS b, upper(data.s) AS s, data.n + 1 AS n FROM orders WHERE data.a.b <> 'x'",
    );
    const input = (seq: number, data: unknown): QueryInput => ({
      source: 'orders',
      seq,
      event: { id: `${seq}`, time: at(seq), data },
    });
    const out = runOffline(q, [
      input(1, null),
      input(2, 'text'),
      input(3, [1]),
      input(4, { a: { b: 'y' }, s: 5, n: 'x' }),
    ]);
    expect(out.results.map((r) => r.data)).toEqual([{ id: '4', b: 'y', s: null, n: null }]);
  });
});
