// The compiled form of a checked query that every window operator shares: the WHERE filter, the
// GROUP BY key, the aggregates and their arguments, and how a group's row is built (HAVING, then
// the SELECT items). Built once per query; operators keep their per-partition scratch themselves.
import { aggregateFor, type Aggregate } from './aggregates.js';
import type { CheckedQuery, WindowSpec } from './checker.js';
import { children, exprKey, isWindowColumn } from './expr-tree.js';
import type { Expr } from './ast.js';
import { compileExpr, type Compiled, type RowContext } from './compile-expr.js';
import { idPrefixOf } from './ids.js';
import { isInheritedName } from '../rules/values.js';
import { canonicalJson, type Value } from './values.js';
import { buildJoinPlan, type JoinPlan } from './join-plan.js';
import { buildPatternPlan, type PatternPlan } from './pattern-plan.js';
import type { StateKind } from './types.js';

export interface Plan {
  readonly name: string;
  readonly namespace: string;
  readonly pipeline: string;
  readonly window: WindowSpec | undefined;
  readonly pattern: PatternPlan | undefined;
  readonly join: JoinPlan | undefined;
  /** Every source the query reads, sorted; with more than one, each keeps its own watermark (state.ts). */
  readonly sources: readonly string[];
  /** What the partition's state holds (the checkpoint's `window` field). */
  readonly stateKind: StateKind;
  /** Grace period of the window, pattern or join, ms. */
  readonly grace: number;
  readonly emit: 'final' | 'changes';
  readonly columns: readonly string[];
  readonly where: Compiled | undefined;
  readonly keyFns: readonly Compiled[];
  readonly aggs: readonly Aggregate[];
  /** Argument of each aggregate; undefined for count(*). */
  readonly argFns: readonly (Compiled | undefined)[];
  readonly select: readonly Compiled[];
  readonly having: Compiled | undefined;
  /** Columns named like a prototype member, written with defineProperty. */
  readonly unsafe: readonly boolean[];
  /** Whether SELECT or HAVING reads window_start (rows that do not need it skip formatting it). */
  readonly readsWindowStart: boolean;
  /** Wall-clock milliseconds without input after which a partition's watermark moves on. */
  readonly idleTimeout: number;
  readonly maxStateKeys: number;
  /** Identifies the query's semantics in checkpoints (SHA-256 of what shapes its state). */
  readonly fingerprint: string;
  /** See ids.ts. */
  readonly idPrefix: string;
}

export function buildPlan(
  checked: CheckedQuery,
  base: Pick<Plan, 'name' | 'namespace' | 'pipeline' | 'idleTimeout' | 'maxStateKeys' | 'fingerprint'>,
): Plan {
  const groupSlots = new Map<string, number>();
  checked.groupBy.forEach((g, i) => {
    const key = exprKey(g);
    if (!groupSlots.has(key)) groupSlots.set(key, i);
  });
  const aggregateSlots = new Map(checked.aggregates.map((a, i) => [a.key, i]));
  // Rows read keys and aggregates through the scope; a field outside both (allowed in SLIDING
  // queries only) reads the event the row is for.
  // Patterns and joins read bound events (and compute a pattern's aggregates) in the row itself.
  const bound = checked.pattern !== undefined || checked.join !== undefined;
  const partitionSlots = new Map((checked.pattern?.partitionBy ?? []).map((e, i) => [exprKey(e), i]));
  const scope = checked.pattern
    ? { groupSlots: partitionSlots }
    : bound
      ? {}
      : { groupSlots, aggregateSlots };
  const stateKind: StateKind = checked.pattern
    ? 'pattern'
    : checked.join
      ? checked.join.kind === 'interval'
        ? 'interval-join'
        : 'lookup-join'
      : (checked.window?.kind ?? 'none');
  const plan: Plan = {
    ...base,
    idPrefix: idPrefixOf(base.namespace, base.pipeline, base.name),
    window: checked.window,
    pattern: checked.pattern ? buildPatternPlan(checked.pattern) : undefined,
    join: checked.join ? buildJoinPlan(checked.join, checked.where) : undefined,
    sources: [...checked.sources].sort(),
    stateKind,
    grace: checked.window?.grace ?? checked.pattern?.grace ?? checked.join?.grace ?? 0,
    emit: checked.emit,
    columns: checked.columns,
    where: checked.where && !bound ? compileExpr(checked.where) : undefined,
    keyFns: (checked.pattern?.partitionBy ?? checked.groupBy).map((g) => compileExpr(g)),
    aggs: bound ? [] : checked.aggregates.map(aggregateFor),
    argFns: bound ? [] : checked.aggregates.map((a) => (a.arg ? compileExpr(a.arg) : undefined)),
    select: checked.items.map((e) => compileExpr(e, scope)),
    having: checked.having ? compileExpr(checked.having, scope) : undefined,
    unsafe: checked.columns.map((c) => isInheritedName(c)),
    readsWindowStart: [...checked.items, ...(checked.having ? [checked.having] : [])].some(readsWindowStart),
  };
  return plan;
}

function readsWindowStart(e: Expr): boolean {
  if (isWindowColumn(e) && e.type === 'field' && e.root === 'window_start') return true;
  return children(e).some(readsWindowStart);
}

/** Normalises a GROUP BY value: NULL is null and -0 is 0, so equal keys are one group. */
export function keyValue(v: Value): Value {
  return v === undefined ? null : v === 0 ? 0 : v;
}

/** Partition key text: canonical JSON of the GROUP BY values, or '' without GROUP BY. */
export function keyTextOf(values: readonly Value[]): string {
  if (values.length === 0) return '';
  if (values.length === 1) return `[${canonicalJson(values[0])}]`;
  return canonicalJson(values);
}

/** True when WHERE accepts the event in `ctx.ev` (or there is no WHERE). */
export function accepts(plan: Plan, ctx: RowContext): boolean {
  return plan.where === undefined || plan.where(ctx) === true;
}

/** The GROUP BY values of the event in `ctx.ev`. */
export function keyValuesOf(plan: Plan, ctx: RowContext): Value[] {
  return plan.keyFns.map((f) => keyValue(f(ctx)));
}

/**
 * The row of a group as a `data` object, or undefined when HAVING rejects it. `ctx` holds the
 * keys, aggregate results and window bounds. Columns are own data properties even when named
 * like a prototype member (`__proto__` included).
 */
export function buildRow(plan: Plan, ctx: RowContext): Record<string, unknown> | undefined {
  if (plan.having && plan.having(ctx) !== true) return undefined;
  const data: Record<string, unknown> = {};
  const cols = plan.columns;
  for (let i = 0; i < cols.length; i++) {
    const v = plan.select[i]!(ctx);
    const value = v === undefined ? null : v;
    if (plan.unsafe[i])
      Object.defineProperty(data, cols[i]!, { value, enumerable: true, writable: true, configurable: true });
    else data[cols[i]!] = value;
  }
  return data;
}
