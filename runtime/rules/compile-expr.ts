// Compiles checked GRL expressions to JavaScript closures, once per rule set. No user text is ever
// evaluated: every node becomes a closure over our own operator functions. Field reads go through
// getField/getIndex (own properties of JSON objects only) unless the field name cannot be inherited
// from any built-in prototype, in which case a plain property read is both safe and fast.
import type { BinaryOp, Expr } from './ast.js';
import { fail } from './errors.js';
import { lookupFunction } from './functions.js';
import { lookupMethod } from './methods.js';
import type { Compiled, EventObject } from './compiled.js';
import type { ConditionCache } from './expr-cache.js';
import { staticPath } from './static-path.js';
import { compileRegex } from './safe-regex.js';
import {
  add,
  bitAnd,
  bitOr,
  div,
  equals,
  getField,
  getIndex,
  isInheritedName,
  mod,
  mul,
  order,
  sub,
  truthy,
  typeName,
  type Value,
} from './values.js';

export type { Compiled, EventObject } from './compiled.js';
export { staticPath } from './static-path.js';

type Step = (o: Value) => Value;

/** One step of a path: a field that no prototype has, any other field, or an array index. */
function step(segment: string | number): Step {
  if (typeof segment === 'number') {
    return (o) =>
      Array.isArray(o) && segment >= 0 && segment < o.length ? (o[segment] as Value) : undefined;
  }
  if (isInheritedName(segment)) return (o) => getField(o, segment);
  // No built-in prototype has this name, so a plain read of any object (array, Date) is safe.
  return (o) => (typeof o === 'object' && o !== null ? (o as Record<string, Value>)[segment] : undefined);
}

export function compilePath(segments: (string | number)[]): Compiled {
  if (segments.length === 0) return (e) => e;
  const allSafe = segments.every((s) => typeof s === 'string' && !isInheritedName(s));
  if (allSafe) {
    const keys = segments as string[];
    // Unrolled for the common depths: event.type, event.data.x, event.data.x.y.
    const [k0, k1, k2] = keys as [string, string, string];
    if (keys.length === 1) return (e) => e[k0];
    if (keys.length === 2) {
      return (e) => {
        const a = e[k0];
        return typeof a === 'object' && a !== null ? (a as Record<string, Value>)[k1] : undefined;
      };
    }
    if (keys.length === 3) {
      return (e) => {
        const a = e[k0];
        if (typeof a !== 'object' || a === null) return undefined;
        const b = (a as Record<string, Value>)[k1];
        return typeof b === 'object' && b !== null ? (b as Record<string, Value>)[k2] : undefined;
      };
    }
  }
  const steps = segments.map(step);
  if (steps.length === 1) return steps[0] as Compiled;
  if (steps.length === 2) {
    const [a, b] = steps as [Step, Step];
    return (e) => b(a(e));
  }
  if (steps.length === 3) {
    const [a, b, c] = steps as [Step, Step, Step];
    return (e) => c(b(a(e)));
  }
  if (steps.length === 4) {
    const [a, b, c, d] = steps as [Step, Step, Step, Step];
    return (e) => d(c(b(a(e))));
  }
  return (e) => {
    let v: Value = e;
    for (const f of steps) v = f(v);
    return v;
  };
}

const LITERAL_TYPES = new Set(['string', 'number', 'boolean']);

function literalValue(expr: Expr): Value {
  if (expr.type !== 'literal') return undefined;
  return expr.literal.kind === 'nil' ? undefined : expr.literal.value;
}

function isPrimitiveLiteral(expr: Expr): boolean {
  return expr.type === 'literal' && LITERAL_TYPES.has(typeof literalValue(expr));
}

