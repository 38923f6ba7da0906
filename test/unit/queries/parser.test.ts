import { describe, expect, it } from 'vitest';
import { QueryCompileError, isQueryCompileError } from '../../../runtime/queries/index.js';
import { compile, diagnostics } from './helpers.js';

describe('query syntax', () => {
  it('accepts the documented example, keywords in any case, comments and a trailing semicolon', () => {
    const q = compile(`
      -- revenue per country and minute
      select data.country as country, COUNT(*) As orders, Sum(data.amount) AS revenue,
             window_start, window_end /* bounds */
      From orders
      WHERE type = 'com.shop.order.created'
      window Tumbling (size 1 minute, grace period 10 seconds)
      GROUP BY data.country
      HAVING sum(data.amount) > 0
      EMIT FINAL;`);
    expect(q.columns).toEqual(['country', 'orders', 'revenue', 'window_start', 'window_end']);
    expect(q.kind).toBe('window');
    expect(q.windowKind).toBe('tumbling');
    expect(q.emit).toBe('final');
  });

  it('reads every duration unit, singular and plural', () => {
    for (const unit of [
      'MILLISECOND',
      'MILLISECONDS',
      'SECOND',
      'SECONDS',
      'MINUTE',
      'MINUTES',
      'HOUR',
      'HOURS',
      'DAY',
      'DAYS',
    ]) {
      expect(diagnostics(`SELECT count(*) FROM orders WINDOW TUMBLING (SIZE 2 ${unit})`)).toEqual([]);
    }
  });

  it('reports an unexpected character with its position', () => {
    expect(diagnostics('SELECT id\nFROM orders # x')).toEqual(['2:13 unexpected character "#"']);
    expect(diagnostics('SELECT `a` FROM orders')).toEqual([
      '1:8 unexpected character "`" (quote names with double quotes: "a-b")',
    ]);
  });

  it('reports unterminated strings, quoted names and comments at their start', () => {
    expect(diagnostics("SELECT id FROM orders WHERE type = 'abc")).toEqual([
      "1:36 unterminated string literal: close it with '",
    ]);
    expect(diagnostics('SELECT "id FROM orders')).toEqual([
      '1:8 unterminated quoted identifier: close it with "',
    ]);
    expect(diagnostics('SELECT id /* FROM orders')).toEqual([
      '1:11 unterminated /* comment: close it with */',
    ]);
  });

  it('reports what was expected and what was found', () => {
    expect(diagnostics('SELECT id orders')).toEqual(["1:11 expected ',' or FROM, found 'orders'"]);
    expect(diagnostics('SELECT id FROM orders WHERE')).toEqual([
      '1:28 expected an expression (a field, literal, function call or parenthesis), found end of query',
    ]);
    expect(diagnostics('SELECT id FROM orders WHERE (type = 1')).toEqual([
      "1:38 expected ')' to close the parenthesis, found end of query",
    ]);
    expect(diagnostics('FROM orders')).toEqual(["1:1 expected SELECT, found 'FROM'"]);
    expect(diagnostics('SELECT id FROM orders LIMIT 5')).toEqual([
      "1:23 expected WHERE, WINDOW, GROUP BY, HAVING, EMIT or the end of the query, found 'LIMIT'",
    ]);
    expect(diagnostics('SELECT id FROM orders WHERE type IS 5')).toEqual([
      '1:37 expected NULL or NOT NULL after IS, found number 5',
    ]);
  });

  it('reports clauses out of order or given twice', () => {
    expect(
      diagnostics('SELECT count(*) FROM orders GROUP BY data.a WINDOW TUMBLING (SIZE 1 MINUTE)'),
    ).toEqual(['1:45 WINDOW must come before GROUP BY']);
    expect(diagnostics('SELECT id FROM orders WHERE id = 1 WHERE id = 2')).toEqual([
      '1:36 WHERE is given twice: a query has one WHERE clause',
    ]);
  });

  it('rejects chained comparisons, BETWEEN, SELECT * and subqueries with a hint', () => {
    expect(diagnostics('SELECT id FROM orders WHERE 1 < data.a < 3')).toEqual([
      "1:40 comparisons cannot be chained: join them with AND or OR, found '<'",
    ]);
    expect(diagnostics('SELECT id FROM orders WHERE data.a BETWEEN 1 AND 3')).toEqual([
      '1:36 BETWEEN is not supported: write x >= a AND x <= b',
    ]);
    expect(diagnostics('SELECT * FROM orders')).toEqual([
      '1:8 SELECT * is not supported: list the fields to select',
    ]);
    expect(diagnostics('SELECT id FROM orders WHERE id IN (SELECT id FROM payments)')).toEqual([
      '1:36 subqueries are not supported',
    ]);
  });

  it('rejects a comma join and a second join at their token', () => {
    expect(diagnostics('SELECT id FROM orders, payments')).toEqual([
      '1:22 a join of several sources is written with JOIN … ON',
    ]);
    expect(
      diagnostics(
        'SELECT o.id FROM orders o JOIN payments p WITHIN 1 MINUTE ON o.id = p.id\nJOIN payments q WITHIN 1 MINUTE ON o.id = q.id',
      ),
    ).toEqual(['2:1 a query joins one source or table: split further joins into another query']);
  });

  it('checks window parameters as they are written', () => {
    expect(diagnostics('SELECT count(*) FROM orders WINDOW HOPPING (SIZE 1 MINUTE)')).toEqual([
      "1:58 HOPPING needs ADVANCE BY, found ')'",
    ]);
    expect(diagnostics('SELECT count(*) FROM orders WINDOW TUMBLING (SIZE 1 MINUTE, GAP 5 SECONDS)')).toEqual(
      ['1:61 TUMBLING windows take no GAP'],
    );
    expect(
      diagnostics('SELECT count(*) FROM orders WINDOW TUMBLING (SIZE 1 MINUTE, SIZE 2 MINUTES)'),
    ).toEqual(['1:61 SIZE is given twice']);
    expect(
      diagnostics('SELECT count(*) FROM orders WINDOW HOPPING (ADVANCE BY 1 MINUTE, SIZE 2 MINUTES)'),
    ).toEqual(['1:45 HOPPING needs SIZE before ADVANCE BY']);
    expect(diagnostics('SELECT count(*) FROM orders WINDOW TUMBLING (SIZE 10)')).toEqual([
      "1:53 expected a time unit after 10 (MILLISECONDS, SECONDS, MINUTES, HOURS or DAYS), found ')'",
    ]);
    expect(diagnostics('SELECT count(*) FROM orders WINDOW TUMBLING (SIZE 0.5 MILLISECONDS)')).toEqual([
      '1:51 0.5 MILLISECONDS is not a whole number of milliseconds',
    ]);
    expect(diagnostics('SELECT count(*) FROM orders WINDOW COUNT (SIZE 2.5)')).toEqual([
      '1:48 a count of events must be a whole number, got 2.5',
    ]);
    expect(diagnostics('SELECT count(*) FROM orders WINDOW ROLLING (SIZE 1 MINUTE)')).toEqual([
      "1:36 expected TUMBLING, HOPPING, SESSION, SLIDING or COUNT after WINDOW, found 'ROLLING'",
    ]);
    expect(diagnostics('SELECT count(*) FROM orders WINDOW SESSION (GAP 1 MINUTE, GRACE 5 SECONDS)')).toEqual(
      ['1:65 expected PERIOD after GRACE, found number 5'],
    );
  });

  it('accepts a fractional duration that is a whole number of milliseconds', () => {
    expect(diagnostics('SELECT count(*) FROM orders WINDOW TUMBLING (SIZE 1.5 SECONDS)')).toEqual([]);
  });

  it('throws a QueryCompileError naming the query and the first problem', () => {
    let caught: unknown;
    try {
      compile('SELECT id FROM', { name: 'broken' });
    } catch (err) {
      caught = err;
    }
    expect(isQueryCompileError(caught)).toBe(true);
    const err = caught as QueryCompileError;
    expect(err).toBeInstanceOf(QueryCompileError);
    expect(err.name).toBe('QueryCompileError');
    expect(err.code).toBe('QueryCompileError');
    expect(err.query).toBe('broken');
    expect(err.message).toBe(
      'query broken does not compile: 1:15: expected a source name, PATTERN or SEQUENCE after FROM, found end of query',
    );
    expect(isQueryCompileError(new Error('x'))).toBe(false);
  });
});
