// Static checks over a parsed query, and the facts compilation needs: column names, the window in
// milliseconds, the aggregate calls. Every problem is reported with its line and column and says
// what to write instead; all of them are collected so one run lists everything.
import type { Expr, PatternElement, Pos, QueryNode, WindowKind } from './ast.js';
import type { QueryDiagnostic } from './errors.js';
import { WINDOW_COLUMNS, children, exprKey, isAggregateCall, isWindowColumn } from './expr-tree.js';
import { AGGREGATES, DID_YOU_MEAN, SCALARS } from './functions.js';
import {
  boundNames,
  checkJoin,
  checkPattern,
  type Binding,
  type Bindings,
  type ExprChecks,
  type JoinSpec,
  type PatternSpec,
} from './check-from.js';

/** CloudEvents 1.0 context attributes; any other lower-case word is an extension. */
export const ATTRIBUTES = new Set([
  'id',
  'type',
  'source',
  'subject',
  'time',
  'specversion',
  'datacontenttype',
  'dataschema',
  'data',
]);
const EXTENSION_NAME = /^[a-z0-9]+$/;

export type AggregateName = 'count' | 'sum' | 'avg' | 'min' | 'max' | 'stddev' | 'first' | 'last';

export interface AggregateCall {
  name: AggregateName;
  star: boolean;
  distinct: boolean;
  arg?: Expr;
  /** Structural key: equal calls share one accumulator. */
  key: string;
}

export interface WindowSpec {
  kind: WindowKind;
  /** Milliseconds; for COUNT windows a number of events. */
  size: number;
  /** Milliseconds between window starts (HOPPING; = size for TUMBLING); events for COUNT. */
  advance: number;
  /** Milliseconds (SESSION). */
  gap: number;
  /** Milliseconds. */
  grace: number;
}

export interface CheckedQuery {
  /** The source in FROM; '' for patterns. */
  source: string;
  /** Every source the query reads. */
  sources: string[];
  pattern?: PatternSpec;
  join?: JoinSpec;
  columns: string[];
  items: Expr[];
  where?: Expr;
  window?: WindowSpec;
  groupBy: Expr[];
  having?: Expr;
  emit: 'final' | 'changes';
  aggregates: AggregateCall[];
}

type Place = string;

export function checkQuery(
  q: QueryNode,
  sql: string,
  sources: readonly string[],
  tables: readonly { name: string; key: string }[] = [],
): { checked: CheckedQuery; diagnostics: QueryDiagnostic[] } {
  const c = new Checker(q, sql, sources, tables);
  const checked = c.run();
  return { checked, diagnostics: c.diagnostics };
}

class Checker implements ExprChecks {
  readonly diagnostics: QueryDiagnostic[] = [];
  private readonly aggregates = new Map<string, AggregateCall>();
  private readonly qualifier: string;
  /** Pattern variables or join sides that fields may be qualified with (check-from.ts). */
  private bindings: Bindings = new Map();
  private bound: { self?: string; unqualified: boolean; aggregates: boolean } | undefined;

  constructor(
    private readonly q: QueryNode,
    private readonly sql: string,
    readonly sources: readonly string[],
    readonly tables: readonly { name: string; key: string }[],
  ) {
    // Patterns and joins qualify fields through bindings; no bare alias applies.
    this.qualifier = q.pattern || q.join ? '\u0000' : (q.alias ?? q.source);
  }

  report(at: { line: number; column: number }, message: string): void {
    this.diagnostics.push({ line: at.line, column: at.column, message });
  }

  walkBound(
    e: Expr,
    place: string,
    bindings: Bindings,
    opts: { self?: string; unqualified: boolean; aggregates: boolean },
  ): void {
    this.bindings = bindings;
    this.bound = opts;
    this.walk(e, place, false);
    this.bindings = new Map();
    this.bound = undefined;
  }

  /** Pattern and join queries: their own checks, SELECT items and columns. */
  private runBound(): CheckedQuery {
    const q = this.q;
    const pattern = q.pattern ? checkPattern(q, q.pattern, this) : undefined;
    const join = q.join ? checkJoin(q, this) : undefined;
    const checked: CheckedQuery = {
      source: q.pattern ? '' : q.source,
      sources: pattern ? pattern.sources : join?.kind === 'interval' ? [q.source, join.right] : [q.source],
      columns: this.columnNames(),
      items: q.select.map((i) => i.expr),
      groupBy: [],
      emit: 'final',
      aggregates: [...this.aggregates.values()],
    };
    if (pattern) checked.pattern = pattern;
    if (join) checked.join = join;
    if (q.where && join) checked.where = q.where;
    if (q.where && pattern)
      this.report(
        q.where,
        'WHERE does not apply to patterns: put conditions in the steps, e.g. a=orders[data.amount > 10]',
      );
    return checked;
  }

