// Pattern constructs against hand-written expected matches: followed-by and SEQUENCE, EVERY,
// quantifiers, AND/OR, NOT … FOR (also with idle input), conditions on earlier variables,
// measures, WITHIN, out-of-order arrival within grace, late events, ids and bounded state.
import { describe, expect, it } from 'vitest';
import { resultId, runOffline, type QueryInput } from '../../../runtime/queries/index.js';
import { BASE, CTX, at, compile } from './helpers.js';

let n = 0;
/** An event of `source` at `s` seconds after BASE; ids name the source and a running number. */
function ev(source: 'orders' | 'payments', s: number, data: Record<string, unknown>): QueryInput {
  n++;
  return {
    source,
    seq: n,
    event: { specversion: '1.0', id: `${source[0]}${n}`, type: source, source: '/shop', time: at(s), data },
  };
}

function matches(sql: string, inputs: QueryInput[]): Record<string, unknown>[] {
  return runOffline(compile(sql), inputs).results.map((r) => ({ time: r.time, ...r.data }));
}

const FRAUD = `SELECT data.user AS user, f[0].time AS first_fail, f[last].data.country AS fail_country,
  count(f) AS fails, sum(f.data.amount) AS failed_amount, ok.data.country AS country
FROM PATTERN (EVERY f=payments[data.ok = false]{3} -> ok=payments[data.ok AND data.country <> f[0].data.country])
  WITHIN 10 MINUTES PARTITION BY data.user`;

describe('followed by (PATTERN)', () => {
  it('finds three failures then a success from another country, other events between', () => {
    const rows = matches(FRAUD, [
      ev('payments', 0, { user: 'u1', ok: false, amount: 10, country: 'FR' }),
      ev('payments', 10, { user: 'u2', ok: false, amount: 99, country: 'FR' }),
      ev('payments', 20, { user: 'u1', ok: false, amount: 20, country: 'FR' }),
      ev('payments', 30, { user: 'u1', ok: true, amount: 5, country: 'FR' }), // same country: not the end
      ev('payments', 40, { user: 'u1', ok: false, amount: 30, country: 'FR' }),
      ev('payments', 50, { user: 'u1', ok: true, amount: 5, country: 'DE' }),
    ]);
    // Runs start at each failure of u1 (0 s, 20 s, 40 s); only the first has three before 50 s.
    expect(rows).toEqual([
      {
        time: at(50),
        user: 'u1',
        first_fail: at(0),
        fail_country: 'FR',
        fails: 3,
        failed_amount: 60,
        country: 'DE',
      },
    ]);
  });

  it('EVERY starts a match at each first-step event; without it one match runs at a time', () => {
    const inputs = [
      ev('orders', 0, { u: 1 }),
      ev('orders', 1, { u: 1 }),
      ev('payments', 2, { u: 1 }),
      ev('orders', 3, { u: 1 }),
      ev('payments', 4, { u: 1 }),
    ];
    const [o1, o2, p1, o3, p2] = inputs.map((i) => i.event.id);
    const sql = (every: string) =>
      `SELECT a.id AS a, b.id AS b FROM PATTERN (${every}a=orders -> b=payments) WITHIN 1 MINUTE PARTITION BY data.u`;
    expect(
      matches(sql('EVERY '), inputs)
        .map((r) => [r.a, r.b])
        .sort(),
    ).toEqual(
      [
        [o1, p1],
        [o2, p1],
        [o3, p2],
      ].sort(),
    );
    expect(
      matches(sql(''), inputs)
        .map((r) => [r.a, r.b])
        .sort(),
    ).toEqual(
      [
        [o1, p1],
        [o3, p2],
      ].sort(),
    );
  });

  it('conditions see earlier variables: a login from another address', () => {
    const rows = matches(
      `SELECT a.data.ip AS first_ip, b.data.ip AS second_ip FROM PATTERN (EVERY a=orders -> b=orders[data.ip <> a.data.ip]) WITHIN 1 MINUTE PARTITION BY data.u`,
      [
        ev('orders', 0, { u: 1, ip: 'x' }),
        ev('orders', 1, { u: 1, ip: 'x' }),
        ev('orders', 2, { u: 1, ip: 'y' }),
      ],
    );
    expect(rows.map((r) => [r.first_ip, r.second_ip])).toEqual([
      ['x', 'y'],
      ['x', 'y'],
    ]);
  });

  it('a match lies within WITHIN of its first event (last − first < WITHIN)', () => {
    const sql = `SELECT a.id AS a FROM PATTERN (EVERY a=orders -> b=payments) WITHIN 10 SECONDS`;
    expect(matches(sql, [ev('orders', 0, {}), ev('payments', 10, {})])).toEqual([]);
    expect(matches(sql, [ev('orders', 0, {}), ev('payments', 9.999, {})])).toHaveLength(1);
  });

  it('matches by event time: out of order within the grace period changes nothing', () => {
    const sql = `SELECT a.id AS a, b.id AS b FROM PATTERN (EVERY a=orders -> b=payments) WITHIN 1 MINUTE GRACE PERIOD 5 SECONDS`;
    const a = ev('orders', 10, {});
    const b = ev('payments', 12, {});
    const c = ev('payments', 11, {});
    const inOrder = matches(sql, [a, c, b]);
    expect(inOrder.map((r) => r.b)).toEqual([c.event.id]);
    expect(matches(sql, [b, a, c])).toEqual(inOrder);
    expect(matches(sql, [b, c, a])).toEqual(inOrder);
  });

  it('reports an event older than the watermark as late, and it matches nothing', () => {
    const q = compile(
      `SELECT a.id AS a FROM PATTERN (EVERY a=orders -> b=payments) WITHIN 1 MINUTE GRACE PERIOD 1 SECOND`,
    );
    // Both sources at 10 s and more: the watermark is 9 s, and an order of 3 s is late.
    const first = ev('orders', 10, {});
    const late = ev('orders', 3, {});
    const out = runOffline(q, [first, ev('payments', 12, {}), late, ev('payments', 13, {})]);
    expect(out.results.map((r) => r.data.a)).toEqual([first.event.id]);
    expect(out.late).toEqual([
      { query: 'q', id: late.event.id, seq: late.seq, source: 'orders', reason: 'late' },
    ]);
  });
});

