// `eventrunner test -f pipeline.yaml --events events.jsonl [--expect expected.jsonl]`: runs a
// Pipeline's rules offline and prints one JSON result per input event, in input order. With
// --expect it also compares the results with expectations and exits 1 on any mismatch, which is
// what a GitOps CI job runs. Exit 0: ran (and matched); 1: the manifest, rules, events or
// expectations are wrong; 2: bad usage (flags, unreadable files, an ambiguous Pipeline).
import { createReadStream, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseManifests, type ManifestDocument } from '../../api/manifests.js';
import { ConfigError, isConfigError, UsageError } from '../../runtime/common/errors.js';
import {
  compileRules,
  isRuleCompileError,
  type CompiledRules,
  type RuleMode,
} from '../../runtime/rules/index.js';
import {
  compareExpectation,
  DEFAULT_RAW_SOURCE,
  DEFAULT_RAW_TYPE,
  eventFromLine,
  formatMismatch,
  InputLineError,
  testResult,
} from '../../runtime/rules/offline.js';

const usage = `Usage: eventrunner test -f <pipeline.yaml> --events <events.jsonl|-> [options]

Runs a Pipeline's rules on events without a cluster and prints one JSON object per event, in
input order: {"id", "outcome", "routes", "reason" (deadletter only), "event"}.

Input lines with "specversion" are structured CloudEvents and are used as they are. Any other
JSON line is raw data and is wrapped as a CloudEvent: id "line-N" (N = line number), type from
--type, source from --source, datacontenttype application/json, data = the line.

Options:
  -f, --filename <file>   manifest file holding the Pipeline (may hold several documents)
  --events <file|->       events, one JSON value per line (- reads stdin)
  --expect <file>         expected results, one JSON object per line, matched by "id"; exit 1
                          on a mismatch. "outcome", "routes", "reason" must be equal when given;
                          "event" matches when every field it lists matches (a subset)
  --pipeline <name>       which Pipeline, when the file has several
  --type <type>           type of wrapped raw events (default ${DEFAULT_RAW_TYPE})
  --source <source>       source of wrapped raw events (default ${DEFAULT_RAW_SOURCE})
  -q, --quiet             with --expect, print only the report, not the results
  -h, --help              show this help
`;

interface Options {
  manifest: string;
  events: string;
  expect?: string;
  pipeline?: string;
  type: string;
  source: string;
  quiet: boolean;
}

function parseArgs(argv: string[]): Options | undefined {
  const opts: Partial<Options> = { type: DEFAULT_RAW_TYPE, source: DEFAULT_RAW_SOURCE, quiet: false };
  const valueFlags: Record<string, keyof Options> = {
    '-f': 'manifest',
    '--filename': 'manifest',
    '--events': 'events',
    '--expect': 'expect',
    '--pipeline': 'pipeline',
    '--type': 'type',
    '--source': 'source',
  };
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i]!;
    let inline: string | undefined;
    const eq = arg.indexOf('=');
    if (arg.startsWith('--') && eq > 0) {
      inline = arg.slice(eq + 1);
      arg = arg.slice(0, eq);
    }
    if (arg === '-h' || arg === '--help') return undefined;
    if (arg === '-q' || arg === '--quiet') {
      opts.quiet = true;
      continue;
    }
    const key = valueFlags[arg];
    if (!key)
      throw new UsageError(`unknown argument ${JSON.stringify(argv[i])}; see eventrunner test --help`);
    const value = inline ?? argv[++i];
    if (value === undefined || value === '') throw new UsageError(`${arg} needs a value`);
    (opts as Record<string, unknown>)[key] = value;
  }
  if (!opts.manifest) throw new UsageError('no manifest given; use -f <pipeline.yaml>');
  if (!opts.events) throw new UsageError('no events given; use --events <events.jsonl|->');
  if (opts.manifest === '-' && opts.events === '-')
    throw new UsageError('only one of -f and --events can be -');
  if (opts.quiet && !opts.expect) throw new UsageError('--quiet only makes sense with --expect');
  return opts as Options;
}

interface PipelineSpec {
  rules?: unknown;
  outputs?: unknown;
  defaultOutputs?: unknown;
  ruleEngine?: { mode?: unknown; maxCycles?: unknown };
}

function readText(path: string): string {
  try {
    return readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${path}: ${(err as Error).message}`);
  }
}

function findPipeline(path: string, wanted: string | undefined): ManifestDocument {
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
function compilePipeline(path: string, doc: ManifestDocument): CompiledRules | undefined {
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

function loadExpectations(path: string): Map<string, { line: number; expected: Record<string, unknown> }> {
  const out = new Map<string, { line: number; expected: Record<string, unknown> }>();
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
      if (out.has(id)) throw new ConfigError(`${path}:${i + 1}: a second expectation for id ${id}`);
      out.set(id, { line: i + 1, expected: expected as Record<string, unknown> });
    });
  return out;
}

export async function run(argv: string[]): Promise<number> {
  const opts = parseArgs(argv);
  if (!opts) {
    process.stdout.write(usage);
    return 0;
  }
  let rules: CompiledRules | undefined;
  let expectations: ReturnType<typeof loadExpectations> | undefined;
  try {
    rules = compilePipeline(opts.manifest, findPipeline(opts.manifest, opts.pipeline));
    expectations = opts.expect ? loadExpectations(opts.expect) : undefined;
  } catch (err) {
    if (!isConfigError(err)) throw err;
    process.stderr.write(`${err.message}\n`);
    return 1;
  }
  if (!rules) return 1;
  const seen = new Set<string>();
  const failures: string[] = [];
  let count = 0;
  const input = createInterface({
    input: opts.events === '-' ? process.stdin : createReadStream(opts.events),
    crlfDelay: Infinity,
  });
  let line = 0;
  try {
    for await (const text of input) {
      line++;
      const event = eventFromLine(text, line, { type: opts.type, source: opts.source });
      if (!event) continue;
      count++;
      const result = testResult(rules.evaluate(event));
      if (!opts.quiet) process.stdout.write(`${JSON.stringify(result)}\n`);
      const exp = expectations?.get(result.id);
      if (!exp) continue;
      seen.add(result.id);
      const mismatches = compareExpectation(exp.expected, result);
      if (mismatches.length > 0) {
        failures.push(
          [
            `${opts.events}:${line} (id ${result.id}, expected at ${opts.expect}:${exp.line}):`,
            ...mismatches.map((m) => `  ${formatMismatch(m)}`),
          ].join('\n'),
        );
      }
    }
  } catch (err) {
    if (err instanceof InputLineError) {
      process.stderr.write(`${opts.events}:${err.line}: ${err.message}\n`);
      return 1;
    }
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      throw new UsageError(`cannot read ${opts.events}: no such file`);
    throw err;
  }
  if (!expectations) return 0;
  for (const [id, exp] of expectations) {
    if (!seen.has(id)) failures.push(`${opts.expect}:${exp.line}: no event with id ${id} in ${opts.events}`);
  }
  for (const f of failures) process.stderr.write(`${f}\n`);
  const checked = seen.size;
  if (failures.length > 0) {
    process.stderr.write(
      `FAIL: ${failures.length} of ${expectations.size} expectations not met (${count} events)\n`,
    );
    return 1;
  }
  process.stderr.write(
    `ok: ${checked} expectations met (${count} events, ${count - checked} without expectation)\n`,
  );
  return 0;
}
