// What `eventrunner test` reads: the Pipeline from a manifest file (its rules compiled, its
// queries compiled), and the expectations of --expect. Problems are printed as
// file:line:column: message, positioned in the manifest.
import { readFileSync } from 'node:fs';
import type { Pipeline } from '../../api/generated/types.js';
import { parseManifests, type ManifestDocument } from '../../api/manifests.js';
import { formatPath, validatePipeline } from '../../api/validate.js';
import { ConfigError, UsageError } from '../../runtime/common/errors.js';
import { compilePipelineQueries, type PipelineQueries } from '../../runtime/queries/pipeline.js';
import {
  compileRules,
  isRuleCompileError,
  type CompiledRules,
  type RuleMode,
} from '../../runtime/rules/index.js';

interface PipelineSpec {
  rules?: unknown;
  outputs?: unknown;
  defaultOutputs?: unknown;
  ruleEngine?: { mode?: unknown; maxCycles?: unknown };
}

export function readText(path: string): string {
  try {
    return readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${path}: ${(err as Error).message}`);
  }
}

export function findPipeline(path: string, wanted: string | undefined): ManifestDocument {
  const { documents, errors } = parseManifests(readText(path));
  if (errors.length > 0) {
    const e = errors[0]!;
    throw new ConfigError(`${path}:${e.line}:${e.column}: ${e.message}`);
  }
  const pipelines = documents.filter((d) => {
    const o = d.object as { kind?: unknown; apiVersion?: unknown };
    return (
      o.kind === 'Pipeline' && typeof o.apiVersion === 'string' && o.apiVersion.startsWith('eventrunner.io/')
    );
  });
  const name = (d: ManifestDocument): string =>
    String((d.object as { metadata?: { name?: unknown } }).metadata?.name);
  if (wanted !== undefined) {
    const found = pipelines.find((d) => name(d) === wanted);
    if (!found)
      throw new UsageError(
        `${path} has no Pipeline named ${wanted} (found: ${pipelines.map(name).join(', ') || 'none'})`,
      );
    return found;
  }
  if (pipelines.length === 0) throw new ConfigError(`${path} holds no eventrunner.io Pipeline`);
  if (pipelines.length > 1) {
    throw new UsageError(
      `${path} holds ${pipelines.length} Pipelines (${pipelines.map(name).join(', ')}); choose one with --pipeline`,
    );
  }
  return pipelines[0]!;
}

/** Compiles the Pipeline's rules; on errors prints `file:line:column: message` and returns undefined. */
export function compilePipeline(path: string, doc: ManifestDocument): CompiledRules | undefined {
  const spec = ((doc.object as { spec?: PipelineSpec }).spec ?? {}) as PipelineSpec;
  const outputs = Array.isArray(spec.outputs)
    ? spec.outputs.map((o: unknown) => String((o as { name?: unknown }).name))
    : [];
  if (outputs.length === 0) throw new ConfigError(`${path}: the Pipeline declares no spec.outputs`);
  const defaultOutputs = Array.isArray(spec.defaultOutputs) ? spec.defaultOutputs.map(String) : undefined;
  const mode = (spec.ruleEngine?.mode ?? 'once') as RuleMode;
  if (mode !== 'once' && mode !== 'refire')
    throw new ConfigError(`${path}: spec.ruleEngine.mode must be once or refire`);
  const maxCycles = spec.ruleEngine?.maxCycles === undefined ? undefined : Number(spec.ruleEngine.maxCycles);
  if (maxCycles !== undefined && !(Number.isInteger(maxCycles) && maxCycles >= 1)) {
    throw new ConfigError(`${path}: spec.ruleEngine.maxCycles must be a positive integer`);
  }
  const unknown = defaultOutputs?.filter((d) => !outputs.includes(d)) ?? [];
  if (unknown.length > 0) {
    throw new ConfigError(`${path}: spec.defaultOutputs names ${unknown.join(', ')}, not in spec.outputs`);
  }
  const rules = typeof spec.rules === 'string' ? spec.rules : '';
  try {
    return compileRules(rules, {
      outputs,
      mode,
      maxCycles,
      defaultOutputs,
      log: (rule, message) => process.stderr.write(`log: rule ${rule}: ${message}\n`),
    });
  } catch (err) {
    if (!isRuleCompileError(err)) throw err;
    for (const d of err.diagnostics) {
      const at = doc.positionInString(['spec', 'rules'], d.line, d.column);
      process.stderr.write(`${path}:${at.line}:${at.column}: ${d.message}\n`);
    }
    return undefined;
  }
}

export type Expectations = Map<string, { line: number; expected: Record<string, unknown> }>;

/** Expectation lines, each a JSON object with a string "id", found by `keyOf` (at most one each). */
export function loadExpectations(
  path: string,
  keyOf: (e: { id: string; query?: unknown; outcome?: unknown }) => string,
): Expectations {
  const out: Expectations = new Map();
  readText(path)
    .split('\n')
    .forEach((text, i) => {
      if (text.trim() === '') return;
      let expected: unknown;
      try {
        expected = JSON.parse(text);
      } catch (err) {
        throw new ConfigError(`${path}:${i + 1}: not valid JSON: ${(err as Error).message}`);
      }
      const id = (expected as { id?: unknown } | null)?.id;
      if (typeof expected !== 'object' || expected === null || typeof id !== 'string') {
        throw new ConfigError(`${path}:${i + 1}: an expectation is a JSON object with a string "id"`);
      }
      const key = keyOf(expected as { id: string });
      if (out.has(key)) throw new ConfigError(`${path}:${i + 1}: a second expectation for id ${id}`);
      out.set(key, { line: i + 1, expected: expected as Record<string, unknown> });
    });
  return out;
}

/**
 * Compiles the Pipeline's queries (none: an empty set). The Pipeline must pass the API's checks
 * first, since queries need its defaults; every problem is printed and undefined returned.
 */
export function compileQueries(path: string, doc: ManifestDocument): PipelineQueries | undefined {
  const object = doc.object as { spec?: { queries?: unknown } };
  if (object.spec?.queries === undefined) return { compiled: [], problems: [] };
  const { value, issues } = validatePipeline(object);
  if (issues.length > 0) {
    for (const i of issues) {
      const at = doc.position(i.path.map(String));
      process.stderr.write(`${path}:${at.line}:${at.column}: ${formatPath(i.path)}: ${i.message}\n`);
    }
    return undefined;
  }
  const pl = value as Pipeline;
  const queries = compilePipelineQueries(
    { namespace: pl.metadata.namespace ?? 'default', name: pl.metadata.name ?? 'pipeline' },
    pl.spec,
  );
  for (const p of queries.problems) {
    const i = (pl.spec.queries ?? []).findIndex((q) => q.name === p.query);
    const at =
      p.line > 0 && i >= 0
        ? doc.positionInString(['spec', 'queries', i, 'sql'], p.line, p.column)
        : doc.position(['spec', 'queries', ...(i >= 0 ? [i] : [])]);
    process.stderr.write(`${path}:${at.line}:${at.column}: query ${p.query}: ${p.message}\n`);
  }
  return queries.problems.length > 0 ? undefined : queries;
}
