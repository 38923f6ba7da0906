// Loads and checks the processor's config once at start-up: the schema of api/schema/config (ajv,
// with defaults, the embedded Sink specs and delivery checked by their CRD rules), the rules
// compiled, and the cross-field facts no schema expresses. Every error names the file and the field.
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import type { ProcessorConfig, ProcessorOutput, ProcessorSource } from '../../api/generated/types.js';
import { validate as precompiled } from '../../api/generated/validators/processor-config.js';
import { processorConfig } from '../../api/schema/config/index.js';
import { validateConfig } from '../../api/validate-config.js';
import { formatPath } from '../../api/validation.js';
import { ConfigError } from '../common/errors.js';
import { parseDuration as durationMs } from '../../api/units.js';
import { compileRules, isRuleCompileError, type CompiledRules } from '../rules/index.js';
import { compilePipelineQueries, formatQueryProblem } from '../queries/pipeline.js';
import type { CompiledQuery } from '../queries/index.js';

export type SourceConfig = ProcessorSource;
export type OutputConfig = ProcessorOutput;

/** What the processor runs with: the config after defaults, durations in ms, rules compiled. */
export interface ProcessConfig extends ProcessorConfig {
  rulesCompiled: CompiledRules;
  /** The queries, compiled against the sources' names in queries. */
  queriesCompiled: CompiledQuery[];
  backoffMs: number[];
  maxInFlight: number;
  lagIntervalMs: number;
  gracePeriodMs: number;
}

/** Checks a parsed config object; `file` names it in errors. Does not read rule files. */
export function checkConfig(input: unknown, file: string, rulesText?: string): ProcessConfig {
  const { value, issues } = validateConfig<ProcessorConfig>(processorConfig, input, precompiled);
  if (issues.length) {
    throw new ConfigError(
      `${file}: ${issues.map((i) => `${formatPath(i.path) || '(root)'}: ${i.message}`).join('; ')}`,
    );
  }
  const problems: string[] = [];
  value.outputs.forEach(({ credentials: c, sink, eventSource }, i) => {
    if (sink.eventSource && !eventSource)
      problems.push(
        `outputs[${i}].eventSource: required for an eventSource Sink (the target's stream and subjectPrefix)`,
      );
    if (!c) return;
    if (!c.usernameFile !== !c.passwordFile)
      problems.push(
        `outputs[${i}].credentials: usernameFile and passwordFile go together; set both or neither`,
      );
    else if (c.usernameFile && c.tokenFile)
      problems.push(`outputs[${i}].credentials: set usernameFile and passwordFile, or tokenFile, not both`);
    else if (!c.usernameFile && !c.tokenFile && !c.caFile)
      problems.push(
        `outputs[${i}].credentials: name usernameFile and passwordFile, or tokenFile, or caFile, or leave it out`,
      );
  });
  const names = value.outputs.map((o) => o.name);
  names.forEach(
    (n, i) => names.indexOf(n) !== i && problems.push(`outputs[${i}].name: ${n} is declared twice`),
  );
  for (const d of value.defaultOutputs ?? [])
    if (!names.includes(d))
      problems.push(`defaultOutputs: ${d} is not one of the outputs (${names.join(', ')})`);
  if (value.rules.source !== undefined && value.rules.file !== undefined)
    problems.push('rules: set source or file, not both');
  const maxInFlight = value.processing.maxInFlight ?? value.delivery.maxAckPending;
  if (maxInFlight > value.delivery.maxAckPending)
    problems.push('processing.maxInFlight: must not exceed delivery.maxAckPending');
  if (value.queries?.length && !value.shuffle)
    problems.push('shuffle: queries need the shuffle stream to publish their inputs to');
  const queries = compilePipelineQueries(value.pipeline, {
    sources: value.sources.map((s) => ({ eventSource: s.eventSource ?? s.stream, as: s.as })),
    queries: value.queries,
    outputs: value.outputs,
    tables: value.tables,
  });
  problems.push(...queries.problems.map(formatQueryProblem));
  if (problems.length) throw new ConfigError(`${file}: ${problems.join('; ')}`);

  let rulesCompiled: CompiledRules;
  try {
    rulesCompiled = compileRules(rulesText ?? value.rules.source ?? '', {
      outputs: names,
      mode: value.rules.mode,
      maxCycles: value.rules.maxCycles,
      ...(value.defaultOutputs ? { defaultOutputs: value.defaultOutputs } : {}),
    });
  } catch (err) {
    if (!isRuleCompileError(err)) throw err;
    const where = value.rules.file ?? `${file} rules.source`;
    throw new ConfigError(
      err.diagnostics.map((d) => `${where}:${d.line}:${d.column}: ${d.message}`).join('\n'),
      {
        cause: err,
      },
    );
  }
  return {
    ...value,
    rulesCompiled,
    queriesCompiled: queries.compiled,
    backoffMs: (value.delivery.backoff ?? []).map(durationMs),
    maxInFlight,
    lagIntervalMs: durationMs(value.processing.lagInterval),
    gracePeriodMs: durationMs(value.shutdownGracePeriod),
  };
}

/** Reads a YAML or JSON config file (and its rules file) and checks it. */
export async function loadConfig(file: string): Promise<ProcessConfig> {
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
  const rulesFile = (parsed as { rules?: { file?: unknown } } | null)?.rules?.file;
  let rulesText: string | undefined;
  if (typeof rulesFile === 'string') {
    try {
      rulesText = await readFile(rulesFile, 'utf8');
    } catch (err) {
      throw new ConfigError(
        `${file}: rules.file ${rulesFile}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
        {
          cause: err,
        },
      );
    }
  }
  return checkConfig(parsed, file, rulesText);
}