  run(): CheckedQuery {
    const q = this.q;
    if (q.pattern || q.join) return this.runBound();
    if (!this.sources.includes(q.source)) {
      const known = [...this.sources].sort();
      this.report(
        q.sourcePos,
        `unknown source ${q.source}: ${known.length ? `the pipeline's sources are ${known.join(', ')}` : 'the pipeline declares no sources'}`,
      );
    }
    if (q.alias && q.aliasPos && (ATTRIBUTES.has(q.alias) || WINDOW_COLUMNS.has(q.alias))) {
      this.report(q.aliasPos, `alias ${q.alias} is also a field name: choose another alias`);
    }
    const window = q.window ? this.checkWindow() : undefined;
    for (const item of q.select) this.walk(item.expr, 'SELECT', window !== undefined);
    if (q.where) this.walk(q.where, 'WHERE', window !== undefined);
    for (const g of q.groupBy) {
      if (g.type === 'literal') {
        this.report(g, 'GROUP BY takes expressions such as data.country, not column positions or constants');
      }
      this.walk(g, 'GROUP BY', window !== undefined);
    }
    if (q.having) this.walk(q.having, 'HAVING', window !== undefined);

    const aggregated = this.aggregates.size > 0 || q.groupBy.length > 0;
    if (!window && aggregated) {
      const at = q.groupByPos ?? this.firstAggregate() ?? q.selectPos;
      this.report(
        at,
        'aggregations need a WINDOW clause, e.g. WINDOW TUMBLING (SIZE 1 MINUTE): a query without one emits a row per event',
      );
    }
    if (!window && !aggregated && q.having && q.havingPos) {
      this.report(
        q.havingPos,
        'HAVING filters groups, and this query has no GROUP BY, aggregate or WINDOW: use WHERE',
      );
    }
    if (window && window.kind !== 'sliding') {
      for (const item of q.select) this.checkGrouped(item.expr, 'SELECT');
      if (q.having) this.checkGrouped(q.having, 'HAVING');
    }
    const emit = q.emit?.mode ?? 'final';
    if (q.emit && !window) {
      this.report(
        q.emit.pos,
        `EMIT applies to windowed queries; a query without WINDOW emits one row per event: remove EMIT ${emit.toUpperCase()}`,
      );
    }
    if (q.emit && window && emit === 'changes' && window.kind !== 'tumbling' && window.kind !== 'hopping') {
      const why =
        window.kind === 'session'
          ? 'a session window changes its bounds (and so its result id) as it grows and merges, so an earlier row could not be replaced'
          : window.kind === 'sliding'
            ? 'a SLIDING window emits one row per event, once the watermark has passed it'
            : 'a COUNT window emits only when it holds SIZE events';
      this.report(
        q.emit.modePos,
        `EMIT CHANGES is not supported for ${window.kind.toUpperCase()} windows: ${why}; use EMIT FINAL`,
      );
    }
    const columns = this.columnNames();
    const checked: CheckedQuery = {
      source: q.source,
      sources: [q.source],
      columns,
      items: q.select.map((i) => i.expr),
      groupBy: q.groupBy,
      emit,
      aggregates: [...this.aggregates.values()],
    };
    if (q.where) checked.where = q.where;
    if (q.having) checked.having = q.having;
    if (window) checked.window = window;
    return checked;
  }

  private firstAggregate(): Pos | undefined {
    let found: Pos | undefined;
    const visit = (e: Expr): void => {
      if (found) return;
      if (isAggregateCall(e)) found = e;
      else children(e).forEach(visit);
    };
    this.q.select.forEach((i) => visit(i.expr));
    if (this.q.having) visit(this.q.having);
    return found;
  }

