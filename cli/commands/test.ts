// `eventrunner test -f pipeline.yaml --events events.jsonl [--expect expected.jsonl]`: runs a
// Pipeline's rules offline and prints one JSON result per input event, in input order. With
// --expect it also compares the results with expectations and exits 1 on any mismatch, which is
// what a GitOps CI job runs. Exit 0: ran (and matched); 1: the manifest, rules, events or
// expectations are wrong; 2: bad usage (flags, unreadable files, an ambiguous Pipeline).
import { createReadStream, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Pipeline } from '../../api/generated/types.js';
import { isConfigError, UsageError } from '../../runtime/common/errors.js';
import { helpText, parseFlags, type CommandSpec } from '../../runtime/common/flags.js';
import { QueryInputs, runQueries } from '../../runtime/queries/offline-pipeline.js';
import { sourceName, type PipelineQueries } from '../../runtime/queries/pipeline.js';
import { keptForQueries, type CompiledRules } from '../../runtime/rules/index.js';
import {
  compareExpectation,
  DEFAULT_RAW_SOURCE,
  DEFAULT_RAW_TYPE,
  eventFromLine,
  formatMismatch,
  InputLineError,
  testResult,
} from '../../runtime/rules/offline.js';
import type { CloudEvent } from '../../runtime/events/index.js';
import { isSchemaViolation, type SchemaRegistry } from '../../runtime/ingest/schemas.js';
import { offlineRegistry } from './schema-inputs.js';
import {
  compilePipeline,
  compileQueries,
  findPipeline,
  loadExpectations,
  type Expectations,
} from './test-inputs.js';

export const testCommand = {
  command: 'eventrunner test',
  about: `Runs a Pipeline's rules on events without a cluster and prints one JSON object per event, in
input order: {"id", "outcome", "routes", "reason" (deadletter only), "event"}.

Input lines with "specversion" are structured CloudEvents and are used as they are. Any other
JSON line is raw data and is wrapped as a CloudEvent: id "line-N" (N = line number), type from
--type, source from --raw-source, datacontenttype application/json, data = the line.

Then the Pipeline's queries run over the events the rules kept, and one line per result follows:
{"query", "id", "time", "data", "routes"}, and one per late event: {"query", "outcome": "late",
"id"}. End of input closes every window. See docs/queries.md.

Exit status: 0 ran (and every expectation matched); 1 the manifest, rules, events or expectations
are wrong, or an expectation did not match; 2 bad usage (flags, unreadable files, an ambiguous
Pipeline).`,
  flags: {
    filename: {
      type: 'string',
      short: 'f',
      value: 'pipeline.yaml',
      required: true,
      description: 'manifest file holding the Pipeline (may hold several documents; - reads stdin)',
    },
    events: {
      type: 'string',
      value: 'events.jsonl|-',
      description:
        'events, one JSON value per line (- reads stdin); each goes to every source whose types match it',
    },
    source: {
      type: 'string',
      value: 'NAME=FILE',
      multiple: true,
      description: "a whole file of events for one source (its name in queries), after --events' events",
    },
    table: {
      type: 'string',
      value: 'NAME=FILE',
      multiple: true,
      description:
        "rows of a lookup table (spec.tables), one JSON object per line; a lookup join reads the row whose key column equals the event's key",
    },
    'crash-at': {
      type: 'string',
      value: 'N',
      description:
        'also run the queries with a checkpoint after event N, the engine thrown away, restored and replayed; exit 1 if the results differ',
    },
    expect: {
      type: 'string',
      value: 'file',
      description:
        'expected results, one JSON object per line, matched by "id"; exit 1 on a mismatch. "outcome", "routes", "reason" must be equal when given; "event" matches when every field it lists matches (a subset)',
    },
    pipeline: { type: 'string', value: 'name', description: 'which Pipeline, when the file has several' },
    type: {
      type: 'string',
      value: 'type',
      default: DEFAULT_RAW_TYPE,
      description: 'type of wrapped raw events',
    },
    'raw-source': {
      type: 'string',
      value: 'source',
      default: DEFAULT_RAW_SOURCE,
      description: 'source attribute of wrapped raw events',
    },
    quiet: {
      type: 'boolean',
      short: 'q',
      description: 'with --expect, print only the report, not the results',
    },
    schemas: {
      type: 'string',
      value: 'eventsource.yaml',
      multiple: true,
      description:
        'check each event against the JSON Schemas of the EventSource in these files (ConfigMaps alongside), as ingest does; a refused event prints {"id", "outcome": "refused", "reason", "pointer", "keyword"} and does not reach the rules',
    },
  },
} as const satisfies CommandSpec;

interface Options {
  manifest: string;
  events: string | undefined;
  sources: { name: string; file: string }[];
  tables: { name: string; file: string }[];
  crashAt: number | undefined;
  expect: string | undefined;
  pipeline: string | undefined;
  type: string;
  rawSource: string;
  quiet: boolean;
  schemas: string[];
}

