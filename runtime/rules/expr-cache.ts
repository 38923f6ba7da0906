// Shared sub-expressions of conditions, evaluated once per event. Routing rules repeat the same
// field reads and tests (`event.type == "…"`, `event.data.amount`) across hundreds of rules; like
// Grule's working memory, we intern each distinct sub-expression and cache its value (or its
// failure) for the current event, until a `then` writes a field it reads. This keeps the cost of
// an event close to the number of distinct tests instead of the number of rules, and keeps the
// number of (polymorphic) property reads per event small.
import type { Expr } from './ast.js';
import type { Compiled } from './compiled.js';
import { staticPath } from './static-path.js';
import { isVolatile, readsOf, ReadIndex, type Path } from './paths.js';

const COMPARISONS = new Set(['==', '!=', '<', '<=', '>', '>=']);

/**
 * Tests, calls and deep field paths (three steps or more, such as `event.data.items[0].sku`) are
 * worth a cache slot; shorter paths and arithmetic cost less to redo than to look up.
 */
function isCacheable(e: Expr): boolean {
  if (e.type === 'member' || e.type === 'index') return (staticPath(e)?.length ?? 0) >= 3;
  return (
    (e.type === 'method' ||
      e.type === 'call' ||
      e.type === 'not' ||
      (e.type === 'binary' && COMPARISONS.has(e.op))) &&
    !isVolatile(e)
  );
}

function children(e: Expr): Expr[] {
  switch (e.type) {
    case 'member':
      return [e.object];
    case 'index':
      return [e.object, e.index];
    case 'call':
      return e.args;
    case 'method':
      return [e.object, ...e.args];
    case 'not':
      return [e.operand];
    case 'binary':
      return [e.left, e.right];
    default:
      return [];
  }
}

/** A structural key: equal for sub-expressions that always evaluate to the same value. */
export function exprKey(e: Expr): string {
  switch (e.type) {
    case 'literal':
      return e.literal.kind === 'nil' ? 'nil' : `${e.literal.kind}:${JSON.stringify(e.literal.value)}`;
    case 'var':
      return `$${e.name}`;
    case 'member':
      return `${exprKey(e.object)}.${JSON.stringify(e.name)}`;
    case 'index':
      return `${exprKey(e.object)}[${exprKey(e.index)}]`;
    case 'call':
      return `${e.name}(${e.args.map(exprKey).join(',')})`;
    case 'method':
      return `${exprKey(e.object)}.${e.name}(${e.args.map(exprKey).join(',')})`;
    case 'not':
      return `!(${exprKey(e.operand)})`;
    case 'binary':
      return `(${exprKey(e.left)}${e.op}${exprKey(e.right)})`;
  }
}

export class ConditionCache {
  private readonly uses = new Map<string, number>();
  /** Built on first use, after every condition has been compiled. */
  private readIndex: ReadIndex | undefined;
  private readonly slots = new Map<string, { slot: number; fn: Compiled; reads: Path[] }>();
  private readonly values: unknown[] = new Array<unknown>(16).fill(undefined);
  private generations = new Int32Array(16);
  private failed = new Uint8Array(16);
  private current = 1;

  /** Counts the cacheable sub-expressions of a condition; call for every condition first. */
  count(expr: Expr): void {
    if (isCacheable(expr)) {
      const key = exprKey(expr);
      this.uses.set(key, (this.uses.get(key) ?? 0) + 1);
    }
    children(expr).forEach((c) => this.count(c));
  }

  /**
   * Whether `expr` gets a slot: only tests that occur in more than one place. A test used once
   * gains nothing from a cache, because a condition is evaluated again only after a write that
   * would invalidate the slot anyway.
   */
  shouldCache(expr: Expr): boolean {
    return isCacheable(expr) && (this.uses.get(exprKey(expr)) ?? 0) > 1;
  }

  /** The cached closure for `expr`, compiling it with `compile` the first time it is seen. */
  intern(expr: Expr, compile: () => Compiled): Compiled {
    const key = exprKey(expr);
    const known = this.slots.get(key);
    if (known) return known.fn;
    const inner = compile();
    const slot = this.slots.size;
    this.grow(slot + 1);
    const fn = this.wrap(slot, inner);
    this.slots.set(key, { slot, fn, reads: readsOf(expr) });
    return fn;
  }

  private grow(size: number): void {
    if (size <= this.generations.length) return;
    const gens = new Int32Array(this.generations.length * 2);
    gens.set(this.generations);
    const failed = new Uint8Array(gens.length);
    failed.set(this.failed);
    this.generations = gens;
    this.failed = failed;
    while (this.values.length < gens.length) this.values.push(undefined);
  }

  private wrap(slot: number, inner: Compiled): Compiled {
    // `this` fields are read on every call (not captured) because grow() replaces the arrays.
    return (e) => {
      if (this.generations[slot] === this.current) {
        if (this.failed[slot] === 1) throw this.values[slot];
        return this.values[slot];
      }
      let v: unknown;
      try {
        v = inner(e);
      } catch (err) {
        this.generations[slot] = this.current;
        this.failed[slot] = 1;
        this.values[slot] = err;
        throw err;
      }
      this.generations[slot] = this.current;
      this.failed[slot] = 0;
      this.values[slot] = v;
      return v;
    };
  }

  /** Slots whose value may change when the given paths are written. */
  slotsAffectedBy(writes: Path[]): Int32Array {
    if (writes.length === 0) return new Int32Array(0);
    if (!this.readIndex) {
      this.readIndex = new ReadIndex();
      for (const { slot, reads } of this.slots.values()) this.readIndex.add(slot, reads);
    }
    return Int32Array.from(this.readIndex.affectedBy(writes));
  }

  invalidate(slots: Int32Array): void {
    for (let i = 0; i < slots.length; i++) this.generations[slots[i]!] = 0;
  }

  /** Forgets every cached value: called before each event (old values are overwritten, not freed). */
  nextEvent(): void {
    if (++this.current === 0x7fffffff) {
      this.current = 1;
      this.generations.fill(0);
    }
  }
}