  private checkWindow(): WindowSpec {
    const w = this.q.window!;
    const positive = (
      a: { value: number; line: number; column: number } | undefined,
      what: string,
    ): number => {
      if (!a) return 0;
      if (a.value <= 0) this.report(a, `${what} must be greater than zero`);
      return a.value;
    };
    const size = positive(w.size, 'SIZE');
    const spec: WindowSpec = { kind: w.kind, size, advance: size, gap: 0, grace: w.grace?.value ?? 0 };
    if (w.kind === 'session') spec.gap = positive(w.gap, 'GAP');
    if (w.advance) {
      spec.advance = positive(w.advance, 'ADVANCE BY');
      if (w.advance.value > size && size > 0) {
        const unit = w.kind === 'count' ? 'events' : 'ms';
        this.report(
          w.advance,
          `ADVANCE BY (${w.advance.value} ${unit}) must not be larger than SIZE (${size} ${unit}): windows would leave gaps`,
        );
      }
    }
    return spec;
  }

  /** Resolves fields and checks calls, recursively. */
  private walk(e: Expr, place: Place, windowed: boolean, inAggregate: string | false = false): void {
    if (e.type === 'field') {
      this.resolveField(e, place, windowed, inAggregate);
      return;
    }
    if (e.type === 'call') {
      this.checkCall(e, place, inAggregate !== false);
      const nested = inAggregate || (isAggregateCall(e) ? e.name : false);
      for (const a of e.args) this.walk(a, place, windowed, nested);
      if (this.bound && isAggregateCall(e) && !inAggregate) this.bindAggregate(e);
      return;
    }
    for (const child of children(e)) this.walk(child, place, windowed, inAggregate);
  }

  /** An aggregate in a pattern's SELECT runs over the events of one variable. */
  private bindAggregate(e: Extract<Expr, { type: 'call' }>): void {
    if (!this.bound?.aggregates) return;
    const names = new Set<string>();
    for (const a of e.args) boundNames(a, names);
    const slots = [...names].map((n) => this.bindings.get(n)?.slot);
    if (e.star || slots.length !== 1 || slots[0] === undefined) {
      this.report(
        e.namePos,
        `an aggregate in a pattern query runs over the events of one variable: e.g. count(f), sum(f.data.amount)`,
      );
      return;
    }
    e.over = slots[0];
  }

  private bindField(
    e: Extract<Expr, { type: 'field' }>,
    name: string,
    b: Binding,
    inAggregate: string | false,
  ): boolean {
    let path = e.path;
    let segPos = e.segPos;
    let index: number | undefined;
    if (typeof path[0] === 'number') {
      if (!b.quantified && path[0] !== 0 && path[0] !== -1) {
        this.report(segPos[0]!, `${name} matches one event: read its fields directly, e.g. ${name}.data.x`);
        return false;
      }
      if (inAggregate) {
        this.report(
          segPos[0]!,
          `inside ${inAggregate}() ${name} stands for each of its events: write ${name}.data.x`,
        );
        return false;
      }
      index = path[0];
      path = path.slice(1);
      segPos = segPos.slice(1);
    } else if (b.quantified && !inAggregate) {
      this.report(
        e.rootPos,
        `${name} matches several events: pick one with ${name}[0] or ${name}[last], or use an aggregate such as count(${name})`,
      );
      return false;
    }
    if (path.length === 0) {
      if (inAggregate === 'count' && index === undefined && !b.row) {
        e.qualifier = name;
        e.root = '';
        e.bind = { name, slot: b.slot };
        return false;
      }
      this.report(
        e.rootPos,
        `${name} stands for ${b.row ? 'a table row' : 'an event'}: name one of its fields, e.g. ${name}.${b.row ? 'id' : 'data.amount'}`,
      );
      return false;
    }
    const root = path[0];
    if (typeof root !== 'string') {
      this.report(segPos[0]!, `a field name after ${name}, e.g. ${name}.data.amount`);
      return false;
    }
    e.qualifier = name;
    e.root = root;
    e.rootPos = segPos[0]!;
    e.path = path.slice(1);
    e.segPos = segPos.slice(1);
    e.bind = {
      name,
      slot: b.slot,
      ...(index !== undefined ? { index } : {}),
      ...(b.row ? { row: true } : {}),
    };
    return !b.row;
  }

