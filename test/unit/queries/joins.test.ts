// Interval and lookup joins against hand-written expected rows: pairs within WITHIN (inclusive),
// either side first, LEFT rows when the interval closes, the rest of ON and WHERE, NULL keys,
// ids, state bounded by WITHIN plus grace, and lookups through rows the caller passes in.
import { describe, expect, it } from 'vitest';
import { compileQuery, resultId, runOffline, type QueryInput } from '../../../runtime/queries/index.js';
import { CTX, at, compile } from './helpers.js';

let n = 0;
function ev(source: 'orders' | 'payments', s: number, data: Record<string, unknown>): QueryInput {
  n++;
  return {
    source,
    seq: n,
    event: { specversion: '1.0', id: `${source[0]}${n}`, type: source, source: '/shop', time: at(s), data },
  };
}

const JOIN = `SELECT o.data.id AS order_id, p.data.amount AS paid FROM orders o JOIN payments p WITHIN 1 MINUTE GRACE PERIOD 30 SECONDS ON o.data.id = p.data.order`;

describe('interval join', () => {
  it('joins pairs at most WITHIN apart, whichever side arrives first', () => {
    const rows = runOffline(
      compile(JOIN),
      [
        ev('payments', 0, { order: 2, amount: 5 }), // before its order: joins order 2 at 60 s
        ev('orders', 10, { id: 1 }),
        ev('payments', 70, { order: 1, amount: 7 }), // exactly 60 s after order 1: joins
        ev('orders', 60, { id: 2 }),
        ev('payments', 71, { order: 2, amount: 9 }), // 11 s after order 2: joins too
        ev('payments', 200, { order: 1, amount: 1 }), // too late for order 1
      ],
      { partitions: 3 },
    ).results;
    expect(rows.map((r) => [r.time, r.data.order_id, r.data.paid]).sort()).toEqual(
      [
        [at(60), 2, 5],
        [at(70), 1, 7],
        [at(71), 2, 9],
      ].sort(),
    );
  });

  it('LEFT JOIN emits a left row that never joined, with NULLs, once its interval has closed', () => {
    const q = compile(
      `SELECT o.data.id AS order_id, p.data.amount AS paid FROM orders o LEFT JOIN payments p WITHIN 10 SECONDS ON o.data.id = p.data.order`,
    );
    const state = q.createState();
    const unpaid = ev('orders', 0, { id: 1 });
    expect(
      state.push([unpaid, ev('orders', 5, { id: 2 }), ev('payments', 6, { order: 2, amount: 3 })]).results,
    ).toHaveLength(1);
    // Payments alone do not move time past the orders' (watermark 5 s): order 1 may still join.
    expect(state.push([ev('payments', 60, { order: 9 })]).results).toEqual([]);
    expect(state.push([ev('orders', 10, { id: 3 })]).results).toEqual([]); // watermark 10 s
    const closed = state.push([ev('orders', 10.001, { id: 4 })]).results;
    expect(closed.map((r) => [r.time, r.data])).toEqual([[at(0), { order_id: 1, paid: null }]]);
    expect(closed[0]!.id).toBe(
      resultId([CTX.namespace, CTX.pipeline, 'q', 'join', unpaid.event.id as string, 0]),
    );
    // Order 2 joined; payments never give LEFT rows; orders 3 and 4 close at the end.
    expect(state.end().results.map((r) => r.data.order_id)).toEqual([3, 4]);
    expect(state.stateKeys).toBe(0);
  });

  it('applies the rest of ON to the pair and WHERE to the joined row', () => {
    const sql = `SELECT p.data.amount AS paid FROM orders o LEFT JOIN payments p WITHIN 1 MINUTE ON o.data.id = p.data.order AND p.data.amount >= o.data.total WHERE o.data.total > 0`;
    const rows = runOffline(compile(sql), [
      ev('orders', 0, { id: 1, total: 10 }),
      ev('payments', 1, { order: 1, amount: 4 }), // not enough: no pair
      ev('payments', 2, { order: 1, amount: 12 }),
      ev('orders', 3, { id: 2, total: 0 }), // WHERE drops it, also as a LEFT row
      ev('orders', 4, { id: null, total: 5 }), // a NULL key joins nothing: a LEFT row at once
    ]).results;
    expect(rows.map((r) => r.data.paid).sort()).toEqual([12, null]);
  });

  it('partitions both sides by the join key', () => {
    const q = compile(JOIN);
    expect(q.keyOf(ev('orders', 0, { id: 7 }))).toBe('[7]');
    expect(q.keyOf(ev('payments', 0, { order: 7 }))).toBe('[7]');
    expect(q.sources).toEqual(['orders', 'payments']);
  });
});

describe('lookup join', () => {
  const ctx = { ...CTX, tables: [{ name: 'customers', key: 'id' }] };
  const sql = (left: string) =>
    `SELECT o.data.id AS order_id, c.name AS customer, c.tier AS tier FROM orders o ${left}JOIN customers AS c ON o.data.customerId = c.id`;

  it('reads the row the caller passed for the event, and a LEFT join gives NULLs without one', () => {
    const inner = compileQuery({ name: 'enrich', sql: sql('') }, ctx);
    const left = compileQuery({ name: 'enrich', sql: sql('LEFT ') }, ctx);
    expect(inner.lookup).toMatchObject({ table: 'customers', keyColumn: 'id', left: false });
    const known = {
      ...ev('orders', 0, { id: 1, customerId: 'c1' }),
      rows: { customers: { id: 'c1', name: 'Ann', tier: 'gold' } },
    };
    const unknown = { ...ev('orders', 1, { id: 2, customerId: 'c2' }), rows: { customers: null } };
    expect(inner.lookup!.keyOf(known)).toBe('c1');
    expect(runOffline(inner, [known, unknown]).results.map((r) => r.data)).toEqual([
      { order_id: 1, customer: 'Ann', tier: 'gold' },
    ]);
    expect(runOffline(left, [known, unknown]).results.map((r) => r.data)).toEqual([
      { order_id: 1, customer: 'Ann', tier: 'gold' },
      { order_id: 2, customer: null, tier: null },
    ]);
  });

  it('checks the table and its key at line:column', () => {
    const problems = (text: string): string[] => {
      try {
        compileQuery({ name: 'x', sql: text }, ctx);
        return [];
      } catch (err) {
        return (err as { diagnostics: { line: number; column: number; message: string }[] }).diagnostics.map(
          (d) => `${d.line}:${d.column} ${d.message}`,
        );
      }
    };
    expect(problems('SELECT o.id FROM orders o JOIN customers c ON o.data.c = c.name')).toEqual([
      "1:47 a lookup join's ON is one equality with the table's key: ON o.data.x = c.id",
    ]);
    expect(problems('SELECT o.id FROM orders o JOIN customers c WITHIN 1 MINUTE ON o.data.c = c.id')).toEqual(
      ['1:51 customers is a table: a lookup join takes no WITHIN (only a join of two streams does)'],
    );
  });
});
