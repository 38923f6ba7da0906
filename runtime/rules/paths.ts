// Which parts of the event a `when` reads and a `then` writes, as paths from `event` ('*' for a
// segment computed at run time). The engine uses this to re-evaluate, after a rule fires, only the
// conditions that rule could have changed — Grule re-evaluates every condition every cycle; with
// side-effect-free conditions and no aliasing (stored values are copies) the result is the same.
import type { Expr, RuleNode, Statement } from './ast.js';
import { lookupFunction } from './functions.js';
import { lookupMethod } from './methods.js';

export type Path = string[];
const ANY = '*';

/** The event path an expression denotes, or undefined when it is a computed value. */
export function pathOf(expr: Expr): Path | undefined {
  switch (expr.type) {
    case 'var':
      return expr.name === 'event' ? [] : undefined;
    case 'member': {
      const base = pathOf(expr.object);
      return base && [...base, expr.name];
    }
    case 'index': {
      const base = pathOf(expr.object);
      if (!base) return undefined;
      const lit = expr.index.type === 'literal' ? expr.index.literal : undefined;
      const seg = lit && (lit.kind === 'string' || lit.kind === 'int') ? String(lit.value) : ANY;
      return [...base, seg];
    }
    case 'method':
      // Append returns its receiver, so a chained Append still names the same array.
      return lookupMethod(expr.name)?.mutates ? pathOf(expr.object) : undefined;
    default:
      return undefined;
  }
}

function collectReads(expr: Expr, out: Path[]): void {
  const p = pathOf(expr);
  if (p && expr.type !== 'method') {
    out.push(p);
    // Indexes inside the path are reads of their own.
    for (let e: Expr = expr; e.type === 'member' || e.type === 'index'; e = e.object) {
      if (e.type === 'index') collectReads(e.index, out);
    }
    return;
  }
  switch (expr.type) {
    case 'member':
      collectReads(expr.object, out);
      return;
    case 'index':
      collectReads(expr.object, out);
      collectReads(expr.index, out);
      return;
    case 'call':
      expr.args.forEach((a) => collectReads(a, out));
      return;
    case 'method':
      collectReads(expr.object, out);
      expr.args.forEach((a) => collectReads(a, out));
      return;
    case 'not':
      collectReads(expr.operand, out);
      return;
    case 'binary':
      collectReads(expr.left, out);
      collectReads(expr.right, out);
      return;
    default:
      return;
  }
}

export function readsOf(expr: Expr): Path[] {
  const out: Path[] = [];
  collectReads(expr, out);
  return out;
}

function collectWrites(expr: Expr, out: Path[]): void {
  switch (expr.type) {
    case 'method': {
      if (lookupMethod(expr.name)?.mutates) {
        const p = pathOf(expr.object);
        if (p) out.push(p);
      }
      collectWrites(expr.object, out);
      expr.args.forEach((a) => collectWrites(a, out));
      return;
    }
    case 'member':
      collectWrites(expr.object, out);
      return;
    case 'index':
      collectWrites(expr.object, out);
      collectWrites(expr.index, out);
      return;
    case 'call':
      expr.args.forEach((a) => collectWrites(a, out));
      return;
    case 'not':
      collectWrites(expr.operand, out);
      return;
    case 'binary':
      collectWrites(expr.left, out);
      collectWrites(expr.right, out);
      return;
    default:
      return;
  }
}

export function writesOf(statements: Statement[]): Path[] {
  const out: Path[] = [];
  for (const s of statements) {
    if (s.type === 'assign') {
      const p = pathOf(s.target);
      if (p) out.push(p);
      collectWrites(s.target, out);
      collectWrites(s.value, out);
    } else {
      collectWrites(s.expr, out);
    }
  }
  return out;
}

/** True when the expression calls a function whose result changes over time (Now). */
export function isVolatile(expr: Expr): boolean {
  switch (expr.type) {
    case 'call':
      return Boolean(lookupFunction(expr.name)?.volatile) || expr.args.some(isVolatile);
    case 'method':
      return isVolatile(expr.object) || expr.args.some(isVolatile);
    case 'member':
      return isVolatile(expr.object);
    case 'index':
      return isVolatile(expr.object) || isVolatile(expr.index);
    case 'not':
      return isVolatile(expr.operand);
    case 'binary':
      return isVolatile(expr.left) || isVolatile(expr.right);
    default:
      return false;
  }
}

/** Two paths overlap when one is a prefix of the other, '*' matching any segment. */
export function overlaps(a: Path, b: Path): boolean {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i] && a[i] !== ANY && b[i] !== ANY) return false;
  }
  return true;
}

/**
 * Finds which owners (rules, cache slots) read a path that overlaps a written path, without
 * comparing every write with every read: reads are filed under their first two segments, and a
 * write only looks at reads filed under its own, plus the few reads that are shorter or wild.
 */
export class ReadIndex {
  private readonly keyed = new Map<string, { owner: number; path: Path }[]>();
  private readonly loose: { owner: number; path: Path }[] = [];

  add(owner: number, paths: Path[]): void {
    for (const path of paths) {
      const entry = { owner, path };
      if (path.length >= 2 && path[0] !== ANY && path[1] !== ANY) {
        const key = `${path[0]}\u0000${path[1]}`;
        const list = this.keyed.get(key);
        if (list) list.push(entry);
        else this.keyed.set(key, [entry]);
      } else {
        this.loose.push(entry);
      }
    }
  }

  /** Owners with a read overlapping one of `writes`, ascending. */
  affectedBy(writes: Path[]): number[] {
    const out = new Set<number>();
    const check = (entries: Iterable<{ owner: number; path: Path }>, w: Path): void => {
      for (const { owner, path } of entries) if (!out.has(owner) && overlaps(path, w)) out.add(owner);
    };
    for (const w of writes) {
      check(this.loose, w);
      if (w.length >= 2 && w[0] !== ANY && w[1] !== ANY) {
        check(this.keyed.get(`${w[0]}\u0000${w[1]}`) ?? [], w);
      } else {
        for (const list of this.keyed.values()) check(list, w);
      }
    }
    return [...out].sort((a, b) => a - b);
  }
}

/**
 * For each rule (by position in `rules`), the positions of the rules whose `when` may change when
 * it fires. A rule with no writes invalidates nothing.
 */
export function invalidationMap(rules: RuleNode[]): number[][] {
  const index = new ReadIndex();
  rules.forEach((r, i) => index.add(i, readsOf(r.when)));
  return rules.map((r) => {
    const writes = writesOf(r.then);
    return writes.length === 0 ? [] : index.affectedBy(writes);
  });
}
