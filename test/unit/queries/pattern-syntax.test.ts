// Errors of pattern and join queries: each at its line and column, saying what to write instead.
import { describe, expect, it } from 'vitest';
import { diagnostics } from './helpers.js';

const W = 'WITHIN 1 MINUTE';

describe('pattern and join errors', () => {
  it.each([
    [
      'SELECT a.id FROM PATTERN (a=orders -> b=payments)',
      '1:50 expected WITHIN after the PATTERN: a pattern needs a time bound, e.g. WITHIN 10 MINUTES, found end of query',
    ],
    [
      `SELECT a.id FROM PATTERN (a=orders -> EVERY b=payments) ${W}`,
      '1:39 EVERY applies to the whole pattern: write it before the first step',
    ],
    [
      `SELECT b.id FROM PATTERN (NOT orders FOR 1 MINUTE -> b=payments) ${W}`,
      '1:27 a pattern cannot start with NOT … FOR: start with the event the absence follows',
    ],
    [
      `SELECT a.id FROM PATTERN (a=orders -> NOT payments FOR 2 MINUTES) ${W}`,
      '1:74 WITHIN (60000 ms) is shorter than NOT … FOR (120000 ms): the pattern could never match',
    ],
    [
      `SELECT a.id FROM PATTERN (a=orders -> b=payments{2,}) ${W}`,
      '1:49 a pattern cannot end with a variable count {n,m} or {n,}: it would never know when to stop; end with {2} or add a step after it',
    ],
    [
      `SELECT a.id FROM PATTERN (a=orders[b.data.x = 1] -> b=payments) ${W}`,
      '1:36 b is matched by a later step: a condition sees the variables of earlier steps only',
    ],
    [
      `SELECT f.data.x FROM PATTERN (f=orders{3} -> b=payments) ${W}`,
      '1:8 f matches several events: pick one with f[0] or f[last], or use an aggregate such as count(f)',
    ],
    [
      `SELECT a[1].data.x FROM PATTERN (a=orders -> b=payments) ${W}`,
      '1:9 a matches one event: read its fields directly, e.g. a.data.x',
    ],
    [
      `SELECT data.x FROM PATTERN (a=orders -> b=payments) ${W}`,
      "1:8 a field in a pattern's SELECT reads a variable (a.data, b.data) or is a PARTITION BY expression",
    ],
    [
      `SELECT count(*) FROM PATTERN (a=orders -> b=payments) ${W}`,
      '1:8 an aggregate in a pattern query runs over the events of one variable: e.g. count(f), sum(f.data.amount)',
    ],
    [
      `SELECT a.id FROM PATTERN (a=orders -> a=payments) ${W}`,
      '1:39 variable a is declared twice: give each step its own name',
    ],
    [
      `SELECT a.id FROM PATTERN (a=shops -> b=payments) ${W}`,
      "1:29 unknown source shops: the pipeline's sources are orders, payments",
    ],
    [
      `SELECT a.id FROM PATTERN (a=orders AND b=payments OR c=orders) ${W}`,
      '1:51 AND and OR cannot be mixed in one step: group them with parentheses',
    ],
    [
      // One error, not one more for each variable of the group that SELECT reads.
      `SELECT a.id AS a, c.id AS c FROM PATTERN ((a=orders -> b=payments) OR c=orders) ${W}`,
      '1:43 OR combines single steps, as in (a=orders OR b=payments): a group or a sequence cannot be one of its sides; match it in a query of its own',
    ],
    [
      `SELECT a.id FROM PATTERN (a=orders -> b=payments) ${W} WHERE a.id = 1`,
      '1:73 WHERE does not apply to patterns: put conditions in the steps, e.g. a=orders[data.amount > 10]',
    ],
    [
      `SELECT a.id FROM PATTERN (a=orders -> b=payments) ${W} PARTITION BY a.data.user`,
      '1:80 PARTITION BY cannot read pattern variables: use fields of the event (data.userId)',
    ],
    [
      `SELECT a.id FROM PATTERN (a=orders -> b=payments) ${W}\nGROUP BY a.id`,
      '2:1 GROUP BY cannot be combined here: pattern queries emit one row per match; put conditions in the steps',
    ],
    [
      `SELECT a[0].id FROM PATTERN (a=orders{2,3} -> NOT payments FOR 1 SECOND -> b=orders) ${W}`,
      '1:38 NOT … FOR after a variable count {n,m} has no start: use a fixed count {2} before it',
    ],
    [
      'SELECT o.id FROM orders o JOIN payments p ON o.data.id = p.data.order',
      '1:32 a join of two streams needs WITHIN to bound its state: JOIN payments AS p WITHIN 10 MINUTES ON …',
    ],
    [
      `SELECT o.id FROM orders o JOIN payments p ${W} ON o.data.id > p.data.order`,
      '1:62 ON needs an equality between the two sides, such as o.data.orderId = p.data.orderId: both sides are partitioned by it',
    ],
    [
      `SELECT id FROM orders o JOIN payments p ${W} ON o.data.id = p.data.order`,
      '1:8 id in SELECT needs an alias in front: o.id or p.id',
    ],
    [
      `SELECT o.id FROM orders o JOIN payments ${W} ON o.id = p.id`,
      "1:41 expected an alias for payments, e.g. JOIN payments AS x, found 'WITHIN'",
    ],
    [
      `SELECT o.id FROM orders o JOIN orders p ${W} ON o.data.id = p.data.order`,
      '1:32 orders is joined with itself: join two different sources',
    ],
    [
      'SELECT data.items[last] FROM orders',
      '1:8 [last] picks the last event of a quantified pattern variable (f[last].time); use an index for arrays',
    ],
  ])('%s', (sql, expected) => {
    expect(diagnostics(sql)).toEqual([expected]);
  });
});
