// `eventrunner validate -f <file|dir|->`: checks eventrunner manifests offline, with the same
// schemas, defaults and cross-field rules as the API server plus the Pipelines' GRL rules and SQL
// queries, and prints `file:line:column: message` for every problem. Exit 0: valid; 1: problems;
// 2: bad usage. Documents of other API groups (Secrets, Deployments, ...) are skipped.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Path } from '../../api/crossfield.js';
import { parseManifests, type ManifestDocument, type Position } from '../../api/manifests.js';
import { GROUP } from '../../api/schema/index.js';
import { formatPath, validateResource } from '../../api/validate.js';
import { checkRules } from '../../runtime/rules/index.js';
import { helpText, parseFlags, type CommandSpec } from '../../runtime/common/flags.js';
import type { EventSource } from '../../api/generated/types.js';
import { addConfigMaps, offlineSchemas, type ConfigMapData } from './schema-inputs.js';
import { queryProblems } from './validate-queries.js';

export const validateCommand = {
  command: 'eventrunner validate',
  about: `Validates EventSource, Pipeline and Sink manifests (schema, defaults, cross-field rules,
Pipeline rules and queries) without a cluster and prints file:line:column: message for every
problem.
Directories are read for *.yaml, *.yml and *.json files; documents of other API groups are skipped.

Exit status: 0 valid; 1 problems found; 2 bad usage.`,
  flags: {
    filename: {
      type: 'string',
      short: 'f',
      value: 'file|directory|-',
      required: true,
      multiple: true,
      description: 'file, directory or - (stdin)',
    },
    recursive: {
      type: 'boolean',
      short: 'R',
      description: 'descend into subdirectories of directories given with -f',
    },
  },
} as const satisfies CommandSpec;

const manifestFile = /\.(ya?ml|json)$/i;

/** Files named on the command line are read whatever their extension; directories by extension. */
function expand(path: string, recursive: boolean, top: boolean): string[] {
  if (path === '-') return [path];
  const st = statSync(path);
  if (!st.isDirectory()) return top || manifestFile.test(path) ? [path] : [];
  if (!top && !recursive) return [];
  return readdirSync(path)
    .sort()
    .flatMap((name) => expand(join(path, name), recursive, false));
}

export interface Problem extends Position {
  file: string;
  message: string;
}

function describeObject(object: Record<string, unknown>): string {
  const meta = object.metadata as Record<string, unknown> | undefined;
  const name =
    typeof meta?.name === 'string'
      ? meta.name
      : typeof meta?.generateName === 'string'
        ? meta.generateName
        : '';
  return `${String(object.kind)}${name ? `/${name}` : ''}`;
}

function rulesProblems(
  file: string,
  what: string,
  doc: ManifestDocument,
  spec: Record<string, unknown>,
): Problem[] {
  const rules = spec.rules;
  if (typeof rules !== 'string' || rules.trim() === '') return [];
  const outputs = Array.isArray(spec.outputs)
    ? spec.outputs.flatMap((o: unknown) => {
        const name = (o as { name?: unknown } | null)?.name;
        return typeof name === 'string' ? [name] : [];
      })
    : [];
  const path: Path = ['spec', 'rules'];
  return checkRules(rules, outputs).map((d) => ({
    file,
    ...doc.positionInString(path, d.line, d.column),
    message: `${what}: spec.rules:${d.line}:${d.column}: ${d.rule ? `rule ${d.rule}: ` : ''}${d.message}`,
  }));
}

function documentProblems(
  file: string,
  doc: ManifestDocument,
  configMaps: ConfigMapData = new Map(),
): { checked: boolean; problems: Problem[] } {
  const object = doc.object as Record<string, unknown>;
  if (typeof object !== 'object' || Array.isArray(object)) return { checked: false, problems: [] };
  const apiVersion = typeof object.apiVersion === 'string' ? object.apiVersion : '';
  if (apiVersion.split('/')[0] !== GROUP) return { checked: false, problems: [] };
  const what = describeObject(object);
  const { value, issues } = validateResource(object);
  const problems: Problem[] = issues.map((issue) => ({
    file,
    ...doc.position(issue.path),
    message: `${what}: ${formatPath(issue.path)}: ${issue.message}`,
  }));
  // Event schemas: JSON Schema 2020-12 that compiles, inline or in a ConfigMap given alongside.
  const spec = (value as { spec?: { schemas?: unknown } }).spec;
  if (object.kind === 'EventSource' && Array.isArray(spec?.schemas)) {
    for (const i of offlineSchemas(value as EventSource, configMaps, false).issues)
      problems.push({
        file,
        ...doc.position(i.path),
        message: `${what}: ${formatPath(i.path)}: ${i.message}`,
      });
  }
  if (object.kind === 'Pipeline' && typeof object.spec === 'object' && object.spec !== null) {
    const pipeline = value as unknown as { metadata?: unknown; spec: Record<string, unknown> };
    problems.push(...rulesProblems(file, what, doc, pipeline.spec));
    for (const p of queryProblems(what, doc, pipeline.metadata, pipeline.spec, issues))
      problems.push({ file, ...p });
  }
  return { checked: true, problems };
}

function readSource(file: string): string {
  return file === '-' ? readFileSync(0, 'utf8') : readFileSync(file, 'utf8');
}

export interface ValidateReport {
  files: string[];
  /** eventrunner resources found and checked. */
  checked: number;
  /** In file order, then by position. */
  problems: Problem[];
}

export function validateFiles(paths: string[], recursive = false): ValidateReport {
  const problems: Problem[] = [];
  let checked = 0;
  let files: string[] = [];
  for (const path of paths) {
    try {
      files = files.concat(expand(path, recursive, true));
    } catch (err) {
      problems.push({ file: path, line: 1, column: 1, message: `cannot read: ${(err as Error).message}` });
    }
  }
  // Read first, so that a ConfigMap holding a schema is known whichever file it is in.
  const sources = files.map((file) => {
    try {
      return { file, parsed: parseManifests(readSource(file)) };
    } catch (err) {
      return { file, error: err as Error };
    }
  });
  const configMaps: ConfigMapData = new Map();
  for (const s of sources) addConfigMaps(configMaps, s.parsed?.documents.map((d) => d.object) ?? []);
  for (const { file, parsed, error } of sources) {
    const name = file === '-' ? '<stdin>' : file;
    const found: Problem[] = [];
    if (!parsed) {
      problems.push({ file: name, line: 1, column: 1, message: `cannot read: ${error?.message}` });
      continue;
    }
    for (const e of parsed.errors) found.push({ file: name, ...e, message: `YAML: ${e.message}` });
    for (const doc of parsed.documents) {
      const result = documentProblems(name, doc, configMaps);
      if (result.checked) checked++;
      found.push(...result.problems);
    }
    problems.push(...found.sort((a, b) => a.line - b.line || a.column - b.column));
  }
  return { files, checked, problems };
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export async function run(argv: string[]): Promise<number> {
  const parsed = parseFlags(validateCommand, argv);
  if (parsed.help) {
    process.stdout.write(helpText(validateCommand));
    return 0;
  }
  const { filename, recursive } = parsed.values;
  const { files, checked, problems } = validateFiles(filename, recursive);
  for (const p of problems) process.stdout.write(`${p.file}:${p.line}:${p.column}: ${p.message}\n`);
  const summary = `${plural(checked, 'eventrunner resource')} in ${plural(files.length, 'file')}`;
  if (problems.length) {
    process.stderr.write(`${plural(problems.length, 'problem')} (${summary})\n`);
    return 1;
  }
  process.stderr.write(`ok: ${summary}\n`);
  return 0;
}
