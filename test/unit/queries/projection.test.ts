// What the shuffle carries of an event: exactly what the query reads (projection.ts). The exact
// fields kept for each kind of reference, and the property that matters: a query computes the
// same results and late events from projected events as from whole ones.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runOffline, type QueryInput } from '../../../runtime/queries/index.js';
import { BASE, compile } from './helpers.js';

const EVENT = {
  specversion: '1.0',
  id: 'e1',
  type: 'order',
  source: '/shop',
  time: '2026-01-01T00:00:00.000Z',
  subject: 'orders/1',
  datacontenttype: 'application/json',
  tenant: 'acme',
  data: { k: 'a', v: 2, nested: { x: 1 }, noise: 'x'.repeat(100), list: [1, 2] },
};
const ALWAYS = { specversion: '1.0', id: 'e1', type: 'order', source: '/shop', time: EVENT.time };

describe('the projection of a query', () => {
  it.each([
    [
      'the data members a windowed query names, each whole',
      `SELECT data.k AS k, sum(data.nested.x) AS s FROM orders WINDOW TUMBLING (SIZE 1 MINUTE) GROUP BY data.k`,
      { ...ALWAYS, data: { k: 'a', nested: { x: 1 } } },
    ],
    [
      'attributes and extensions it reads, besides those the runtime always reads',
      `SELECT subject, tenant FROM orders WHERE data['v'] > 1`,
      { ...ALWAYS, subject: 'orders/1', tenant: 'acme', data: { v: 2 } },
    ],
    ['all of data when it reads data itself', `SELECT data FROM orders`, { ...ALWAYS, data: EVENT.data }],
    [
      'all of data when a step is computed',
      `SELECT data[0] AS first FROM orders`,
      { ...ALWAYS, data: EVENT.data },
    ],
    ['no data when it reads none', `SELECT id FROM orders`, ALWAYS],
    [
      'what every pattern variable and condition reads',
      `SELECT a.data.k AS k FROM PATTERN (EVERY a=orders -> b=payments[data.v > a.data.v]) WITHIN 1 MINUTE PARTITION BY data.nested`,
      { ...ALWAYS, data: { k: 'a', v: 2, nested: { x: 1 } } },
    ],
    [
      'both sides of a join and its ON clause',
      `SELECT o.data.k AS k, p.data.v AS paid FROM orders o JOIN payments p WITHIN 1 MINUTE ON o.data.list = p.data.list`,
      { ...ALWAYS, data: { k: 'a', v: 2, list: [1, 2] } },
    ],
  ])('keeps %s', (_what, sql, expected) => {
    expect(compile(sql).project(structuredClone(EVENT))).toEqual(expected);
  });

  it('keeps a non-object data as it is, and adds no attribute the event lacks', () => {
    const q = compile(`SELECT data.k AS k, subject FROM orders`);
    expect(q.project({ ...ALWAYS, data: 'text' })).toEqual({ ...ALWAYS, data: 'text' });
    expect(q.project({ ...ALWAYS })).toEqual(ALWAYS);
  });
});

const QUERIES = [
  `SELECT data.k AS k, count(*) AS n, sum(data.v) AS s, first(data.g) AS f, window_start FROM orders WINDOW TUMBLING (SIZE 10 SECONDS, GRACE PERIOD 5 SECONDS) GROUP BY data.k`,
  `SELECT data.k AS k, avg(data.v) AS a FROM orders WINDOW HOPPING (SIZE 10 SECONDS, ADVANCE BY 5 SECONDS) GROUP BY data.k HAVING count(*) > 1`,
  `SELECT data.k AS k, count(*) AS n, window_end FROM orders WINDOW SESSION (GAP 3 SECONDS) GROUP BY data.k`,
  `SELECT id, data.k AS k, max(data.v) AS m FROM orders WINDOW SLIDING (SIZE 5 SECONDS) GROUP BY data.k`,
  `SELECT id, data.v * 2 AS v2, subject FROM orders WHERE data.g <> 'z'`,
  `SELECT a.id AS a, b.id AS b FROM PATTERN (EVERY a=orders[data.g = 'x'] -> b=orders[data.v > a.data.v]) WITHIN 10 SECONDS PARTITION BY data.k`,
];

describe('results from projected events', () => {
  it('are the results from whole events, late events included', () => {
    const gen = fc.record({
      k: fc.constantFrom('a', 'b'),
      t: fc.integer({ min: 0, max: 120 }).map((q) => q * 250),
      v: fc.oneof(fc.integer({ min: -50, max: 50 }), fc.constant(null)),
      g: fc.constantFrom('x', 'y', 'z'),
      extra: fc.string({ maxLength: 20 }),
    });
    fc.assert(
      fc.property(fc.constantFrom(...QUERIES), fc.array(gen, { maxLength: 40 }), (sql, gens) => {
        const q = compile(sql);
        const inputs: QueryInput[] = gens.map((g, i) => ({
          source: 'orders',
          seq: i + 1,
          streamTime: BASE + g.t,
          event: {
            specversion: '1.0',
            id: `e${i + 1}`,
            type: 'order',
            source: '/shop',
            subject: `s/${g.k}`,
            time: new Date(BASE + g.t).toISOString(),
            tenant: g.extra,
            data: { k: g.k, v: g.v, g: g.g, extra: g.extra, more: { deep: g.extra } },
          },
        }));
        const projected = inputs.map((input) => ({ ...input, event: q.project(input.event) }));
        expect(runOffline(q, projected)).toEqual(runOffline(q, inputs));
        expect(runOffline(q, projected, { partitions: 3 })).toEqual(runOffline(q, inputs, { partitions: 3 }));
      }),
      { numRuns: 150 },
    );
  });
});
