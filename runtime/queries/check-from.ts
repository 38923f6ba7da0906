// Static checks of patterns and joins, and the specs their operators run: pattern steps flattened
// into elements with variable slots, join keys split out of ON. Expressions are resolved by the
// query checker (checker.ts) under the bindings these checks declare.
import type { Expr, PatternElement, PatternNode, PatternStep, Pos, QueryNode } from './ast.js';
import { children, exprKey, isAggregateCall } from './expr-tree.js';

export interface Binding {
  slot: number;
  /** A quantified pattern variable: several events. */
  quantified: boolean;
  /** A lookup table's row. */
  row: boolean;
}

export type Bindings = Map<string, Binding>;

/** What pattern and join checks need from the expression checker. */
export interface ExprChecks {
  report(at: { line: number; column: number }, message: string): void;
  /**
   * Resolves and checks `e` under `bindings`. `self` names the variable whose condition this is
   * (its fields read the current event); `unqualified` says whether a field without a variable or
   * alias is allowed (it reads the current event).
   */
  walkBound(
    e: Expr,
    place: string,
    bindings: Bindings,
    opts: { self?: string; unqualified: boolean; aggregates: boolean },
  ): void;
  readonly sources: readonly string[];
  readonly tables: readonly { name: string; key: string }[];
}

export interface StepSpec {
  name: string;
  slot: number;
  source: string;
  cond?: Expr;
  min: number;
  max: number;
}

export type ElementSpec =
  | { type: 'step'; step: StepSpec }
  | { type: 'absent'; source: string; cond?: Expr; forMs: number }
  | { type: 'and' | 'or'; steps: StepSpec[] };

export interface PatternSpec {
  strict: boolean;
  every: boolean;
  elements: ElementSpec[];
  /** Milliseconds from a match's first event within which all of it lies. */
  within: number;
  grace: number;
  partitionBy: Expr[];
  /** Variables by slot. */
  vars: { name: string; quantified: boolean }[];
  sources: string[];
}

export interface JoinSpec {
  kind: 'interval' | 'lookup';
  left: boolean;
  leftSource: string;
  leftAlias: string;
  /** The joined source (interval) or table (lookup). */
  right: string;
  rightAlias: string;
  within: number;
  grace: number;
  /** Key expressions per side, pairwise equal. For lookups, one left expression. */
  leftKeys: Expr[];
  rightKeys: Expr[];
  /** The table's key column (lookup). */
  keyColumn?: string;
  /** Conditions of ON beyond the key equalities (interval joins). */
  residual?: Expr;
}

function unknownSource(c: ExprChecks, name: string, at: Pos): void {
  const known = [...c.sources].sort();
  c.report(
    at,
    `unknown source ${name}: ${known.length ? `the pipeline's sources are ${known.join(', ')}` : 'the pipeline declares no sources'}`,
  );
}