/** The flags, checked against each other; undefined when --help was asked for. */
function parseOptions(argv: string[]): Options | undefined {
  const parsed = parseFlags(testCommand, argv);
  if (parsed.help) return undefined;
  const v = parsed.values;
  const sources = (v.source ?? []).map((text) => {
    const eq = text.indexOf('=');
    if (eq <= 0 || eq === text.length - 1) throw new UsageError(`--source ${text}: use NAME=FILE`);
    return { name: text.slice(0, eq), file: text.slice(eq + 1) };
  });
  const tables = (v.table ?? []).map((text) => {
    const eq = text.indexOf('=');
    if (eq <= 0 || eq === text.length - 1) throw new UsageError(`--table ${text}: use NAME=FILE`);
    return { name: text.slice(0, eq), file: text.slice(eq + 1) };
  });
  const crashAt = v['crash-at'] === undefined ? undefined : Number(v['crash-at']);
  if (crashAt !== undefined && !(Number.isSafeInteger(crashAt) && crashAt >= 0))
    throw new UsageError(`--crash-at ${v['crash-at']}: use a number of events, 0 or more`);
  const opts: Options = {
    manifest: v.filename,
    events: v.events,
    sources,
    tables,
    crashAt,
    expect: v.expect,
    pipeline: v.pipeline,
    type: v.type,
    rawSource: v['raw-source'],
    quiet: v.quiet,
    schemas: v.schemas,
  };
  if (opts.events === undefined && sources.length === 0)
    throw new UsageError('--events or --source is required: where do the events come from?');
  const stdin = [opts.manifest, opts.events, ...sources.map((x) => x.file)].filter((f) => f === '-');
  if (stdin.length > 1) throw new UsageError('only one of -f, --events and --source files can be -');
  if (opts.quiet && !opts.expect) throw new UsageError('--quiet only makes sense with --expect');
  return opts;
}

/** The rows of each --table file, by table name; a name must be one of spec.tables. */
function readTables(
  files: readonly { name: string; file: string }[],
  pipeline: Pipeline,
): Map<string, Record<string, unknown>[]> {
  const declared = new Set((pipeline.spec?.tables ?? []).map((t) => t.name));
  const tables = new Map<string, Record<string, unknown>[]>();
  for (const { name, file } of files) {
    if (!declared.has(name))
      throw new UsageError(
        `--table ${name}: the Pipeline declares no table ${name} in spec.tables (${[...declared].join(', ') || 'none'})`,
      );
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      throw new UsageError(`cannot read ${file}: no such file`);
    }
    const rows = tables.get(name) ?? [];
    text.split('\n').forEach((line, i) => {
      if (!line.trim()) return;
      let row: unknown;
      try {
        row = JSON.parse(line);
      } catch {
        throw new UsageError(`${file}:${i + 1}: not JSON: write one JSON object per line`);
      }
      if (typeof row !== 'object' || row === null || Array.isArray(row))
        throw new UsageError(
          `${file}:${i + 1}: a table row is a JSON object, e.g. {"id": "c1", "name": "Ann"}`,
        );
      rows.push(row as Record<string, unknown>);
    });
    tables.set(name, rows);
  }
  return tables;
}

/** What ingest would answer for an event its schema refuses, or undefined when it passes. */
function refusal(registry: SchemaRegistry, event: { id: string; type: string }) {
  try {
    registry.check(event as CloudEvent);
    return undefined;
  } catch (err) {
    if (!isSchemaViolation(err)) throw err;
    const { pointer, keyword } = err.violation;
    return { id: event.id, outcome: 'refused', reason: err.message, pointer, keyword };
  }
}

/** The key an expectation is found by: an event's id, or a query's result or late event. */
function expectationKey(line: { id: string; query?: unknown; outcome?: unknown }): string {
  if (typeof line.query !== 'string') return line.id;
  return `${line.query}\0${line.outcome === 'late' ? 'late' : 'result'}\0${line.id}`;
}

