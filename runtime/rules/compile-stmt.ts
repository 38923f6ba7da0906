// Compiles the statements of a `then` to closures: assignments into the event and the actions
// (Route, Drop, DeadLetter, Retract, Complete, Log…). Statement closures throw EvalFailure on a
// run-time error; the engine dead-letters the event with the rule name and the message.
import type { AssignOp, Expr, Statement } from './ast.js';
import { READ_ONLY_ATTRIBUTES } from './checker.js';
import { compileExpr, type Compiled, type EventObject } from './compile-expr.js';
import { EvalFailure, fail } from './errors.js';
import {
  add,
  div,
  formatValue,
  getField,
  getIndex,
  isInheritedName,
  mul,
  setField,
  setIndex,
  sub,
  toStored,
  typeName,
  type Value,
} from './values.js';

/** What the statements of a `then` may do to the evaluation; one instance per CompiledRules. */
export interface ActionSink {
  route(output: number): void;
  drop(): void;
  deadLetter(reason: string): void;
  retract(ruleName: string): void;
  complete(): void;
  log(message: string): void;
}

export type CompiledStatement = (e: EventObject, sink: ActionSink) => void;

function describeTarget(target: Expr): string {
  switch (target.type) {
    case 'var':
      return target.name;
    case 'member':
      return `${describeTarget(target.object)}.${target.name}`;
    case 'index':
      return `${describeTarget(target.object)}[…]`;
    default:
      return 'value';
  }
}

const COMBINE: Record<Exclude<AssignOp, '='>, (a: Value, b: Value) => Value> = {
  '+=': add,
  '-=': sub,
  '*=': mul,
  '/=': div,
};

/** Go's fmt verbs for LogFormat's single argument; every verb prints the value plainly. */
function logFormat(format: string, v: Value): string {
  let used = false;
  return format.replace(/%(%|[-+# 0]*\d*(?:\.\d+)?[vTtbcdoOqxXUeEfFgGsp])/g, (m, verb: string) => {
    if (verb === '%') return '%';
    if (used) return '%!(MISSING)';
    used = true;
    return formatValue(v);
  });
}

/** CloudEvents context attributes that are strings; `data` takes any JSON. */
const STRING_ATTRIBUTES = new Set(['type', 'source', 'subject', 'time', 'datacontenttype', 'dataschema']);

/**
 * A value stored into a top-level attribute must keep the event a valid CloudEvent: the string
 * attributes take strings, extensions take strings, booleans or integers (CloudEvents' JSON types).
 */
function checkAttribute(name: string, v: Value): void {
  if (name === 'data') return;
  if (STRING_ATTRIBUTES.has(name)) {
    if (typeof v !== 'string') fail(`event.${name} must be a string, got ${typeName(v)}`);
    return;
  }
  if (typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isInteger(v)))
    return;
  fail(`extension event.${name} must be a string, boolean or integer, got ${formatValue(v)}`);
}

function compileAssign(s: Extract<Statement, { type: 'assign' }>): CompiledStatement {
  const target = s.target;
  if (target.type !== 'member' && target.type !== 'index') return () => fail('cannot assign to event itself');
  const path = describeTarget(target);
  const parent = compileExpr(target.object);
  const value = compileExpr(s.value);
  const combine = s.op === '=' ? undefined : COMBINE[s.op];
  const isRoot = target.object.type === 'var';

  if (target.type === 'member') {
    const key = target.name;
    if (!isRoot && !combine && !isInheritedName(key)) {
      // The common `event.data.tier = "gold"`: a plain store, since no prototype has a setter by
      // this name; anything but a map as the parent still goes through setField's error.
      return (e) => {
        const p = parent(e);
        const v = toStored(value(e));
        if (typeof p === 'object' && p !== null && !Array.isArray(p) && !(p instanceof Date)) {
          (p as Record<string, Value>)[key] = v;
        } else {
          setField(p, key, v, path);
        }
      };
    }
    return (e) => {
      const p = parent(e);
      const v = toStored(combine ? combine(getField(p, key), value(e)) : value(e));
      if (isRoot) checkAttribute(key, v);
      setField(p, key, v, path);
    };
  }
  const index: Compiled = compileExpr(target.index);
  return (e) => {
    const p = parent(e);
    const k = index(e);
    if (isRoot && typeof k === 'string' && READ_ONLY_ATTRIBUTES.has(k)) fail(`event.${k} is read-only`);
    const v = toStored(combine ? combine(getIndex(p, k), value(e)) : value(e));
    if (isRoot && typeof k === 'string') checkAttribute(k, v);
    setIndex(p, k, v, path);
  };
}

function compileAction(
  call: Extract<Expr, { type: 'call' }>,
  outputIndex: ReadonlyMap<string, number>,
): CompiledStatement {
  const args = call.args.map((a) => compileExpr(a));
  const [a0, a1] = args;
  switch (call.name) {
    case 'Route': {
      const arg = call.args[0]!;
      const name = arg.type === 'literal' && arg.literal.kind === 'string' ? arg.literal.value : '';
      const idx = outputIndex.get(name);
      if (idx === undefined) return () => fail(`Route("${name}"): no such output`);
      return (_e, sink) => sink.route(idx);
    }
    case 'Drop':
      return (_e, sink) => sink.drop();
    case 'DeadLetter':
      return (e, sink) => sink.deadLetter(a0 ? formatValue(a0(e)) : 'DeadLetter() called');
    case 'Retract':
      return (e, sink) => {
        const name = a0!(e);
        if (typeof name !== 'string') fail(`Retract() needs a rule name string, got ${formatValue(name)}`);
        sink.retract(name);
      };
    case 'Complete':
      return (_e, sink) => sink.complete();
    case 'Changed':
    case 'Forget':
      // Grule uses these to clear its expression cache; ours tracks what each rule writes instead.
      return (e) => {
        a0!(e);
      };
    case 'Log':
      return (e, sink) => sink.log(formatValue(a0!(e)));
    case 'LogFormat':
      return (e, sink) => {
        const format = a0!(e);
        if (typeof format !== 'string') fail('LogFormat() needs a format string');
        sink.log(logFormat(format, a1!(e)));
      };
    default:
      return () => fail(`unknown action ${call.name}()`);
  }
}

export function compileStatement(
  s: Statement,
  outputIndex: ReadonlyMap<string, number>,
  isAction: (name: string) => boolean,
): CompiledStatement {
  const inner =
    s.type === 'assign'
      ? compileAssign(s)
      : s.expr.type === 'call' && isAction(s.expr.name)
        ? compileAction(s.expr, outputIndex)
        : ((): CompiledStatement => {
            const f = compileExpr(s.expr);
            return (e) => {
              f(e);
            };
          })();
  const where = `line ${s.line}, column ${s.column}`;
  return (e, sink) => {
    try {
      inner(e, sink);
    } catch (err) {
      const message =
        err instanceof EvalFailure ? err.message : err instanceof Error ? err.message : String(err);
      throw new EvalFailure(`${where}: ${message}`);
    }
  };
}