export function checkPattern(q: QueryNode, p: PatternNode, c: ExprChecks): PatternSpec {
  const vars: { name: string; quantified: boolean; pos: Pos }[] = [];
  const bindings: Bindings = new Map();
  const elements: ElementSpec[] = [];
  let every = false;
  const reserved = new Set(['id', 'type', 'source', 'subject', 'time', 'data', 'window_start', 'window_end']);

  const declare = (s: PatternStep, inChoice: boolean): StepSpec | undefined => {
    if (!c.sources.includes(s.source)) unknownSource(c, s.source, s.sourcePos);
    if (bindings.has(s.name)) {
      c.report(s.namePos, `variable ${s.name} is declared twice: give each step its own name`);
      return undefined;
    }
    if (reserved.has(s.name) || c.sources.includes(s.name))
      c.report(s.namePos, `variable ${s.name} is also a field or source name: choose another name`);
    if (s.min < 1 && s.quantPos)
      c.report(s.quantPos, `a step matches at least one event: for none, write NOT ${s.source} FOR d`);
    if (s.max < s.min && s.quantPos)
      c.report(s.quantPos, `{${s.min},${s.max}}: the maximum is below the minimum`);
    const quantified = s.max !== 1 || s.min !== 1;
    if (inChoice && quantified && s.quantPos)
      c.report(s.quantPos, 'AND and OR combine single events: move the quantified step out of the group');
    // The condition sees earlier variables and its own event, not later ones.
    if (s.cond)
      c.walkBound(s.cond, 'a step condition', bindings, {
        self: s.name,
        unqualified: true,
        aggregates: false,
      });
    const slot = vars.length;
    vars.push({ name: s.name, quantified, pos: s.namePos });
    bindings.set(s.name, { slot, quantified, row: false });
    const spec: StepSpec = { name: s.name, slot, source: s.source, min: s.min, max: s.max };
    if (s.cond) spec.cond = s.cond;
    return spec;
  };

  const visit = (list: PatternElement[], top: boolean): void => {
    list.forEach((el, i) => {
      const first = top && elements.length === 0;
      const everyPos = el.type === 'step' || el.type === 'group' ? el.everyPos : undefined;
      if (everyPos) {
        if (first && i === 0) every = true;
        else c.report(everyPos, 'EVERY applies to the whole pattern: write it before the first step');
      }
      switch (el.type) {
        case 'group':
          visit(el.elements, top);
          return;
        case 'step': {
          const step = declare(el, false);
          if (step) elements.push({ type: 'step', step });
          return;
        }
        case 'absent': {
          if (first) {
            c.report(el, 'a pattern cannot start with NOT … FOR: start with the event the absence follows');
          }
          if (!c.sources.includes(el.source)) unknownSource(c, el.source, el.sourcePos);
          if (el.forMs.value <= 0) c.report(el.forMs, 'FOR must be greater than zero');
          if (el.cond)
            c.walkBound(el.cond, 'a NOT condition', bindings, { unqualified: true, aggregates: false });
          elements.push({
            type: 'absent',
            source: el.source,
            ...(el.cond ? { cond: el.cond } : {}),
            forMs: el.forMs.value,
          });
          return;
        }
        case 'and':
        case 'or': {
          const steps: StepSpec[] = [];
          for (const s of el.steps) {
            if (s.type !== 'step') {
              c.report(
                s,
                `${el.type.toUpperCase()} combines single steps, as in (a=orders ${el.type.toUpperCase()} b=payments): a group or a sequence cannot be one of its sides; match it in a query of its own`,
              );
              // Its variables still exist for SELECT: one error, not one more per field read.
              for (const inner of stepsIn([s])) declare(inner, true);
              continue;
            }
            if (s.everyPos)
              c.report(s.everyPos, 'EVERY applies to the whole pattern: write it before the first step');
            const step = declare(s, true);
            if (step) steps.push(step);
          }
          elements.push({ type: el.type, steps });
          return;
        }
      }
    });
  };
  visit(p.elements, true);

  const last = elements[elements.length - 1];
  if (last?.type === 'step' && last.step.max !== last.step.min) {
    const node = findStep(p.elements, last.step.name);
    c.report(
      node?.quantPos ?? p,
      `a pattern cannot end with a variable count {n,m} or {n,}: it would never know when to stop; end with {${last.step.min}} or add a step after it`,
    );
  }
  elements.forEach((el, i) => {
    const next = elements[i + 1];
    if (el.type === 'step' && el.step.max !== el.step.min && next?.type === 'absent') {
      const node = findStep(p.elements, el.step.name);
      c.report(
        node?.quantPos ?? p,
        `NOT … FOR after a variable count {n,m} has no start: use a fixed count {${el.step.min}} before it`,
      );
    }
  });
  const within = p.within?.value ?? 0;
  if (p.within && within <= 0) c.report(p.within, 'WITHIN must be greater than zero');
  for (const el of elements)
    if (el.type === 'absent' && el.forMs > within && p.within && within > 0)
      c.report(
        p.within,
        `WITHIN (${within} ms) is shorter than NOT … FOR (${el.forMs} ms): the pattern could never match`,
      );
  for (const e of p.partitionBy)
    c.walkBound(e, 'PARTITION BY', new Map(), { unqualified: true, aggregates: false });
  // SELECT reads variables, and the PARTITION BY expressions as written (data.userId).
  const partitionKeys = new Set(p.partitionBy.map(exprKey));
  for (const item of q.select) {
    c.walkBound(item.expr, 'SELECT', bindings, { unqualified: true, aggregates: true });
    const visit = (e: Expr): void => {
      if (partitionKeys.has(exprKey(e))) return;
      if (e.type === 'field' && !e.bind && e.qualifier === undefined && !bindings.has(e.root)) {
        const names = vars.map((v) => v.name);
        c.report(
          e,
          `a field in a pattern's SELECT reads a variable (${names.map((n) => `${n}.${e.root}`).join(', ') || 'a.data.x'}) or is a PARTITION BY expression`,
        );
        return;
      }
      children(e).forEach(visit);
    };
    visit(item.expr);
  }
  rejectClauses(q, c, 'pattern queries emit one row per match; put conditions in the steps');
  const sources = new Set<string>();
  for (const el of elements) {
    if (el.type === 'step') sources.add(el.step.source);
    else if (el.type === 'absent') sources.add(el.source);
    else for (const s of el.steps) sources.add(s.source);
  }
  return {
    strict: p.strict,
    every,
    elements,
    within,
    grace: p.grace?.value ?? 0,
    partitionBy: p.partitionBy,
    vars: vars.map(({ name, quantified }) => ({ name, quantified })),
    sources: [...sources].sort(),
  };
}

