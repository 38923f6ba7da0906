// The compiled form of a join: key expressions per side, the rest of ON, WHERE. Both sides of an
// interval join are partitioned by their key, so equal keys meet in one partition. Built once.
import type { Expr } from './ast.js';
import type { JoinSpec } from './check-from.js';
import {
  compileExpr,
  newRowContext,
  type BoundEvent,
  type Compiled,
  type RowContext,
} from './compile-expr.js';
import { keyTextOf, keyValue } from './plan.js';
import type { QueryInput } from './types.js';
import type { Value } from './values.js';

export interface JoinPlan {
  kind: 'interval' | 'lookup';
  left: boolean;
  leftSource: string;
  right: string;
  within: number;
  leftKeys: Compiled[];
  rightKeys: Compiled[];
  residual: Compiled | undefined;
  where: Compiled | undefined;
}

export function buildJoinPlan(j: JoinSpec, where: Expr | undefined): JoinPlan {
  return {
    kind: j.kind,
    left: j.left,
    leftSource: j.leftSource,
    right: j.right,
    within: j.within,
    leftKeys: j.leftKeys.map((e) => compileExpr(e)),
    rightKeys: j.kind === 'interval' ? j.rightKeys.map((e) => compileExpr(e)) : [],
    residual: j.residual ? compileExpr(j.residual) : undefined,
    where: where ? compileExpr(where) : undefined,
  };
}

export function boundOf(input: QueryInput, t: number): BoundEvent {
  return { ev: input.event, t, seq: input.seq, src: input.source };
}

/**
 * The key values of a bound event on its side (slot 0: left, 1: right), or undefined when one is
 * NULL — a NULL key equals nothing.
 */
export function joinKeyValues(
  fns: readonly Compiled[],
  slot: number,
  b: BoundEvent,
  ctx: RowContext,
): Value[] | undefined {
  ctx.bound = slot === 0 ? [[b]] : [undefined, [b]];
  const values: Value[] = [];
  for (const f of fns) {
    const v = keyValue(f(ctx));
    if (v === null) return undefined;
    values.push(v);
  }
  ctx.bound = [];
  return values;
}

/** The partition key text of an input of a join query (joins are keyed by their ON equalities). */
export function joinKeyOf(p: JoinPlan, input: QueryInput): string | undefined {
  const ctx = newRowContext();
  const b = boundOf(input, 0);
  if (p.kind === 'lookup') return '';
  const values =
    input.source === p.leftSource
      ? joinKeyValues(p.leftKeys, 0, b, ctx)
      : input.source === p.right
        ? joinKeyValues(p.rightKeys, 1, b, ctx)
        : undefined;
  // A left row with a NULL key still gives a row in a LEFT join; it goes to the empty key.
  if (values === undefined) return input.source === p.leftSource && p.left ? '' : undefined;
  return keyTextOf(values);
}
