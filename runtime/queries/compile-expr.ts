// Compiles checked expressions to JavaScript closures, once per query. No user text is ever
// evaluated: every node becomes a closure over our own operator functions. Field reads see own
// properties of JSON objects only (see values.ts), with a plain property read where the name
// cannot be inherited from any built-in prototype, which is both safe and fast.
import { aggregateFor } from './aggregates.js';
import type { BinaryOp, Expr, FieldBinding } from './ast.js';
import { exprKey, isWindowColumn } from './expr-tree.js';
import { SCALARS } from './functions.js';
import { compileLike, likeFor } from './like.js';
import { isInheritedName } from '../rules/values.js';
import { element, finite, isNull, ownField, sqlCompare, sqlEquals, toText, type Value } from './values.js';

/** What an expression is evaluated against; one is reused for every evaluation. */
export interface RowContext {
  /** The event: the one being added, or for SLIDING rows the event the row is for. */
  ev: Record<string, unknown>;
  /** Values of the GROUP BY expressions of the group the row is for. */
  keys: Value[];
  /** Results of the query's aggregates, in CheckedQuery.aggregates order. */
  aggs: Value[];
  /** Window bounds as RFC 3339 text. */
  ws: string | null;
  we: string | null;
  /**
   * Events bound to pattern variables and join sides, by slot: the events a variable matched, or
   * a join side's one event or table row. Empty outside patterns and joins.
   */
  bound: (readonly BoundEvent[] | undefined)[];
}

/** An event bound to a variable or join side, with its order (time, seq, source). */
export interface BoundEvent {
  ev: Record<string, unknown>;
  t: number;
  seq: number;
  src: string;
}

export type Compiled = (c: RowContext) => Value;

export function newRowContext(): RowContext {
  return { ev: {}, keys: [], aggs: [], ws: null, we: null, bound: [] };
}

/**
 * Where grouped values come from when an expression is evaluated for a group's row: a
 * sub-expression equal to a GROUP BY expression reads the group's key, an aggregate call reads
 * its result. Without a scope, every field reads the event.
 */
export interface Scope {
  groupSlots?: ReadonlyMap<string, number>;
  aggregateSlots?: ReadonlyMap<string, number>;
}

type Step = (o: Value) => Value;

function step(segment: string | number): Step {
  if (typeof segment === 'number') return (o) => element(o, segment);
  if (isInheritedName(segment) || /^\d+$/.test(segment)) return (o) => ownField(o, segment);
  // No built-in prototype has this name, so a plain read cannot reach one.
  return (o) => (typeof o === 'object' && o !== null ? (o as Record<string, Value>)[segment] : undefined);
}

function compileField(segments: (string | number)[]): Compiled {
  const steps = segments.map(step);
  const fast = segments.every((s) => typeof s === 'string' && !isInheritedName(s) && !/^\d+$/.test(s));
  if (fast && segments.length === 1) {
    const k0 = segments[0] as string;
    return (c) => c.ev[k0];
  }
  if (fast && segments.length === 2) {
    const [k0, k1] = segments as [string, string];
    return (c) => {
      const a = c.ev[k0];
      return typeof a === 'object' && a !== null ? (a as Record<string, Value>)[k1] : undefined;
    };
  }
  return (c) => {
    let v: Value = c.ev;
    for (const s of steps) v = s(v);
    return v;
  };
}

const num = (v: Value): v is number => typeof v === 'number';

const ARITHMETIC: Partial<Record<BinaryOp, (a: number, b: number) => number | null>> = {
  '+': (a, b) => finite(a + b),
  '-': (a, b) => finite(a - b),
  '*': (a, b) => finite(a * b),
  '/': (a, b) => (b === 0 ? null : finite(a / b)),
  '%': (a, b) => (b === 0 ? null : finite(a % b)),
};

const ORDERING: Partial<Record<BinaryOp, (cmp: number) => boolean>> = {
  '<': (c) => c < 0,
  '<=': (c) => c <= 0,
  '>': (c) => c > 0,
  '>=': (c) => c >= 0,
};

function compileBinary(op: BinaryOp, l: Compiled, r: Compiled): Compiled {
  switch (op) {
    case 'and':
      return (c) => {
        const a = l(c);
        if (a === false) return false;
        const b = r(c);
        if (b === false) return false;
        return a === true && b === true ? true : null;
      };
    case 'or':
      return (c) => {
        const a = l(c);
        if (a === true) return true;
        const b = r(c);
        if (b === true) return true;
        return a === false && b === false ? false : null;
      };
    case '=':
      return (c) => sqlEquals(l(c), r(c));
    case '<>':
      return (c) => {
        const eq = sqlEquals(l(c), r(c));
        return eq === null ? null : !eq;
      };
    case '||':
      return (c) => {
        const a = l(c);
        const b = r(c);
        return isNull(a) || isNull(b) ? null : toText(a) + toText(b);
      };
  }
  const arith = ARITHMETIC[op];
  if (arith) {
    return (c) => {
      const a = l(c);
      const b = r(c);
      return num(a) && num(b) ? arith(a, b) : null;
    };
  }
  const test = ORDERING[op]!;
  return (c) => {
    const cmp = sqlCompare(l(c), r(c));
    return cmp === null ? null : test(cmp);
  };
}

