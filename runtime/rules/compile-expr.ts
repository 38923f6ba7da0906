// Compiles checked GRL expressions to JavaScript closures, once per rule set. No user text is ever
// evaluated: every node becomes a closure over our own operator functions. Field reads go through
// getField/getIndex (own properties of JSON objects only) unless the field name cannot be inherited
// from any built-in prototype, in which case a plain property read is both safe and fast.
import type { BinaryOp, Expr } from './ast.js';
import { fail } from './errors.js';
import { lookupFunction } from './functions.js';
import { lookupMethod } from './methods.js';
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
  type Value,
} from './values.js';

export type EventObject = Record<string, unknown>;
export type Compiled = (e: EventObject) => Value;

/** Reads one safe (never inherited) field: any non-object, arrays and Dates included, gives nil. */
function safeStep(key: string): (o: Value) => Value {
  return (o) => (typeof o === 'object' && o !== null ? (o as Record<string, Value>)[key] : undefined);
}

function literalKey(index: Expr): string | number | undefined {
  if (index.type !== 'literal') return undefined;
  const lit = index.literal;
  return lit.kind === 'string' || lit.kind === 'int' ? lit.value : undefined;
}

/** Static segments from `event`, when the whole path is fixed at compile time. */
function staticPath(expr: Expr): (string | number)[] | undefined {
  if (expr.type === 'var') return [];
  if (expr.type === 'member') {
    const base = staticPath(expr.object);
    return base && [...base, expr.name];
  }
  if (expr.type === 'index') {
    const base = staticPath(expr.object);
    const key = literalKey(expr.index);
    return base && key !== undefined ? [...base, key] : undefined;
  }
  return undefined;
}

function compilePath(segments: (string | number)[]): Compiled {
  const allSafe = segments.every((s) => typeof s === 'string' && !isInheritedName(s));
  if (allSafe) {
    const keys = segments as string[];
    // Unrolled for the common depths: event.type, event.data.x, event.data.x.y.
    if (keys.length === 0) return (e) => e;
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
    const steps = keys.map(safeStep);
    return (e) => {
      let v: Value = e;
      for (const step of steps) v = step(v);
      return v;
    };
  }
  return (e) => {
    let v: Value = e;
    for (const s of segments) v = typeof s === 'number' ? getIndex(v, s) : getField(v, s);
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

function compileOrdering(op: '<' | '<=' | '>' | '>=', left: Expr, right: Expr): Compiled {
  const l = compileExpr(left);
  const r = compileExpr(right);
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

function compileBinary(op: BinaryOp, left: Expr, right: Expr): Compiled {
  if (op === '==' || op === '!=') {
    const negate = op === '!=';
    // Against a string/number/bool literal, JSON equality is identity: no other value equals it.
    const lit = isPrimitiveLiteral(right) ? right : isPrimitiveLiteral(left) ? left : undefined;
    if (lit) {
      const k = literalValue(lit);
      const other = compileExpr(lit === right ? left : right);
      return negate ? (e) => other(e) !== k : (e) => other(e) === k;
    }
    const l = compileExpr(left);
    const r = compileExpr(right);
    return negate ? (e) => !equals(l(e), r(e)) : (e) => equals(l(e), r(e));
  }
  if (op === '<' || op === '<=' || op === '>' || op === '>=') return compileOrdering(op, left, right);
  const l = compileExpr(left);
  const r = compileExpr(right);
  switch (op) {
    case '&&':
      return (e) => truthy(l(e), '&&') && truthy(r(e), '&&');
    case '||':
      return (e) => truthy(l(e), '||') || truthy(r(e), '||');
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

function compileArgs(args: Expr[]): (e: EventObject) => Value[] {
  const fns = args.map(compileExpr);
  if (fns.length === 0) return () => [];
  if (fns.length === 1) {
    const [a] = fns as [Compiled];
    return (e) => [a(e)];
  }
  return (e) => fns.map((f) => f(e));
}

export function compileExpr(expr: Expr): Compiled {
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
      const obj = compileExpr(expr.object);
      if (expr.type === 'member') {
        const key = expr.name;
        return (e) => getField(obj(e), key);
      }
      const idx = compileExpr(expr.index);
      return (e) => getIndex(obj(e), idx(e));
    }
    case 'not': {
      const operand = compileExpr(expr.operand);
      return (e) => !truthy(operand(e), '!');
    }
    case 'binary':
      return compileBinary(expr.op, expr.left, expr.right);
    case 'call': {
      const fn = lookupFunction(expr.name);
      const impl = fn?.impl;
      if (!impl) return () => fail(`${expr.name}() cannot be used as a value`);
      const args = compileArgs(expr.args);
      return (e) => impl(args(e));
    }
    case 'method': {
      const m = lookupMethod(expr.name);
      if (!m) return () => fail(`unknown method ${expr.name}()`);
      const recv = compileExpr(expr.object);
      const args = compileArgs(expr.args);
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

/** Compiles a `when`: true only for the boolean true; any failure means "does not match". */
export function compileCondition(expr: Expr): (e: EventObject) => boolean {
  const f = compileExpr(expr);
  return (e) => {
    try {
      return f(e) === true;
    } catch {
      return false;
    }
  };
}
