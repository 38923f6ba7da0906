import { describe, expect, it } from 'vitest';
import { compile, diagnostics } from './helpers.js';

const W = 'WINDOW TUMBLING (SIZE 1 MINUTE)';

describe('static checks', () => {
  it('reports an unknown source with the sources the pipeline has', () => {
    expect(diagnostics('SELECT id FROM shipments')).toEqual([
      "1:16 unknown source shipments: the pipeline's sources are orders, payments",
    ]);
  });

  it('reports unknown field roots and fields of attributes that have none', () => {
    const hint =
      'use a CloudEvents attribute (id, type, source, subject, time), an extension (lower-case letters and digits), data.<path>';
    expect(diagnostics('SELECT Amount, customer_id FROM orders')).toEqual([
      `1:8 unknown field Amount: ${hint}`,
      `1:16 unknown field customer_id: ${hint}`,
    ]);
    expect(diagnostics('SELECT x.data.a FROM orders AS o')).toEqual([
      `1:8 unknown field x: ${hint}, or the alias o`,
    ]);
    expect(diagnostics('SELECT type.x FROM orders')).toEqual([
      '1:13 type is a CloudEvents attribute without fields: only data can be navigated (data.a.b)',
    ]);
    expect(diagnostics('SELECT o FROM orders AS o')).toEqual([
      '1:8 o is the source: name one of its fields, e.g. o.data.amount',
    ]);
  });

  it('accepts attributes, extensions, data paths and fields qualified by the alias or the source', () => {
    expect(
      diagnostics(
        "SELECT id, type, source, subject, time, traceparent, data.a.b, data['a-b'], data.items[0], o.data.x AS x2, o.id AS id2 FROM orders AS o",
      ),
    ).toEqual([]);
    expect(diagnostics('SELECT orders.data.amount FROM orders')).toEqual([]);
    expect(diagnostics('SELECT id FROM orders AS data')).toEqual([
      '1:26 alias data is also a field name: choose another alias',
    ]);
  });

  it('reports aggregates in WHERE and GROUP BY, and nested aggregates', () => {
    expect(diagnostics(`SELECT count(*) FROM orders WHERE sum(data.a) > 1 ${W}`)).toEqual([
      '1:35 aggregate sum() is not allowed in WHERE: filter groups with HAVING instead',
    ]);
    expect(diagnostics(`SELECT count(*) FROM orders ${W} GROUP BY max(data.a)`)).toEqual([
      '1:70 aggregate max() is not allowed in GROUP BY: filter groups with HAVING instead',
    ]);
    expect(diagnostics(`SELECT sum(count(*)) FROM orders ${W}`)).toEqual([
      '1:12 aggregate count() cannot be nested inside another aggregate',
    ]);
  });

  it('rejects constants and positions in GROUP BY', () => {
    expect(diagnostics(`SELECT count(*) FROM orders ${W} GROUP BY 1`)).toEqual([
      '1:70 GROUP BY takes expressions such as data.country, not column positions or constants',
    ]);
  });

  it('reports a column that is neither grouped nor aggregated, in SELECT and HAVING', () => {
    expect(
      diagnostics(
        `SELECT data.country, data.city, count(*) FROM orders ${W} GROUP BY data.country HAVING data.zip > 1`,
      ),
    ).toEqual([
      '1:22 data.city in SELECT is neither in GROUP BY nor inside an aggregate: add it to GROUP BY or use an aggregate such as first(data.city)',
      '1:115 data.zip in HAVING is neither in GROUP BY nor inside an aggregate: add it to GROUP BY or use an aggregate such as first(data.zip)',
    ]);
  });

  it('accepts grouped expressions used inside larger expressions, by alias or not', () => {
    expect(
      diagnostics(
        `SELECT upper(o.data.country) || '!' AS c, count(*) AS n FROM orders AS o ${W} GROUP BY upper(data.country)`,
      ),
    ).toEqual([]);
  });

  it('lets SLIDING rows read the event they are for', () => {
    expect(
      diagnostics(
        'SELECT id, data.amount, sum(data.amount) AS total FROM orders WINDOW SLIDING (SIZE 1 HOUR) GROUP BY data.customer',
      ),
    ).toEqual([]);
  });

  it('needs a WINDOW for aggregation, and meaningful HAVING', () => {
    const need =
      'aggregations need a WINDOW clause, e.g. WINDOW TUMBLING (SIZE 1 MINUTE): a query without one emits a row per event';
    expect(diagnostics('SELECT count(*) FROM orders')).toEqual([`1:8 ${need}`]);
    expect(diagnostics('SELECT data.a FROM orders GROUP BY data.a')).toEqual([`1:27 ${need}`]);
    expect(diagnostics('SELECT id FROM orders HAVING id = 1')).toEqual([
      '1:23 HAVING filters groups, and this query has no GROUP BY, aggregate or WINDOW: use WHERE',
    ]);
  });

  it('checks window sizes and advances', () => {
    expect(diagnostics('SELECT count(*) FROM orders WINDOW TUMBLING (SIZE 0 SECONDS)')).toEqual([
      '1:51 SIZE must be greater than zero',
    ]);
    expect(
      diagnostics('SELECT count(*) FROM orders WINDOW HOPPING (SIZE 1 MINUTE, ADVANCE BY 2 MINUTES)'),
    ).toEqual([
      '1:71 ADVANCE BY (120000 ms) must not be larger than SIZE (60000 ms): windows would leave gaps',
    ]);
    expect(
      diagnostics('SELECT count(*) FROM orders WINDOW HOPPING (SIZE 1 MINUTE, ADVANCE BY 0 SECONDS)'),
    ).toEqual(['1:71 ADVANCE BY must be greater than zero']);
    expect(diagnostics('SELECT count(*) FROM orders WINDOW SESSION (GAP 0 MINUTES)')).toEqual([
      '1:49 GAP must be greater than zero',
    ]);
    expect(diagnostics('SELECT count(*) FROM orders WINDOW COUNT (SIZE 0)')).toEqual([
      '1:48 SIZE must be greater than zero',
    ]);
    expect(diagnostics('SELECT count(*) FROM orders WINDOW COUNT (SIZE 3, ADVANCE BY 4)')).toEqual([
      '1:62 ADVANCE BY (4 events) must not be larger than SIZE (3 events): windows would leave gaps',
    ]);
    expect(
      diagnostics('SELECT count(*) FROM orders WINDOW COUNT (SIZE 3, ADVANCE BY 3, GRACE PERIOD 1 SECOND)'),
    ).toEqual([]);
  });

  it('allows window_start and window_end only in SELECT and HAVING of windowed queries', () => {
    expect(diagnostics('SELECT id, window_start FROM orders')).toEqual([
      '1:12 window_start is a column of windowed queries: add a WINDOW clause or remove it',
    ]);
    expect(diagnostics(`SELECT count(*) FROM orders WHERE window_end > '2026' ${W}`)).toEqual([
      '1:35 window_end is known only once a window is complete: use it in SELECT or HAVING, not in WHERE',
    ]);
    expect(
      diagnostics(`SELECT count(*), window_start, window_end FROM orders ${W} HAVING window_start > '2026'`),
    ).toEqual([]);
  });

  it('rejects EMIT on stateless queries and EMIT CHANGES where a row cannot be updated', () => {
    expect(diagnostics('SELECT id FROM orders EMIT CHANGES')).toEqual([
      '1:23 EMIT applies to windowed queries; a query without WINDOW emits one row per event: remove EMIT CHANGES',
    ]);
    expect(diagnostics('SELECT count(*) FROM orders WINDOW SESSION (GAP 1 MINUTE) EMIT CHANGES')).toEqual([
      '1:64 EMIT CHANGES is not supported for SESSION windows: a session window changes its bounds (and so its result id) as it grows and merges, so an earlier row could not be replaced; use EMIT FINAL',
    ]);
    expect(diagnostics('SELECT count(*) FROM orders WINDOW SLIDING (SIZE 1 MINUTE) EMIT CHANGES')).toEqual([
      '1:65 EMIT CHANGES is not supported for SLIDING windows: a SLIDING window emits one row per event, once the watermark has passed it; use EMIT FINAL',
    ]);
    expect(diagnostics('SELECT count(*) FROM orders WINDOW COUNT (SIZE 5) EMIT CHANGES')).toEqual([
      '1:56 EMIT CHANGES is not supported for COUNT windows: a COUNT window emits only when it holds SIZE events; use EMIT FINAL',
    ]);
    expect(diagnostics(`SELECT count(*) FROM orders ${W} EMIT CHANGES`)).toEqual([]);
    expect(
      diagnostics(
        'SELECT count(*) FROM orders WINDOW HOPPING (SIZE 1 MINUTE, ADVANCE BY 10 SECONDS) EMIT CHANGES',
      ),
    ).toEqual([]);
  });

  it('reports unknown functions, suggesting the name used here', () => {
    expect(diagnostics('SELECT ifnull(data.a, 0) AS a, median(data.b) AS b FROM orders')).toEqual([
      '1:8 unknown function ifnull(): did you mean coalesce()?',
      '1:32 unknown function median() (functions: abs, avg, ceil, coalesce, concat, count, first, floor, last, lower, max, min, round, stddev, sum, upper)',
    ]);
  });

  it('reports wrong argument counts, * and DISTINCT where they do not belong', () => {
    expect(
      diagnostics(`SELECT sum(data.a, data.b), round(), count(), lower('A', 'B') FROM orders ${W}`),
    ).toEqual([
      '1:8 sum() takes 1 argument, got 2: e.g. sum(data.amount)',
      '1:29 round() takes 1 to 2 arguments, got 0: e.g. round(data.amount, 2)',
      '1:38 count() takes 1 argument, got 0: e.g. count(*), count(x) or count(DISTINCT x)',
      '1:47 lower() takes 1 argument, got 2: e.g. lower(data.email)',
    ]);
    expect(diagnostics(`SELECT sum(*), max(DISTINCT data.a), coalesce() FROM orders ${W}`)).toEqual([
      '1:8 sum(*) is not allowed: only count(*) takes *',
      '1:16 DISTINCT is supported in count(DISTINCT x) only, not in max()',
      '1:38 coalesce() takes at least 1 argument, got 0: e.g. coalesce(data.nickname, data.name)',
    ]);
  });

  it('names columns after AS, the last field name, or the expression text, and rejects duplicates', () => {
    expect(
      compile(
        `SELECT data.country, o.data.items[0], count(*), sum( data.amount ), window_start FROM orders AS o ${W} GROUP BY data.country, data.items[0]`,
      ).columns,
    ).toEqual(['country', 'items[0]', 'count(*)', 'sum( data.amount )', 'window_start']);
    expect(diagnostics('SELECT data.a, data.b AS a, data.x.id,\n  id FROM orders')).toEqual([
      '1:26 duplicate column name a: give one of them another name with AS',
      '2:3 duplicate column name id: give one of them another name with AS',
    ]);
  });

  it('reports every problem at once, in source order', () => {
    expect(diagnostics('SELECT Foo, nope(1)\nFROM shipments\nEMIT FINAL')).toEqual([
      '1:8 unknown field Foo: use a CloudEvents attribute (id, type, source, subject, time), an extension (lower-case letters and digits), data.<path>',
      '1:13 unknown function nope() (functions: abs, avg, ceil, coalesce, concat, count, first, floor, last, lower, max, min, round, stddev, sum, upper)',
      "2:6 unknown source shipments: the pipeline's sources are orders, payments",
      '3:1 EMIT applies to windowed queries; a query without WINDOW emits one row per event: remove EMIT FINAL',
    ]);
  });

  it('checks the definition options', () => {
    expect(
      diagnostics('SELECT id FROM orders', { idleTimeout: '10 seconds', maxStateKeys: 0, partitions: 1.5 }),
    ).toEqual([
      '1:1 idleTimeout: "10 seconds" is not a duration: write it like 10s, 1m30s or 500ms',
      '1:1 maxStateKeys must be a positive integer, got 0',
      '1:1 partitions must be a positive integer, got 1.5',
    ]);
    expect(
      diagnostics('SELECT id FROM orders', { idleTimeout: '1m30s', maxStateKeys: 10, partitions: 4 }),
    ).toEqual([]);
  });
});