  private resolveField(
    e: Extract<Expr, { type: 'field' }>,
    place: Place,
    windowed: boolean,
    inAggregate: string | false = false,
  ): void {
    if (this.bound && e.qualifier === undefined && e.bind === undefined) {
      const bound = this.bound;
      if (bound.self !== undefined && e.root === bound.self) {
        // A step's own variable in its condition: the event being matched.
        const first = e.path[0];
        if (typeof first !== 'string') {
          this.report(
            e.rootPos,
            `${e.root} is this step's event: name one of its fields, e.g. ${e.root}.data.amount`,
          );
          return;
        }
        e.qualifier = e.root;
        e.root = first;
        e.rootPos = e.segPos[0]!;
        e.path = e.path.slice(1);
        e.segPos = e.segPos.slice(1);
      } else {
        const b = this.bindings.get(e.root);
        if (b) {
          if (!this.bindField(e, e.root, b, inAggregate)) return;
        } else if (!bound.unqualified && !WINDOW_COLUMNS.has(e.root)) {
          const names = [...this.bindings.keys()];
          const later =
            this.q.pattern && place === 'a step condition'
              ? ' (a condition sees the variables of earlier steps only)'
              : '';
          this.report(
            e.rootPos,
            this.q.pattern && ATTRIBUTES.has(e.root)
              ? `${e.root} in ${place} needs a variable in front: ${names.map((n) => `${n}.${e.root}`).join(', ') || 'declare a variable'}`
              : ATTRIBUTES.has(e.root)
                ? `${e.root} in ${place} needs an alias in front: ${names.map((n) => `${n}.${e.root}`).join(' or ')}`
                : `unknown name ${e.root}${later}: use one of ${names.join(', ')} in front of a field`,
          );
          return;
        } else if (bound.unqualified && this.knownVar(e.root)) {
          this.report(
            e.rootPos,
            place === 'a step condition'
              ? `${e.root} is matched by a later step: a condition sees the variables of earlier steps only`
              : `${place} cannot read pattern variables: use fields of the event (data.userId)`,
          );
          return;
        }
      }
    }
    if (e.path.some((s) => s === -1) && !e.bind) {
      this.report(
        e,
        '[last] picks the last event of a quantified pattern variable (f[last].time); use an index for arrays',
      );
      return;
    }
    if (e.bind?.row) return;
    if (WINDOW_COLUMNS.has(e.root) && this.bound) {
      this.report(e.rootPos, `${e.root} is a column of windowed queries: remove it`);
      return;
    }
    if (e.root === this.qualifier && e.qualifier === undefined) {
      const first = e.path[0];
      if (typeof first !== 'string') {
        this.report(e.rootPos, `${e.root} is the source: name one of its fields, e.g. ${e.root}.data.amount`);
        return;
      }
      e.qualifier = e.root;
      e.root = first;
      e.rootPos = e.segPos[0]!;
      e.path = e.path.slice(1);
      e.segPos = e.segPos.slice(1);
    }
    if (WINDOW_COLUMNS.has(e.root) && e.qualifier === undefined) {
      if (e.path.length > 0) this.report(e.segPos[0]!, `${e.root} has no fields`);
      else if (!windowed)
        this.report(e.rootPos, `${e.root} is a column of windowed queries: add a WINDOW clause or remove it`);
      else if (place === 'WHERE' || place === 'GROUP BY') {
        this.report(
          e.rootPos,
          `${e.root} is known only once a window is complete: use it in SELECT or HAVING, not in ${place}`,
        );
      }
      return;
    }
    if (ATTRIBUTES.has(e.root)) {
      if (e.root !== 'data' && e.path.length > 0) {
        this.report(
          e.segPos[0]!,
          `${e.root} is a CloudEvents attribute without fields: only data can be navigated (data.a.b)`,
        );
      }
      return;
    }
    const aliasHint = this.q.alias && !this.bound ? `, or the alias ${this.q.alias}` : '';
    if (!EXTENSION_NAME.test(e.root) || e.path.length > 0) {
      this.report(
        e.rootPos,
        `unknown field ${e.root}: use a CloudEvents attribute (id, type, source, subject, time), an extension (lower-case letters and digits), data.<path>${aliasHint}`,
      );
    }
  }

  /** A variable declared anywhere in the pattern. */
  private knownVar(name: string): boolean {
    const visit = (list: PatternElement[]): boolean =>
      list.some((el) =>
        el.type === 'step'
          ? el.name === name
          : el.type === 'group'
            ? visit(el.elements)
            : el.type === 'and' || el.type === 'or'
              ? visit(el.steps)
              : false,
      );
    return this.q.pattern ? visit(this.q.pattern.elements) : false;
  }

