// Shared fixtures for the query engine tests: a pipeline context, inputs at readable times, and
// compact views of results.
import {
  compileQuery,
  isQueryCompileError,
  runOffline,
  type CompiledQuery,
  type QueryDefinition,
  type QueryInput,
  type StepOutput,
} from '../../../runtime/queries/index.js';

export const CTX = { namespace: 'team-a', pipeline: 'shop', sources: ['orders', 'payments'] };

/** 2026-01-01T00:00:00Z in ms: test times are seconds after it. */
export const BASE = Date.UTC(2026, 0, 1);

/** RFC 3339 text of `s` seconds after BASE. */
export function at(s: number): string {
  return new Date(BASE + s * 1000).toISOString();
}

export function compile(sql: string, def: Partial<QueryDefinition> = {}): CompiledQuery {
  return compileQuery({ name: 'q', sql, ...def }, CTX);
}

/** "line:column message" for each diagnostic, or [] when the query compiles. */
export function diagnostics(sql: string, def: Partial<QueryDefinition> = {}): string[] {
  try {
    compile(sql, def);
    return [];
  } catch (err) {
    if (!isQueryCompileError(err)) throw err;
    return err.diagnostics.map((d) => `${d.line}:${d.column} ${d.message}`);
  }
}

/** Result rows as { time, ...data }. */
export function rows(out: StepOutput): Record<string, unknown>[] {
  return out.results.map((r) => ({ time: r.time, ...r.data }));
}

/** Runs a stateless query over one event's data and returns its single row's data. */
export function evalRow(
  selectList: string,
  data: unknown,
  attrs: Record<string, unknown> = {},
): Record<string, unknown> {
  const q = compile(`SELECT ${selectList} FROM orders`);
  const input: QueryInput = {
    source: 'orders',
    seq: 1,
    event: { specversion: '1.0', id: 'x', type: 'order', source: '/shop', time: at(0), data, ...attrs },
  };
  const out = runOffline(q, [input]);
  if (out.results.length !== 1) throw new Error(`expected one row, got ${out.results.length}`);
  return out.results[0]!.data;
}

/** Value of a single expression for an event with the given data. */
export function evalExpr(expr: string, data: unknown = {}, attrs: Record<string, unknown> = {}): unknown {
  return evalRow(`${expr} AS v`, data, attrs).v;
}