function compileOrdering(
  op: '<' | '<=' | '>' | '>=',
  left: Expr,
  right: Expr,
  cache?: ConditionCache,
): Compiled {
  const l = compileExpr(left, cache);
  const r = compileExpr(right, cache);
  const test =
    op === '<'
      ? (d: number) => d < 0
      : op === '<='
        ? (d: number) => d <= 0
        : op === '>'
          ? (d: number) => d > 0
          : (d: number) => d >= 0;
  const k = literalValue(right);
  if (typeof k === 'number') {
    // The common `event.data.amount >= 1000`: a number compare, the general path otherwise.
    switch (op) {
      case '<':
        return (e) => {
          const a = l(e);
          return typeof a === 'number' ? a < k : test(order(a, k, op));
        };
      case '<=':
        return (e) => {
          const a = l(e);
          return typeof a === 'number' ? a <= k : test(order(a, k, op));
        };
      case '>':
        return (e) => {
          const a = l(e);
          return typeof a === 'number' ? a > k : test(order(a, k, op));
        };
      case '>=':
        return (e) => {
          const a = l(e);
          return typeof a === 'number' ? a >= k : test(order(a, k, op));
        };
    }
  }
  return (e) => test(order(l(e), r(e), op));
}

function compileBinary(op: BinaryOp, left: Expr, right: Expr, cache?: ConditionCache): Compiled {
  if (op === '==' || op === '!=') {
    const negate = op === '!=';
    // Against a string/number/bool literal, JSON equality is identity: no other value equals it.
    const lit = isPrimitiveLiteral(right) ? right : isPrimitiveLiteral(left) ? left : undefined;
    if (lit) {
      const k = literalValue(lit);
      const other = compileExpr(lit === right ? left : right, cache);
      return negate ? (e) => other(e) !== k : (e) => other(e) === k;
    }
    const l = compileExpr(left, cache);
    const r = compileExpr(right, cache);
    return negate ? (e) => !equals(l(e), r(e)) : (e) => equals(l(e), r(e));
  }
  if (op === '<' || op === '<=' || op === '>' || op === '>=') return compileOrdering(op, left, right, cache);
  if (op === '&&' || op === '||') {
    const terms = [...flatten(left, op), ...flatten(right, op)].map((t) => compileExpr(t, cache));
    return op === '&&' ? conjunction(terms) : disjunction(terms);
  }
  const l = compileExpr(left, cache);
  const r = compileExpr(right, cache);
  switch (op) {
    case '+':
      return (e) => {
        const a = l(e);
        const b = r(e);
        return typeof a === 'number' && typeof b === 'number' ? a + b : add(a, b);
      };
    case '-':
      return (e) => sub(l(e), r(e));
    case '*':
      return (e) => mul(l(e), r(e));
    case '/':
      return (e) => div(l(e), r(e));
    case '%':
      return (e) => mod(l(e), r(e));
    case '&':
      return (e) => bitAnd(l(e), r(e));
    case '|':
      return (e) => bitOr(l(e), r(e));
  }
}

/** The operands of a chain of the same logical operator: `a && b && c` → [a, b, c]. */
export function flatten(expr: Expr, op: '&&' | '||'): Expr[] {
  return expr.type === 'binary' && expr.op === op
    ? [...flatten(expr.left, op), ...flatten(expr.right, op)]
    : [expr];
}

const isTrue = (v: Value, op: string): boolean => (v === true ? true : v === false ? false : truthy(v, op));

// Unrolled for the common lengths: one closure per chain instead of one per operator.
function conjunction(t: Compiled[]): Compiled {
  const [a, b, c, d] = t as [Compiled, Compiled, Compiled, Compiled];
  switch (t.length) {
    case 2:
      return (e) => isTrue(a(e), '&&') && isTrue(b(e), '&&');
    case 3:
      return (e) => isTrue(a(e), '&&') && isTrue(b(e), '&&') && isTrue(c(e), '&&');
    case 4:
      return (e) => isTrue(a(e), '&&') && isTrue(b(e), '&&') && isTrue(c(e), '&&') && isTrue(d(e), '&&');
    default:
      return (e) => {
        for (const f of t) if (!isTrue(f(e), '&&')) return false;
        return true;
      };
  }
}

