// The status fields behind `kubectl get` columns that summarize the spec, computed in one place so
// the operator writes them the same way everywhere.
import type { PipelineSpec, PipelineSummary, SinkSpec, SinkStatus } from './generated/types.js';

export function sinkKind(spec: SinkSpec): NonNullable<SinkStatus['kind']> {
  if (spec.scylla) return 'scylla';
  if (spec.clickhouse) return 'clickhouse';
  return spec.http ? 'http' : 'eventSource';
}

/** keyspace.table, database.table, the webhook URL (no credentials or query) or EventSource <name>. */
export function sinkTarget(spec: SinkSpec): string {
  if (spec.scylla) return `${spec.scylla.keyspace}.${spec.scylla.table}`;
  if (spec.clickhouse) return `${spec.clickhouse.database}.${spec.clickhouse.table}`;
  if (spec.http) {
    try {
      const u = new URL(spec.http.url);
      return `${u.protocol}//${u.host}${u.pathname}`;
    } catch {
      return '';
    }
  }
  if (spec.eventSource) return `EventSource ${spec.eventSource.name}`;
  return '';
}

export function pipelineSummary(spec: PipelineSpec): PipelineSummary {
  return {
    sources: spec.sources.map((s) => s.eventSource).join(','),
    outputs: spec.outputs.map((o) => `${o.name}=${o.sink}`).join(','),
  };
}