  private checkCall(e: Extract<Expr, { type: 'call' }>, place: Place, inAggregate: boolean): void {
    const aggregate = Object.hasOwn(AGGREGATES, e.name) ? AGGREGATES[e.name]! : undefined;
    const scalar = Object.hasOwn(SCALARS, e.name) ? SCALARS[e.name]! : undefined;
    const sig = aggregate ?? scalar;
    if (!sig) {
      const hint = Object.hasOwn(DID_YOU_MEAN, e.name) ? `: did you mean ${DID_YOU_MEAN[e.name]}()?` : '';
      const known = [...Object.keys(SCALARS), ...Object.keys(AGGREGATES)].sort().join(', ');
      this.report(e.namePos, `unknown function ${e.name}()${hint || ` (functions: ${known})`}`);
      return;
    }
    if (e.star && e.name !== 'count')
      this.report(e.namePos, `${e.name}(*) is not allowed: only count(*) takes *`);
    if (e.distinct && e.name !== 'count') {
      this.report(e.namePos, `DISTINCT is supported in count(DISTINCT x) only, not in ${e.name}()`);
    }
    const n = e.star ? 1 : e.args.length;
    if (n < sig.min || n > sig.max) {
      const want =
        sig.min === sig.max
          ? `${sig.min}`
          : sig.max === Infinity
            ? `at least ${sig.min}`
            : `${sig.min} to ${sig.max}`;
      const plural = sig.max === 1 && sig.min === 1 ? '' : sig.min === 1 && sig.max === Infinity ? '' : 's';
      this.report(e.namePos, `${e.name}() takes ${want} argument${plural}, got ${n}: e.g. ${sig.example}`);
      return;
    }
    if (!aggregate) return;
    if (this.bound && !this.bound.aggregates) {
      this.report(e.namePos, `aggregate ${e.name}() is not allowed in ${place}`);
      return;
    }
    if (place === 'WHERE' || place === 'GROUP BY') {
      this.report(
        e.namePos,
        `aggregate ${e.name}() is not allowed in ${place}: filter groups with HAVING instead`,
      );
      return;
    }
    if (inAggregate) {
      this.report(e.namePos, `aggregate ${e.name}() cannot be nested inside another aggregate`);
      return;
    }
    const key = exprKey(e);
    if (!this.aggregates.has(key)) {
      const call: AggregateCall = { name: e.name as AggregateName, star: e.star, distinct: e.distinct, key };
      if (!e.star) call.arg = e.args[0]!;
      this.aggregates.set(key, call);
    }
  }

  /** In aggregate queries, every field read outside an aggregate must be a GROUP BY expression. */
  private checkGrouped(e: Expr, place: Place): void {
    const grouped = new Set(this.q.groupBy.map(exprKey));
    const visit = (x: Expr): void => {
      if (isAggregateCall(x) || grouped.has(exprKey(x))) return;
      if (x.type === 'field') {
        if (isWindowColumn(x)) return;
        const text = this.sql.slice(x.start, x.end);
        this.report(
          x,
          `${text} in ${place} is neither in GROUP BY nor inside an aggregate: add it to GROUP BY or use an aggregate such as first(${text})`,
        );
        return;
      }
      children(x).forEach(visit);
    };
    visit(e);
  }

  private columnNames(): string[] {
    const names: string[] = [];
    const seen = new Set<string>();
    for (const item of this.q.select) {
      const name = item.alias ?? this.nameOf(item.expr);
      if (seen.has(name)) {
        this.report(
          item.aliasPos ?? item.expr,
          `duplicate column name ${name}: give one of them another name with AS`,
        );
      }
      seen.add(name);
      names.push(name);
    }
    return names;
  }

  private nameOf(e: Expr): string {
    if (e.type === 'field') {
      let i = e.path.length - 1;
      while (i >= 0 && typeof e.path[i] === 'number') i--;
      const base = i >= 0 ? String(e.path[i]) : e.root;
      return (
        base +
        e.path
          .slice(i + 1)
          .map((s) => `[${s}]`)
          .join('')
      );
    }
    return this.sql.slice(e.start, e.end).replace(/\s+/g, ' ');
  }
}