export async function run(argv: string[]): Promise<number> {
  const opts = parseOptions(argv);
  if (!opts) {
    process.stdout.write(helpText(testCommand));
    return 0;
  }
  let rules: CompiledRules | undefined;
  let queries: PipelineQueries | undefined;
  let pipeline: Pipeline | undefined;
  let expectations: Expectations | undefined;
  let registry: SchemaRegistry | undefined;
  try {
    if (opts.schemas.length) registry = offlineRegistry(opts.schemas);
    const doc = findPipeline(opts.manifest, opts.pipeline);
    pipeline = doc.object as Pipeline;
    rules = compilePipeline(opts.manifest, doc);
    queries = compileQueries(opts.manifest, doc);
    expectations = opts.expect ? loadExpectations(opts.expect, expectationKey) : undefined;
  } catch (err) {
    if (!isConfigError(err)) throw err;
    process.stderr.write(`${err.message}\n`);
    return 1;
  }
  if (!rules || !queries) return 1;
  // Without queries the manifest is not validated: read what is there.
  const sources = Array.isArray(pipeline.spec?.sources) ? pipeline.spec.sources : [];
  const known = new Set(sources.map(sourceName));
  for (const s of opts.sources)
    if (!known.has(s.name))
      throw new UsageError(
        `--source ${s.name}: the Pipeline has no source named ${s.name} (${[...known].join(', ')})`,
      );
  const inputs = new QueryInputs(sources);
  const failures: string[] = [];
  const seen = new Set<string>();
  const check = (key: string, actual: object, where: string) => {
    const exp = expectations?.get(key);
    if (!exp) return;
    seen.add(key);
    const mismatches = compareExpectation(exp.expected, actual);
    if (mismatches.length > 0)
      failures.push(
        [
          `${where}, expected at ${opts.expect}:${exp.line}):`,
          ...mismatches.map((m) => `  ${formatMismatch(m)}`),
        ].join('\n'),
      );
  };
  let count = 0;
  const files = [
    ...(opts.events !== undefined ? [{ file: opts.events, only: undefined }] : []),
    ...opts.sources.map((s) => ({ file: s.file, only: s.name })),
  ];
  for (const { file, only } of files) {
    let line = 0;
    const input = createInterface({
      input: file === '-' ? process.stdin : createReadStream(file),
      crlfDelay: Infinity,
    });
    try {
      for await (const text of input) {
        line++;
        const event = eventFromLine(text, line, { type: opts.type, source: opts.rawSource });
        if (!event) continue;
        count++;
        const refused = registry ? refusal(registry, event) : undefined;
        if (refused) {
          inputs.skip();
          if (!opts.quiet) process.stdout.write(`${JSON.stringify(refused)}\n`);
          check(refused.id, refused, `${file}:${line} (id ${refused.id}`);
          continue;
        }
        const unreceived = only === undefined ? inputs.unreceived(event.type) : undefined;
        if (unreceived) {
          inputs.skip();
          const filtered = { id: event.id, outcome: 'filtered', reason: unreceived };
          if (!opts.quiet) process.stdout.write(`${JSON.stringify(filtered)}\n`);
          check(filtered.id, filtered, `${file}:${line} (id ${filtered.id}`);
          continue;
        }
        const outcome = rules.evaluate(event);
        const result = testResult(outcome);
        if (keptForQueries(outcome)) inputs.add(result.event as Record<string, unknown>, only);
        else inputs.skip();
        if (!opts.quiet) process.stdout.write(`${JSON.stringify(result)}\n`);
        check(result.id, result, `${file}:${line} (id ${result.id}`);
      }
    } catch (err) {
      if (err instanceof InputLineError) {
        process.stderr.write(`${file}:${err.line}: ${err.message}\n`);
        return 1;
      }
      if ((err as NodeJS.ErrnoException).code === 'ENOENT')
        throw new UsageError(`cannot read ${file}: no such file`);
      throw err;
    }
  }
  const outputsOf = new Map((pipeline.spec?.queries ?? []).map((q) => [q.name, q.outputs]));
  const run = runQueries(
    queries.compiled,
    outputsOf,
    inputs,
    opts.crashAt,
    readTables(opts.tables, pipeline),
  );
  // EMIT CHANGES repeats an id: its last line is the final value, which the expectation is about.
  const finalLines = new Map(run.lines.map((l) => [expectationKey(l), l]));
  for (const l of run.lines) if (!opts.quiet) process.stdout.write(`${JSON.stringify(l)}\n`);
  for (const [key, l] of finalLines) check(key, l, `query ${l.query} (id ${l.id}`);
  failures.push(...run.crashDiffs);
  if (!expectations) {
    for (const d of run.crashDiffs) process.stderr.write(`${d}\n`);
    return run.crashDiffs.length > 0 ? 1 : 0;
  }
  const eventFiles = files.map((f) => f.file).join(', ');
  for (const [key, exp] of expectations) {
    if (seen.has(key)) continue;
    const { id, query } = exp.expected;
    failures.push(
      typeof query === 'string'
        ? `${opts.expect}:${exp.line}: query ${query} has no ${exp.expected.outcome === 'late' ? 'late event' : 'result'} with id ${String(id)}`
        : `${opts.expect}:${exp.line}: no event with id ${String(id)} in ${eventFiles}`,
    );
  }

  // Queries compared by their results: a result of a query with expectations must be expected too.
  const expectedQueries = new Set(
    [...expectations.values()].map((e) => e.expected.query).filter((q) => q !== undefined),
  );
  for (const [key, l] of finalLines)
    if (expectedQueries.has(l.query) && !expectations.has(key))
      failures.push(
        `query ${l.query}: unexpected ${'outcome' in l ? 'late event' : 'result'} ${JSON.stringify(l)}`,
      );
  for (const f of failures) process.stderr.write(`${f}\n`);
  const checked = seen.size;
  const eventsChecked = [...seen].filter((k) => !k.includes('\0')).length;
  if (failures.length > 0) {
    process.stderr
      .write(`FAIL: ${failures.length} of ${expectations.size} expectations not met (${count} events)
`);
    return 1;
  }
  process.stderr.write(
    `ok: ${checked} expectations met (${count} events, ${count - eventsChecked} without expectation` +
      `${run.lines.length ? `, ${run.lines.length} query lines` : ''})\n`,
  );
  return 0;
}