describe('SEQUENCE and quantifiers', () => {
  it('SEQUENCE needs the steps strictly one after another per partition', () => {
    const sql = `SELECT a.id AS a FROM SEQUENCE (EVERY a=orders[data.k = 'a'] -> b=orders[data.k = 'b']) WITHIN 1 MINUTE PARTITION BY data.u`;
    const a1 = ev('orders', 0, { u: 1, k: 'a' });
    const other = ev('orders', 1, { u: 2, k: 'x' }); // another partition: does not break u 1
    const b1 = ev('orders', 2, { u: 1, k: 'b' });
    const a2 = ev('orders', 3, { u: 1, k: 'a' });
    const x = ev('orders', 4, { u: 1, k: 'x' });
    const b2 = ev('orders', 5, { u: 1, k: 'b' });
    expect(matches(sql, [a1, other, b1, a2, x, b2]).map((r) => r.a)).toEqual([a1.event.id]);
  });

  it('{n,m} is greedy and does not backtrack', () => {
    const sql = `SELECT a[0].id AS first, count(a) AS n FROM SEQUENCE (EVERY a=orders{2,3} -> b=payments) WITHIN 1 MINUTE`;
    const as = [0, 1, 2, 3].map((s) => ev('orders', s, {}));
    const rows = matches(sql, [...as, ev('payments', 4, {})]);
    // From a0: three orders, then a fourth where the payment should be: no match. From a1: three,
    // then the payment. From a2: two. From a3: one, below the minimum.
    expect(rows.map((r) => [r.first, r.n]).sort()).toEqual(
      [
        [as[1]!.event.id, 3],
        [as[2]!.event.id, 2],
      ].sort(),
    );
  });

  it('{n,} takes every matching event up to the next step', () => {
    const rows = matches(
      `SELECT count(a) AS n, max(a.data.v) AS top, a[last].data.v AS last_v FROM PATTERN (a=orders[data.v > 0]{2,} -> b=payments) WITHIN 1 MINUTE`,
      [
        ev('orders', 0, { v: 1 }),
        ev('orders', 1, { v: 0 }),
        ev('orders', 2, { v: 7 }),
        ev('orders', 3, { v: 3 }),
        ev('payments', 4, {}),
      ],
    );
    expect(rows).toEqual([{ time: at(4), n: 3, top: 7, last_v: 3 }]);
  });
});

