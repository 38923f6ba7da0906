// A Pipeline's queries compiled together, as the operator (QueriesValid), `eventrunner validate`
// and `eventrunner test` need them: each source's name in SQL (its `as`, else the EventSource's
// name), every query compiled against those names, and every problem with the query, line and
// column it is at.
import type { PipelineQuery, PipelineSource, PipelineTable } from '../../api/generated/types.js';
import { isQueryCompileError } from './errors.js';
import { compileQuery } from './query.js';
import type { CompiledQuery } from './types.js';

export interface QueryProblem {
  query: string;
  /** 1-based position in the query's sql; 0 for a problem of the Pipeline around it. */
  line: number;
  column: number;
  message: string;
}

export interface PipelineQueries {
  compiled: CompiledQuery[];
  problems: QueryProblem[];
}

/** The name a source has in queries. */
export function sourceName(source: Pick<PipelineSource, 'eventSource' | 'as'>): string {
  return source.as ?? source.eventSource;
}

export function compilePipelineQueries(
  pipeline: { namespace: string; name: string },
  spec: {
    sources: readonly Pick<PipelineSource, 'eventSource' | 'as'>[];
    queries?: readonly PipelineQuery[] | undefined;
    outputs: readonly { name: string }[];
    tables?: readonly Pick<PipelineTable, 'name' | 'key'>[] | undefined;
  },
): PipelineQueries {
  const problems: QueryProblem[] = [];
  const names = spec.sources.map(sourceName);
  const queries = spec.queries ?? [];
  names.forEach((n, i) => {
    if (names.indexOf(n) !== i)
      problems.push({
        query: queries[0]?.name ?? '',
        line: 0,
        column: 0,
        message: `two sources are named ${n} in queries; give one of them another name with sources[${i}].as`,
      });
  });
  const tables = (spec.tables ?? []).map((t) => ({ name: t.name, key: t.key }));
  for (const t of tables)
    if (names.includes(t.name))
      problems.push({
        query: queries[0]?.name ?? '',
        line: 0,
        column: 0,
        message: `table ${t.name} has the name of a source; rename it in spec.tables`,
      });
  const declared = new Set(spec.outputs.map((o) => o.name));
  const compiled: CompiledQuery[] = [];
  for (const q of queries) {
    for (const o of q.outputs)
      if (!declared.has(o))
        problems.push({
          query: q.name,
          line: 0,
          column: 0,
          message: `output ${o} is not declared in spec.outputs`,
        });
    try {
      compiled.push(
        compileQuery(
          {
            name: q.name,
            sql: q.sql,
            ...(q.type ? { type: q.type } : {}),
            partitions: q.partitions,
            idleTimeout: q.idleTimeout,
            maxStateKeys: q.maxStateKeys,
          },
          { namespace: pipeline.namespace, pipeline: pipeline.name, sources: names, tables },
        ),
      );
    } catch (err) {
      if (!isQueryCompileError(err)) throw err;
      for (const d of err.diagnostics) problems.push({ query: q.name, ...d });
    }
  }
  return { compiled, problems };
}

/** A problem as people read it: `query revenue 3:14: unknown field …`. */
export function formatQueryProblem(p: QueryProblem): string {
  return p.line > 0
    ? `query ${p.query} ${p.line}:${p.column}: ${p.message}`
    : `query ${p.query}: ${p.message}`;
}