/** Every step in these elements, groups and AND/OR included, in order. */
function stepsIn(list: PatternElement[]): PatternStep[] {
  return list.flatMap((el) =>
    el.type === 'step'
      ? [el]
      : el.type === 'group'
        ? stepsIn(el.elements)
        : el.type === 'and' || el.type === 'or'
          ? stepsIn(el.steps)
          : [],
  );
}

function findStep(list: PatternElement[], name: string): PatternStep | undefined {
  for (const el of list) {
    if (el.type === 'step' && el.name === name) return el;
    if (el.type === 'group' || el.type === 'and' || el.type === 'or') {
      const found = findStep(el.type === 'group' ? el.elements : el.steps, name);
      if (found) return found;
    }
  }
  return undefined;
}

function rejectClauses(q: QueryNode, c: ExprChecks, why: string): void {
  if (q.window) c.report(q.window, `WINDOW cannot be combined here: ${why}`);
  if (q.groupByPos) c.report(q.groupByPos, `GROUP BY cannot be combined here: ${why}`);
  if (q.havingPos) c.report(q.havingPos, `HAVING cannot be combined here: ${why}`);
  if (q.emit) c.report(q.emit.pos, `EMIT cannot be combined here: ${why}`);
}

/** The aliases an expression reads, by binding name. */
export function boundNames(e: Expr, out = new Set<string>()): Set<string> {
  if (e.type === 'field' && e.bind) out.add(e.bind.name);
  for (const child of children(e)) boundNames(child, out);
  return out;
}

function conjuncts(e: Expr, out: Expr[] = []): Expr[] {
  if (e.type === 'binary' && e.op === 'and') {
    conjuncts(e.left, out);
    conjuncts(e.right, out);
  } else out.push(e);
  return out;
}

function andOf(list: Expr[]): Expr | undefined {
  return list.reduce<Expr | undefined>(
    (acc, e) => (acc ? { ...e, type: 'binary', op: 'and', left: acc, right: e, opPos: e } : e),
    undefined,
  );
}

