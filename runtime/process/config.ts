// Loads and checks the processor's config once at start-up: the file's own schema (ajv, with
// defaults), each output's Sink spec through the API's Sink validator, the rules compiled, and the
// cross-field facts no schema expresses. Every error names the file and the field.
import { readFile } from 'node:fs/promises';
import { Ajv, type ErrorObject } from 'ajv';
import { parse as parseYaml } from 'yaml';
import { validateSink, formatPath } from '../../api/validate.js';
import { ConfigError } from '../common/errors.js';
import { parseDuration as durationMs } from '../../api/units.js';
import type { ConversionSettings } from '../events/index.js';
import { compileRules, isRuleCompileError, type CompiledRules } from '../rules/index.js';
import type { CredentialFiles, SinkSpec } from '../sinks/index.js';
import { processConfigSchema } from './config-schema.js';

export interface SourceConfig {
  eventSource?: string;
  stream: string;
  consumer: string;
  conversion: ConversionSettings;
}

export interface OutputConfig {
  name: string;
  sink: SinkSpec;
  credentials?: CredentialFiles;
  writeConcurrency: number;
  maxConcurrentBatches?: number;
}

/** The config as written, after defaults. */
export interface ProcessConfigFile {
  pipeline: { namespace: string; name: string };
  nats: { url: string; tokenFile?: string; userFile?: string; passwordFile?: string };
  sources: SourceConfig[];
  rules: { source?: string; file?: string; mode: 'once' | 'refire'; maxCycles: number };
  outputs: OutputConfig[];
  defaultOutputs?: string[];
  delivery: { maxDeliver: number; backoff: string[]; maxAckPending: number };
  deadLetter: { stream: string; subject: string };
  processing: { pullBatch: number; maxInFlight?: number; lagInterval: string };
  ops: { port: number; host?: string };
  shutdownGracePeriod: string;
  logLevel: string;
}

/** What the processor runs with: durations in ms, rules compiled. */
export interface ProcessConfig extends ProcessConfigFile {
  rulesCompiled: CompiledRules;
  backoffMs: number[];
  maxInFlight: number;
  lagIntervalMs: number;
  gracePeriodMs: number;
}

const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false });
const validateFile = ajv.compile(processConfigSchema);

function describe(e: ErrorObject): string {
  const where = e.instancePath ? e.instancePath.slice(1).replace(/\//g, '.') : '(root)';
  if (e.keyword === 'additionalProperties')
    return `${where}: unknown field ${String((e.params as { additionalProperty: string }).additionalProperty)}`;
  return `${where}: ${e.message ?? 'is invalid'}`;
}

/** Checks a parsed config object; `file` names it in errors. Does not read rule files. */
export function checkConfig(input: unknown, file: string, rulesText?: string): ProcessConfig {
  const value = structuredClone(input) as ProcessConfigFile;
  if (!validateFile(value)) {
    throw new ConfigError(`${file}: ${(validateFile.errors ?? []).map(describe).join('; ')}`);
  }
  const problems: string[] = [];
  value.outputs.forEach((o, i) => {
    const res = validateSink({
      apiVersion: 'eventrunner.io/v1alpha1',
      kind: 'Sink',
      metadata: { name: 'output' },
      spec: o.sink,
    });
    for (const issue of res.issues)
      problems.push(`outputs[${i}].sink${formatPath(issue.path).replace(/^spec/, '')}: ${issue.message}`);
    if (res.issues.length === 0) o.sink = res.value.spec as SinkSpec;
  });
  const names = value.outputs.map((o) => o.name);
  names.forEach(
    (n, i) => names.indexOf(n) !== i && problems.push(`outputs[${i}].name: ${n} is declared twice`),
  );
  for (const d of value.defaultOutputs ?? [])
    if (!names.includes(d))
      problems.push(`defaultOutputs: ${d} is not one of the outputs (${names.join(', ')})`);
  if (value.delivery.backoff.length >= value.delivery.maxDeliver)
    problems.push('delivery.backoff: must list fewer delays than maxDeliver');
  if (value.rules.source !== undefined && value.rules.file !== undefined)
    problems.push('rules: set source or file, not both');
  const maxInFlight = value.processing.maxInFlight ?? value.delivery.maxAckPending;
  if (maxInFlight > value.delivery.maxAckPending)
    problems.push('processing.maxInFlight: must not exceed delivery.maxAckPending');
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
    backoffMs: value.delivery.backoff.map(durationMs),
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