describe('AND, OR and NOT … FOR', () => {
  it('AND takes both steps in any order; OR takes the first and leaves the other NULL', () => {
    const sql = `SELECT b.id AS b, c.id AS c, d.id AS d, e.id AS e FROM PATTERN (a=orders[data.k = 'a'] -> (b=orders[data.k = 'b'] AND c=payments) -> (d=orders[data.k = 'd'] OR e=payments)) WITHIN 1 MINUTE`;
    const c = ev('payments', 1, {});
    const b = ev('orders', 2, { k: 'b' });
    const e = ev('payments', 3, {});
    const rows = matches(sql, [ev('orders', 0, { k: 'a' }), c, b, e, ev('orders', 4, { k: 'd' })]);
    expect(rows).toEqual([{ time: at(3), b: b.event.id, c: c.event.id, d: null, e: e.event.id }]);
  });

  it('a trailing NOT … FOR matches when the time passes without such an event', () => {
    const sql = `SELECT a.id AS a FROM PATTERN (EVERY a=orders -> NOT payments[data.order = a.data.id] FOR 5 SECONDS) WITHIN 10 SECONDS`;
    const paid = ev('orders', 0, { id: 1 });
    const unpaid = ev('orders', 1, { id: 2 });
    const onTime = ev('orders', 2, { id: 3 });
    const rows = matches(sql, [
      paid,
      unpaid,
      onTime,
      ev('payments', 4.999, { order: 1 }), // within 5 s of order 1: no match
      ev('payments', 7, { order: 3 }), // exactly 5 s after order 3: the absence held
    ]);
    expect(rows).toEqual([
      { time: at(6), a: unpaid.event.id },
      { time: at(7), a: onTime.event.id },
    ]);
  });

  it('NOT … FOR between steps: the next step comes after the quiet period', () => {
    const sql = `SELECT a.id AS a, c.id AS c FROM PATTERN (a=orders[data.k = 'a'] -> NOT payments FOR 5 SECONDS -> c=orders[data.k = 'c']) WITHIN 1 MINUTE`;
    const a = ev('orders', 0, { k: 'a' });
    const early = ev('orders', 3, { k: 'c' });
    const c = ev('orders', 6, { k: 'c' });
    expect(matches(sql, [a, early, c])).toEqual([{ time: at(6), a: a.event.id, c: c.event.id }]);
    expect(matches(sql, [a, ev('payments', 4, {}), c])).toEqual([]);
  });

  it('an absence is confirmed on idle input when the idle watermark passes it', () => {
    const q = compile(
      `SELECT a.id AS a FROM PATTERN (EVERY a=orders -> NOT payments FOR 5 SECONDS) WITHIN 1 MINUTE`,
      {
        idleTimeout: '10s',
      },
    );
    const state = q.createState();
    const a = ev('orders', 0, {});
    expect(state.push([a]).results).toEqual([]);
    const wall = BASE + 1000;
    expect(state.tick(wall).results).toEqual([]); // starts the idle clock
    expect(state.tick(wall + 9_999).results).toEqual([]);
    // Floor: wall + 15 s − 10 s idle = BASE + 6 s, past the absence's end at BASE + 5 s.
    const out = state.tick(wall + 15_000);
    expect(out.results.map((r) => [r.time, r.data.a])).toEqual([[at(5), a.event.id]]);
  });
});

describe('identity and state', () => {
  it('a match id is a hash of the query, partition key and first event', () => {
    const q = compile(
      `SELECT a.id AS a FROM PATTERN (EVERY a=orders -> b=payments) WITHIN 1 MINUTE PARTITION BY data.u`,
    );
    const a = ev('orders', 0, { u: 'x' });
    const [r] = runOffline(q, [a, ev('payments', 1, { u: 'x' })], { partitions: 4 }).results;
    expect(r!.id).toBe(resultId([CTX.namespace, CTX.pipeline, 'q', 'pattern', '["x"]', 'orders', a.seq]));
    expect(r!.key).toBe('["x"]');
  });

  it('drops matches in progress once WITHIN has passed, and refuses input at maxStateKeys', () => {
    const q = compile(
      `SELECT a.id AS a FROM PATTERN (EVERY a=orders[data.k = 'a'] -> b=orders[data.k = 'b']) WITHIN 10 SECONDS PARTITION BY data.u`,
      {
        maxStateKeys: 3,
      },
    );
    const state = q.createState();
    state.push([ev('orders', 0, { u: 1, k: 'a' }), ev('orders', 1, { u: 2, k: 'a' })]);
    expect(state.stateKeys).toBe(2); // buffered until the watermark passes them
    state.push([ev('orders', 2, { u: 3, k: 'a' })]);
    expect(state.stateKeys).toBe(3);
    const refused = state.push([ev('orders', 2, { u: 4, k: 'a' })]);
    expect(refused.late.map((l) => l.reason)).toEqual(['state-limit']);
    expect(state.overLimit).toBe(true);
    state.push([ev('orders', 30, { u: 9, k: 'b' })]); // watermark 30 s: every run's WITHIN has passed
    expect(state.stateKeys).toBe(1); // the last order itself, buffered
    expect(state.end().results).toEqual([]);
    expect(state.stateKeys).toBe(0);
  });
});
