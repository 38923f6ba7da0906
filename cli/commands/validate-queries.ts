// The query check of `eventrunner validate`: a Pipeline's spec.queries compiled as the operator
// compiles them for the QueriesValid condition, each problem positioned in the manifest — inside
// the `sql` string when the problem has a line and column in the query. Fields the schema already
// reports on (an undeclared output, a malformed partitions, idleTimeout or maxStateKeys) are left
// to the schema check, so each mistake is reported once, at its own place.
import type { Issue } from '../../api/crossfield.js';
import type { PipelineQuery, PipelineSource } from '../../api/generated/types.js';
import type { ManifestDocument, Position } from '../../api/manifests.js';
import { formatPath } from '../../api/validate.js';
import { compilePipelineQueries } from '../../runtime/queries/pipeline.js';

export interface PositionedMessage extends Position {
  message: string;
}

const OPTIONS = ['partitions', 'idleTimeout', 'maxStateKeys'] as const;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function list(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

/** Sources as far as queries need them: their names in SQL. */
function usableSources(sources: unknown): Pick<PipelineSource, 'eventSource' | 'as'>[] {
  return list(sources).flatMap((s) => {
    if (!isRecord(s)) return [];
    const eventSource = typeof s.eventSource === 'string' ? s.eventSource : undefined;
    const as = typeof s.as === 'string' ? s.as : undefined;
    if (eventSource === undefined && as === undefined) return [];
    return [{ eventSource: eventSource ?? '', ...(as !== undefined ? { as } : {}) }];
  });
}

/**
 * Problems of the Pipeline's queries. `spec` has the schema's defaults applied; `issues` are the
 * schema's findings for the same object.
 */
export function queryProblems(
  what: string,
  doc: ManifestDocument,
  metadata: unknown,
  spec: Record<string, unknown>,
  issues: readonly Issue[],
): PositionedMessage[] {
  const entries = list(spec.queries);
  if (entries.length === 0) return [];
  const declared = new Set(
    list(spec.outputs).flatMap((o) => (isRecord(o) && typeof o.name === 'string' ? [o.name] : [])),
  );
  const flagged = (i: number, field: string): boolean =>
    issues.some(
      (x) => x.path[0] === 'spec' && x.path[1] === 'queries' && x.path[2] === i && x.path[3] === field,
    );
  const queries: PipelineQuery[] = entries.flatMap((q, i) => {
    if (!isRecord(q) || typeof q.name !== 'string' || typeof q.sql !== 'string') return [];
    const query: Record<string, unknown> = {
      name: q.name,
      sql: q.sql,
      outputs: list(q.outputs).filter((o) => typeof o === 'string' && declared.has(o)),
    };
    for (const option of OPTIONS)
      if (q[option] !== undefined && !flagged(i, option)) query[option] = q[option];
    return [query as unknown as PipelineQuery];
  });
  const meta = isRecord(metadata) ? metadata : {};
  const { problems } = compilePipelineQueries(
    {
      namespace: typeof meta.namespace === 'string' ? meta.namespace : 'default',
      name: typeof meta.name === 'string' ? meta.name : 'pipeline',
    },
    {
      sources: usableSources(spec.sources),
      queries,
      outputs: [...declared].map((name) => ({ name })),
      // Tables the schema check let through: a name and a key each.
      tables: list(spec.tables).flatMap((t) =>
        isRecord(t) && typeof t.name === 'string' && typeof t.key === 'string'
          ? [{ name: t.name, key: t.key }]
          : [],
      ),
    },
  );
  return problems.map((p) => {
    const i = entries.findIndex((q) => isRecord(q) && q.name === p.query);
    if (p.line > 0 && i >= 0) {
      const path = ['spec', 'queries', i, 'sql'];
      return {
        ...doc.positionInString(path, p.line, p.column),
        message: `${what}: ${formatPath(path)}:${p.line}:${p.column}: query ${p.query}: ${p.message}`,
      };
    }
    const path = i >= 0 ? ['spec', 'queries', i] : ['spec', 'queries'];
    return { ...doc.position(path), message: `${what}: ${formatPath(path)}: query ${p.query}: ${p.message}` };
  });
}
