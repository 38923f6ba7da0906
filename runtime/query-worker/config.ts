// Loads and checks the query worker's config once at start-up: the schema of api/schema/config
// (ajv with defaults, the embedded Sink specs and queries checked by their CRD rules), then every
// query compiled against the source names. Every error names the file and the field.
import { hostname } from 'node:os';
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import type { QueryWorkerConfig } from '../../api/generated/types.js';
import { validate as precompiled } from '../../api/generated/validators/query-worker-config.js';
import { validateConfig } from '../../api/validate-config.js';
import { formatPath } from '../../api/validation.js';
import { parseDuration as durationMs } from '../../api/units.js';
import { queryWorkerConfig } from '../../api/schema/config/index.js';
import { ConfigError } from '../common/errors.js';
import type { CompiledQuery } from '../queries/index.js';
import { compilePipelineQueries, formatQueryProblem } from '../queries/pipeline.js';

/** What the worker runs with: the config after defaults, durations in ms, queries compiled. */
export interface WorkerConfig extends QueryWorkerConfig {
  workerId: string;
  compiled: CompiledQuery[];
  leaseMs: number;
  checkpointIntervalMs: number;
  tickMs: number;
  gracePeriodMs: number;
  /** Each lookup table's cache TTL in ms, by table name. */
  tableTtlMs: ReadonlyMap<string, number>;
}

/** Checks a parsed config object; `file` names it in errors. */
export function checkWorkerConfig(input: unknown, file: string): WorkerConfig {
  const { value, issues } = validateConfig<QueryWorkerConfig>(queryWorkerConfig, input, precompiled);
  if (issues.length)
    throw new ConfigError(
      `${file}: ${issues.map((i) => `${formatPath(i.path) || '(root)'}: ${i.message}`).join('; ')}`,
    );
  const { compiled, problems } = compilePipelineQueries(value.pipeline, {
    sources: value.sources.map((name) => ({ eventSource: name })),
    queries: value.queries,
    outputs: value.outputs,
    tables: value.tables,
  });
  const tableProblems = (value.tables ?? []).flatMap((t, i) =>
    t.sink.scylla || t.sink.clickhouse
      ? []
      : [
          `tables[${i}].sink: table ${t.name} must name a Cassandra/ScyllaDB or ClickHouse Sink to read rows from`,
        ],
  );
  if (problems.length || tableProblems.length)
    throw new ConfigError(`${file}: ${[...problems.map(formatQueryProblem), ...tableProblems].join('; ')}`);
  const leaseMs = durationMs(value.state.leaseDuration);
  if (leaseMs < 1000) throw new ConfigError(`${file}: state.leaseDuration: must be at least 1s`);
  return {
    ...value,
    workerId: value.workerId ?? `${hostname()}-${process.pid}`,
    compiled,
    leaseMs,
    checkpointIntervalMs: durationMs(value.state.checkpointInterval),
    tickMs: durationMs(value.processing.tickInterval),
    gracePeriodMs: durationMs(value.shutdownGracePeriod),
    tableTtlMs: new Map((value.tables ?? []).map((t) => [t.name, durationMs(t.cache.ttl)])),
  };
}

/** Reads a YAML or JSON config file and checks it. */
export async function loadWorkerConfig(file: string): Promise<WorkerConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, {
      cause: err,
    });
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (err) {
    throw new ConfigError(`${file}: not valid YAML/JSON: ${(err as Error).message}`, { cause: err });
  }
  return checkWorkerConfig(parsed, file);
}
