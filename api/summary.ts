// The status fields behind `kubectl get` columns that summarize the spec, computed in one place so
// the operator writes them the same way everywhere.
import type { PipelineSpec, PipelineSummary, SinkSpec, SinkStatus } from './generated/types.js';

export function sinkKind(spec: SinkSpec): NonNullable<SinkStatus['kind']> {
  return spec.scylla ? 'scylla' : 'clickhouse';
}

/** keyspace.table or database.table */
export function sinkTarget(spec: SinkSpec): string {
  if (spec.scylla) return `${spec.scylla.keyspace}.${spec.scylla.table}`;
  if (spec.clickhouse) return `${spec.clickhouse.database}.${spec.clickhouse.table}`;
  return '';
}

export function pipelineSummary(spec: PipelineSpec): PipelineSummary {
  return {
    sources: spec.sources.map((s) => s.eventSource).join(','),
    outputs: spec.outputs.map((o) => `${o.name}=${o.sink}`).join(','),
  };
}