export function checkJoin(q: QueryNode, c: ExprChecks): JoinSpec | undefined {
  const j = q.join!;
  const leftAlias = q.alias ?? q.source;
  if (!c.sources.includes(q.source)) unknownSource(c, q.source, q.sourcePos);
  const table = c.tables.find((t) => t.name === j.target);
  const isSource = c.sources.includes(j.target);
  if (!table && !isSource) {
    const tables = c.tables.map((t) => t.name).sort();
    c.report(
      j.targetPos,
      `unknown source or table ${j.target}: the pipeline's sources are ${[...c.sources].sort().join(', ') || 'none'}, its tables (spec.tables) ${tables.join(', ') || 'none'}`,
    );
    return undefined;
  }
  const kind = table ? 'lookup' : 'interval';
  if (kind === 'lookup' && j.within)
    c.report(
      j.within,
      `${j.target} is a table: a lookup join takes no WITHIN (only a join of two streams does)`,
    );
  if (kind === 'interval' && !j.within)
    c.report(
      j.targetPos,
      `a join of two streams needs WITHIN to bound its state: JOIN ${j.target} AS ${j.alias} WITHIN 10 MINUTES ON …`,
    );
  if (kind === 'interval' && j.target === q.source)
    c.report(j.targetPos, `${j.target} is joined with itself: join two different sources`);
  if (j.alias === leftAlias)
    c.report(j.aliasPos, `alias ${j.alias} is used twice: give each side its own alias`);
  const bindings: Bindings = new Map([
    [leftAlias, { slot: 0, quantified: false, row: false }],
    [j.alias, { slot: 1, quantified: false, row: kind === 'lookup' }],
  ]);
  const opts = { unqualified: false, aggregates: false };
  c.walkBound(j.on, 'ON', bindings, opts);
  for (const item of q.select) c.walkBound(item.expr, 'SELECT', bindings, opts);
  if (q.where) c.walkBound(q.where, 'WHERE', bindings, opts);
  rejectClauses(q, c, 'a join emits one row per joined pair; aggregate its results in a query of their own');
  const leftKeys: Expr[] = [];
  const rightKeys: Expr[] = [];
  const rest: Expr[] = [];
  for (const e of conjuncts(j.on)) {
    if (e.type === 'binary' && e.op === '=') {
      const l = boundNames(e.left);
      const r = boundNames(e.right);
      const only = (s: Set<string>, name: string) => s.size === 1 && s.has(name);
      if (only(l, leftAlias) && only(r, j.alias)) {
        leftKeys.push(e.left);
        rightKeys.push(e.right);
        continue;
      }
      if (only(l, j.alias) && only(r, leftAlias)) {
        leftKeys.push(e.right);
        rightKeys.push(e.left);
        continue;
      }
    }
    rest.push(e);
  }
  const spec: JoinSpec = {
    kind,
    left: j.left,
    leftSource: q.source,
    leftAlias,
    right: j.target,
    rightAlias: j.alias,
    within: j.within?.value ?? 0,
    grace: j.grace?.value ?? 0,
    leftKeys,
    rightKeys,
  };
  if (kind === 'lookup') {
    const key = rightKeys[0];
    const ok =
      leftKeys.length === 1 &&
      rest.length === 0 &&
      key?.type === 'field' &&
      key.path.length === 0 &&
      key.root === table!.key;
    if (!ok)
      c.report(
        j.on,
        `a lookup join's ON is one equality with the table's key: ON ${leftAlias}.data.x = ${j.alias}.${table!.key}`,
      );
    else spec.keyColumn = table!.key;
  } else {
    if (leftKeys.length === 0)
      c.report(
        j.on,
        `ON needs an equality between the two sides, such as ${leftAlias}.data.orderId = ${j.alias}.data.orderId: both sides are partitioned by it`,
      );
    const residual = andOf(rest);
    if (residual) spec.residual = residual;
  }
  return spec;
}

/** True when an aggregate call appears in the expression. */
export function hasAggregate(e: Expr): boolean {
  return isAggregateCall(e) || children(e).some(hasAggregate);
}
