// A hash index over equality tests, like the alpha memories of a RETE network. Most routing rules
// are keyed on a field compared with a literal (`event.type == "com.shop.order.created" && …`).
// When one top-level conjunct of a rule's `when` is `path == literal` and no rule ever writes that
// path, the rule cannot match unless the field holds that literal. So per event we read each such
// field once and start only the rules in its bucket as "unknown"; the others start as "no match"
// without their conditions being called. Conditions stay authoritative: a rule that is started
// (or later re-checked) still evaluates its whole `when`.
import type { Expr, RuleNode } from './ast.js';
import { compilePath, flatten, staticPath, type Compiled, type EventObject } from './compile-expr.js';
import { overlaps, writesOf, type Path } from './paths.js';

interface Group {
  load: Compiled;
  buckets: Map<unknown, number[]>;
}

export interface Discriminator {
  /** Per rule: true when the index decides whether it can start (others start unknown). */
  readonly indexed: Uint8Array;
  /** Calls `start(i)` for every indexed rule whose key field holds its literal in `e`. */
  candidates(e: EventObject, start: (rule: number) => void): void;
}

interface KeyTest {
  path: (string | number)[];
  key: string;
  literal: string | number | boolean;
}

function keyTest(conjunct: Expr): KeyTest | undefined {
  if (conjunct.type !== 'binary' || conjunct.op !== '==') return undefined;
  for (const [side, other] of [
    [conjunct.left, conjunct.right],
    [conjunct.right, conjunct.left],
  ] as const) {
    if (other.type !== 'literal') continue;
    const lit = other.literal;
    if (lit.kind === 'nil') continue;
    const path = staticPath(side);
    if (!path) continue;
    return { path, key: JSON.stringify(path), literal: lit.value };
  }
  return undefined;
}

/** Builds the index for rules in priority order; undefined when no rule can use it. */
export function buildDiscriminator(rules: RuleNode[]): Discriminator | undefined {
  const written: Path[] = rules.flatMap((r) => writesOf(r.then));
  const overlapCache = new Map<string, boolean>();
  const isWritten = (t: KeyTest): boolean => {
    let hit = overlapCache.get(t.key);
    if (hit === undefined) {
      const path = t.path.map(String);
      hit = written.some((w) => overlaps(w, path));
      overlapCache.set(t.key, hit);
    }
    return hit;
  };
  const tests = rules.map((r) =>
    flatten(r.when, '&&')
      .map(keyTest)
      .filter((t): t is KeyTest => t !== undefined && !isWritten(t)),
  );
  // Prefer the field most rules test, so events are read for few fields.
  const frequency = new Map<string, number>();
  for (const ts of tests)
    for (const t of new Set(ts.map((x) => x.key))) frequency.set(t, (frequency.get(t) ?? 0) + 1);
  const groups = new Map<string, Group>();
  const indexed = new Uint8Array(rules.length);
  tests.forEach((ts, i) => {
    if (ts.length === 0) return;
    const best = ts.reduce((a, b) => (frequency.get(b.key)! > frequency.get(a.key)! ? b : a));
    let g = groups.get(best.key);
    if (!g) {
      g = { load: compilePath(best.path), buckets: new Map() };
      groups.set(best.key, g);
    }
    const bucket = g.buckets.get(best.literal);
    if (bucket) bucket.push(i);
    else g.buckets.set(best.literal, [i]);
    indexed[i] = 1;
  });
  if (groups.size === 0) return undefined;
  const list = [...groups.values()];
  return {
    indexed,
    candidates(e, start) {
      for (const g of list) {
        const bucket = g.buckets.get(g.load(e));
        if (bucket) for (let k = 0; k < bucket.length; k++) start(bucket[k]!);
      }
    },
  };
}
