// The engine caches shared tests, indexes rules by key equality and resumes its priority scan.
// These tests check that none of that changes results: against hand-picked cases, and against a
// naive reference that re-evaluates every condition every cycle, as Grule does, on random rule sets.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RuleNode } from '../../../runtime/rules/ast.js';
import { compileExpr } from '../../../runtime/rules/compile-expr.js';
import { compileStatement, type ActionSink } from '../../../runtime/rules/compile-stmt.js';
import type { EvalFailure } from '../../../runtime/rules/errors.js';
import { lookupFunction } from '../../../runtime/rules/functions.js';
import { compileRules, type CloudEventLike, type RuleMode } from '../../../runtime/rules/index.js';
import { parseRules } from '../../../runtime/rules/parser.js';
import { cloudEvent, run } from './helpers.js';

const OUTPUTS = ['a', 'b', 'c'];

/** Grule's loop without any optimization: every condition, every cycle. */
function reference(source: string, mode: RuleMode, maxCycles: number, event: CloudEventLike) {
  const rules: RuleNode[] = [...parseRules(source).ruleSet.rules].sort(
    (x, y) => y.salience - x.salience || x.index - y.index,
  );
  const outputIndex = new Map(OUTPUTS.map((o, i) => [o, i]));
  const isAction = (n: string) => Boolean(lookupFunction(n)?.action);
  const whens = rules.map((r) => compileExpr(r.when));
  const thens = rules.map((r) => r.then.map((s) => compileStatement(s, outputIndex, isAction)));
  const out = new Set<number>();
  const routes = new Set<string>();
  let dropped = false;
  let dead: string | undefined;
  let complete = false;
  const sink: ActionSink = {
    route: (i) => routes.add(OUTPUTS[i]!),
    drop: () => (dropped = true),
    deadLetter: (r) => (dead ??= r),
    retract: (name) => rules.forEach((r, i) => r.name === name && out.add(i)),
    complete: () => (complete = true),
    log: () => undefined,
  };
  const e = event as unknown as Record<string, unknown>;
  for (let cycle = 1; ; cycle++) {
    const matching = rules.map((_r, i) => {
      if (out.has(i)) return false;
      try {
        return whens[i]!(e) === true;
      } catch {
        return false;
      }
    });
    const chosen = matching.indexOf(true);
    if (chosen < 0) break;
    if (cycle > maxCycles) {
      dead = 'max cycles';
      break;
    }
    if (mode === 'once') out.add(chosen);
    try {
      for (const s of thens[chosen]!) s(e, sink);
    } catch (err) {
      dead = `failed: ${(err as EvalFailure).message}`;
      break;
    }
    if (complete || dead !== undefined) break;
  }
  if (dead !== undefined) return { outcome: 'deadletter', routes: [] as string[], event };
  if (dropped) return { outcome: 'dropped', routes: [] as string[], event };
  return { outcome: 'routed', routes: routes.size ? [...routes].sort() : OUTPUTS, event };
}

const field = fc.constantFrom(
  'event.data.f0',
  'event.data.f1',
  'event.data.f2',
  'event.type',
  'event.data.m["k"]',
);
const literal = fc.oneof(fc.integer({ min: 0, max: 3 }).map(String), fc.constantFrom('"t1"', '"t2"'));
const test = fc
  .tuple(field, fc.constantFrom('==', '!=', '<', '>='), literal)
  .map(([f, op, l]) => `${f} ${op} ${l}`);
const condition = fc.array(test, { minLength: 1, maxLength: 3 }).map((ts) => ts.join(' && '));
const statement = fc.oneof(
  fc.tuple(field, literal).map(([f, l]) => `${f} = ${l};`),
  fc.constantFrom('Route("a");', 'Route("b");', 'Retract("R0");', 'Retract("R2");', 'Drop();', 'Complete();'),
  fc.constantFrom('event.data.f0 = event.data.f0 + 1;', 'event.data.m = event.data.n;'),
);
const ruleSet = fc
  .array(
    fc.tuple(condition, fc.array(statement, { minLength: 1, maxLength: 3 }), fc.integer({ min: 0, max: 2 })),
    {
      minLength: 1,
      maxLength: 6,
    },
  )
  .map((rs) =>
    rs
      .map(([when, then, sal], i) => `rule R${i} salience ${sal} { when ${when} then ${then.join(' ')} }`)
      .join('\n'),
  );
const small = fc.oneof(fc.integer({ min: 0, max: 3 }), fc.constantFrom('t1', 't2'));
const eventArb = fc
  .record(
    { f0: small, f1: small, f2: small, m: fc.record({ k: small }), n: fc.record({ k: small }) },
    { requiredKeys: [] },
  )
  .chain((data) => fc.constantFrom('t1', 't2').map((type) => cloudEvent(data, { type })));

describe('optimizations keep results', { timeout: 60_000 }, () => {
  it('re-evaluates a cached test after a rule changes the field it reads', () => {
    const src = `
      rule A salience 10 { when event.data.n == 1 then event.data.n = 2; }
      rule B { when event.data.n == 2 then Route("a"); }
      rule C { when event.data.n == 1 then Route("b"); }`;
    expect(run(src, cloudEvent({ n: 1 })).routes).toEqual(['a']);
  });

  it('does not index rules on a field that some rule writes', () => {
    const src = `
      rule SetType salience 10 { when event.type == "com.example.test" then event.type = "changed"; }
      rule Changed { when event.type == "changed" then Route("a"); }`;
    expect(run(src, cloudEvent({})).routes).toEqual(['a']);
  });

  it('indexes rules on key tests in any conjunct position', () => {
    const src = `
      rule One { when event.data.x > 1 && event.type == "t1" then Route("a"); }
      rule Two { when event.data.x > 1 && event.type == "t2" then Route("b"); }`;
    expect(run(src, cloudEvent({ x: 2 }, { type: 't2' })).routes).toEqual(['b']);
    expect(run(src, cloudEvent({ x: 0 }, { type: 't2' })).routes).toEqual(['a', 'b', 'c']);
  });

  it('caches a failing test as failing, for every rule sharing it', () => {
    const src = `
      rule A { when event.data.s > 1 then Route("a"); }
      rule B { when event.data.s > 1 || true then Route("b"); }`;
    // `s > 1` fails for a string: A does not match; in B the failure makes the whole `when` fail.
    expect(run(src, cloudEvent({ s: 'x' })).routes).toEqual(['a', 'b', 'c']);
  });

  it('agrees with a naive Grule-style loop on random rule sets and events', () => {
    fc.assert(
      fc.property(ruleSet, eventArb, fc.constantFrom<RuleMode>('once', 'refire'), (source, event, mode) => {
        const ours = compileRules(source, { outputs: OUTPUTS, mode, maxCycles: 30 }).evaluate(
          structuredClone(event),
        );
        const theirs = reference(source, mode, 30, structuredClone(event));
        expect({ outcome: ours.outcome, routes: ours.routes, event: ours.event }).toEqual(theirs);
      }),
      { numRuns: 2000 },
    );
  });
});