function disjunction(t: Compiled[]): Compiled {
  const [a, b, c] = t as [Compiled, Compiled, Compiled];
  switch (t.length) {
    case 2:
      return (e) => isTrue(a(e), '||') || isTrue(b(e), '||');
    case 3:
      return (e) => isTrue(a(e), '||') || isTrue(b(e), '||') || isTrue(c(e), '||');
    default:
      return (e) => {
        for (const f of t) if (isTrue(f(e), '||')) return true;
        return false;
      };
  }
}

function compileArgs(args: Expr[], cache?: ConditionCache): (e: EventObject) => Value[] {
  const fns = args.map((a) => compileExpr(a, cache));
  if (fns.length === 0) return () => [];
  if (fns.length === 1) {
    const [a] = fns as [Compiled];
    return (e) => [a(e)];
  }
  return (e) => fns.map((f) => f(e));
}

/**
 * Compiles an expression. With a cache (conditions only), tests and calls that occur in several
 * places are interned, so identical tests across rules are evaluated once per event.
 */
export function compileExpr(expr: Expr, cache?: ConditionCache): Compiled {
  return cache?.shouldCache(expr)
    ? cache.intern(expr, () => compileNode(expr, cache))
    : compileNode(expr, cache);
}

function compileNode(expr: Expr, cache: ConditionCache | undefined): Compiled {
  switch (expr.type) {
    case 'literal': {
      const v = literalValue(expr);
      return () => v;
    }
    case 'var':
      // The checker admits only `event`.
      return (e) => e;
    case 'member':
    case 'index': {
      const segments = staticPath(expr);
      if (segments) return compilePath(segments);
      const obj = compileExpr(expr.object, cache);
      if (expr.type === 'member') {
        const key = expr.name;
        return (e) => getField(obj(e), key);
      }
      const idx = compileExpr(expr.index, cache);
      return (e) => getIndex(obj(e), idx(e));
    }
    case 'not': {
      const operand = compileExpr(expr.operand, cache);
      return (e) => !truthy(operand(e), '!');
    }
    case 'binary':
      return compileBinary(expr.op, expr.left, expr.right, cache);
    case 'call': {
      const fn = lookupFunction(expr.name);
      const impl = fn?.impl;
      if (!impl) return () => fail(`${expr.name}() cannot be used as a value`);
      const args = compileArgs(expr.args, cache);
      return (e) => impl(args(e));
    }
    case 'method': {
      const m = lookupMethod(expr.name);
      if (!m) return () => fail(`unknown method ${expr.name}()`);
      const recv = compileExpr(expr.object, cache);
      const { call0, call1 } = m;
      if (expr.args.length === 0 && call0) return (e) => call0(recv(e));
      if (expr.name === 'In' && expr.args.every((a) => a.type === 'literal' && a.literal.kind === 'string')) {
        // `s.In("a", "b")` with literal options: one set lookup.
        const options = new Set(expr.args.map(literalValue));
        return (e) => {
          const s = recv(e);
          if (typeof s !== 'string') fail(`In() is a string method, called on ${typeName(s)}`);
          return options.has(s);
        };
      }
      if (expr.args.length === 1 && call1 && expr.name !== 'MatchString') {
        const a0 = compileExpr(expr.args[0]!, cache);
        return (e) => call1(recv(e), a0(e));
      }
      const args = compileArgs(expr.args, cache);
      const impl = m.impl;
      const pattern = expr.name === 'MatchString' ? literalValue(expr.args[0]!) : undefined;
      if (typeof pattern === 'string') {
        const re = compileRegex(pattern);
        if (typeof re !== 'string') return (e) => impl(recv(e), [], re);
      }
      return (e) => impl(recv(e), args(e));
    }
  }
}

/**
 * Compiles a `when`. The engine counts only the boolean true as a match and treats a thrown
 * failure as "does not match" (its loop holds the try/catch, saving a call per condition).
 */
export function compileCondition(expr: Expr, cache?: ConditionCache): Compiled {
  return compileExpr(expr, cache);
}
