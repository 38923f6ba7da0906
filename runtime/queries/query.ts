// Compiling a query definition, restoring partitions from checkpoints, and results as CloudEvents.
import { createHash } from 'node:crypto';
import type { StepSpec } from './check-from.js';
import { checkQuery, type CheckedQuery } from './checker.js';
import { exprKey } from './expr-tree.js';
import { newRowContext } from './compile-expr.js';
import { parseGoDuration } from './duration.js';
import { QueryCompileError, QueryStateError, type QueryDiagnostic } from './errors.js';
import { partitionOf } from './ids.js';
import { parseQuery } from './parser.js';
import { accepts, buildPlan, keyTextOf, keyValuesOf, type Plan } from './plan.js';
import { Partition, restorePartition } from './state.js';
import { boundOf, joinKeyOf, joinKeyValues } from './join-plan.js';
import type {
  CompiledQuery,
  PartitionState,
  QueryCheckpoint,
  QueryContext,
  QueryDefinition,
  QueryInput,
  QueryResult,
  WindowKindName,
} from './types.js';
import { projectorOf } from './projection.js';

export const DEFAULT_IDLE_TIMEOUT_MS = 10_000;
export const DEFAULT_MAX_STATE_KEYS = 1_000_000;

/** The compiled plan behind each compiled query, for restoreState. */
const plans = new WeakMap<CompiledQuery, Plan>();

/**
 * What shapes a partition's state: the window, the filter, the key and the aggregates. Changing
 * SELECT or HAVING keeps checkpoints usable; changing any of these does not.
 */
function fingerprintOf(name: string, checked: CheckedQuery): string {
  const shape = [
    1,
    name,
    checked.window ?? null,
    checked.pattern ? patternShape(checked) : null,
    checked.join
      ? [
          checked.join.kind,
          checked.join.left,
          checked.join.within,
          checked.join.leftSource,
          checked.join.right,
        ]
      : null,
    checked.where ? exprKey(checked.where) : null,
    checked.groupBy.map(exprKey),
    checked.aggregates.map((a) => a.key),
  ];
  return createHash('sha256').update(JSON.stringify(shape)).digest('hex');
}

/** What shapes a pattern's runs: its elements, conditions, WITHIN and PARTITION BY. */
function patternShape(checked: CheckedQuery): unknown {
  const p = checked.pattern!;
  const step = (s: StepSpec) => [
    s.slot,
    s.source,
    s.cond ? exprKey(s.cond) : null,
    s.min,
    Number.isFinite(s.max) ? s.max : null,
  ];
  return [
    p.strict,
    p.every,
    p.within,
    p.grace,
    p.partitionBy.map(exprKey),
    p.elements.map((el) =>
      el.type === 'step'
        ? ['step', step(el.step)]
        : el.type === 'absent'
          ? ['absent', el.source, el.cond ? exprKey(el.cond) : null, el.forMs]
          : [el.type, el.steps.map(step)],
    ),
  ];
}

function optionsDiagnostics(def: QueryDefinition): {
  idle: number;
  maxStateKeys: number;
  partitions: number;
  diagnostics: QueryDiagnostic[];
} {
  const diagnostics: QueryDiagnostic[] = [];
  const at = (message: string): void => {
    diagnostics.push({ line: 1, column: 1, message });
  };
  let idle = DEFAULT_IDLE_TIMEOUT_MS;
  if (def.idleTimeout !== undefined) {
    const parsed = parseGoDuration(def.idleTimeout);
    if (typeof parsed === 'string') at(`idleTimeout: ${parsed}`);
    else if (parsed < 1) at(`idleTimeout must be at least 1ms, got ${def.idleTimeout}`);
    else idle = parsed;
  }
  const positiveInt = (v: number | undefined, name: string, fallback: number): number => {
    if (v === undefined) return fallback;
    if (!Number.isSafeInteger(v) || v < 1) at(`${name} must be a positive integer, got ${v}`);
    return v;
  };
  const maxStateKeys = positiveInt(def.maxStateKeys, 'maxStateKeys', DEFAULT_MAX_STATE_KEYS);
  const partitions = positiveInt(def.partitions, 'partitions', 1);
  return { idle, maxStateKeys, partitions, diagnostics };
}

/** Compiles a query; throws QueryCompileError listing every problem (positions in def.sql). */
export function compileQuery(def: QueryDefinition, ctx: QueryContext): CompiledQuery {
  const parsed = parseQuery(def.sql);
  if (!parsed.query) throw new QueryCompileError(def.name, parsed.diagnostics);
  const { checked, diagnostics } = checkQuery(parsed.query, def.sql, ctx.sources, ctx.tables ?? []);
  const opts = optionsDiagnostics(def);
  diagnostics.push(...opts.diagnostics);
  if (diagnostics.length > 0) {
    diagnostics.sort((a, b) => a.line - b.line || a.column - b.column);
    throw new QueryCompileError(def.name, diagnostics);
  }
  const plan = buildPlan(checked, {
    name: def.name,
    namespace: ctx.namespace,
    pipeline: ctx.pipeline,
    idleTimeout: opts.idle,
    maxStateKeys: opts.maxStateKeys,
    fingerprint: fingerprintOf(def.name, checked),
  });
  const scratch = newRowContext();
  const join = plan.join;
  const query: CompiledQuery = {
    name: def.name,
    namespace: ctx.namespace,
    pipeline: ctx.pipeline,
    type: def.type ?? `${ctx.pipeline}.${def.name}`,
    kind: checked.pattern ? 'pattern' : checked.join ? 'join' : checked.window ? 'window' : 'stateless',
    ...(checked.window ? { windowKind: checked.window.kind as WindowKindName } : {}),
    emit: checked.emit,
    columns: Object.freeze([...checked.columns]),
    source: checked.source,
    sources: Object.freeze([...checked.sources]),
    partitions: opts.partitions,
    keyOf(input: QueryInput): string | undefined {
      if (join) return joinKeyOf(join, input);
      scratch.ev = input.event;
      if (!accepts(plan, scratch)) return undefined;
      return keyTextOf(keyValuesOf(plan, scratch));
    },
    partitionOf,
    project: projectorOf(checked),
    createState: () => new Partition(plan),
  };
  if (join?.kind === 'lookup') {
    const keyColumn = checked.join!.keyColumn!;
    const lookupKey = join.leftKeys;
    Object.assign(query, {
      lookup: Object.freeze({
        table: join.right,
        keyColumn,
        left: join.left,
        keyOf: (input: QueryInput): unknown =>
          joinKeyValues(lookupKey, 0, boundOf(input, 0), newRowContext())?.[0],
      }),
    });
  }
  plans.set(query, plan);
  return Object.freeze(query);
}

/** A partition rebuilt from a checkpoint of this query; throws QueryStateError when it cannot be. */
export function restoreState(q: CompiledQuery, cp: QueryCheckpoint): PartitionState {
  const plan = plans.get(q);
  if (!plan) throw new QueryStateError('restoreState needs a query made by compileQuery');
  return restorePartition(plan, cp);
}

/** A result as a structured-mode CloudEvent. */
export function resultEvent(q: CompiledQuery, r: QueryResult): Record<string, unknown> {
  return {
    specversion: '1.0',
    id: r.id,
    source: `/namespaces/${q.namespace}/pipelines/${q.pipeline}/queries/${q.name}`,
    type: q.type,
    time: r.time,
    datacontenttype: 'application/json',
    data: r.data,
  };
}