export function compileExpr(e: Expr, scope: Scope = {}): Compiled {
  const slot = scope.groupSlots?.get(exprKey(e));
  if (slot !== undefined) return (c) => c.keys[slot];
  const sub = (x: Expr): Compiled => compileExpr(x, scope);
  switch (e.type) {
    case 'literal': {
      const v = e.value;
      return () => v;
    }
    case 'field':
      if (e.bind) return compileBound([e.root, ...e.path], e.bind);
      if (isWindowColumn(e)) return e.root === 'window_start' ? (c) => c.ws : (c) => c.we;
      return compileField([e.root, ...e.path]);
    case 'not': {
      const f = sub(e.operand);
      return (c) => {
        const v = f(c);
        return v === true ? false : v === false ? true : null;
      };
    }
    case 'neg': {
      const f = sub(e.operand);
      return (c) => {
        const v = f(c);
        return num(v) ? (v === 0 ? 0 : -v) : null;
      };
    }
    case 'binary':
      return compileBinary(e.op, sub(e.left), sub(e.right));
    case 'isnull': {
      const f = sub(e.operand);
      return e.negated ? (c) => !isNull(f(c)) : (c) => isNull(f(c));
    }
    case 'in':
      return compileIn(sub(e.operand), e.list.map(sub), e.negated);
    case 'like':
      return compileLikeExpr(e, sub);
    case 'case':
      return compileCase(e, sub);
    case 'call': {
      const aggregate = scope.aggregateSlots?.get(exprKey(e));
      if (aggregate !== undefined) return (c) => c.aggs[aggregate];
      if (e.over !== undefined) return compileBoundAggregate(e, e.over, sub);
      const fn = SCALARS[e.name]!.fn;
      const args = e.args.map(sub);
      if (args.length === 1) {
        const a0 = args[0]!;
        return (c) => fn([a0(c)]);
      }
      return (c) => fn(args.map((a) => a(c)));
    }
  }
}

/** A field of a bound event or row; a bare variable (count(f)) reads TRUE when it has an event. */
function compileBound(segments: (string | number)[], b: FieldBinding): Compiled {
  const slot = b.slot;
  const index = b.index;
  const pick = (l: readonly BoundEvent[] | undefined): BoundEvent | undefined =>
    l === undefined ? undefined : index === undefined ? l[0] : index < 0 ? l[l.length - 1] : l[index];
  if (segments[0] === '') return (c) => (pick(c.bound[slot]) ? true : null);
  const read = compileField(segments);
  const scratch = newRowContext();
  return (c) => {
    const m = pick(c.bound[slot]);
    if (m === undefined) return null;
    scratch.ev = m.ev;
    return read(scratch);
  };
}

/** An aggregate over the events of one pattern variable, computed when the row is built. */
function compileBoundAggregate(
  e: Extract<Expr, { type: 'call' }>,
  slot: number,
  sub: (x: Expr) => Compiled,
): Compiled {
  const agg = aggregateFor({ name: e.name as never, star: false, distinct: e.distinct, key: '' });
  const arg = sub(e.args[0]!);
  return (c) => {
    const list = c.bound[slot] ?? [];
    let acc = agg.create();
    for (const m of list) {
      c.bound[slot] = [m];
      acc = agg.add(acc, arg(c), m.t, m.seq, m.src);
    }
    c.bound[slot] = list;
    return agg.result(acc);
  };
}

function compileIn(operand: Compiled, list: Compiled[], negated: boolean): Compiled {
  return (c) => {
    const v = operand(c);
    if (isNull(v)) return null;
    let sawNull = false;
    for (const item of list) {
      const eq = sqlEquals(v, item(c));
      if (eq === true) return !negated;
      if (eq === null) sawNull = true;
    }
    return sawNull ? null : negated;
  };
}

function compileLikeExpr(e: Extract<Expr, { type: 'like' }>, sub: (x: Expr) => Compiled): Compiled {
  const operand = sub(e.operand);
  const negated = e.negated;
  if (e.pattern.type === 'literal' && typeof e.pattern.value === 'string') {
    const match = compileLike(e.pattern.value);
    return (c) => {
      const v = operand(c);
      return typeof v === 'string' ? match(v) !== negated : null;
    };
  }
  const pattern = sub(e.pattern);
  return (c) => {
    const v = operand(c);
    const p = pattern(c);
    return typeof v === 'string' && typeof p === 'string' ? likeFor(p)(v) !== negated : null;
  };
}

function compileCase(e: Extract<Expr, { type: 'case' }>, sub: (x: Expr) => Compiled): Compiled {
  const whens = e.whens.map((w) => ({ when: sub(w.when), then: sub(w.then) }));
  const otherwise = e.otherwise ? sub(e.otherwise) : () => null;
  if (e.subject) {
    const subject = sub(e.subject);
    return (c) => {
      const s = subject(c);
      for (const w of whens) if (sqlEquals(s, w.when(c)) === true) return w.then(c);
      return otherwise(c);
    };
  }
  return (c) => {
    for (const w of whens) if (w.when(c) === true) return w.then(c);
    return otherwise(c);
  };
}
