// The validation machinery the resources and the pod configs share: ajv's reading of the OpenAPI
// schemas, its errors in words (field path and what to do), and the CEL twins' rule ids.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { Issue, Path } from './crossfield.js';
import { podConfigs } from './schema/config/index.js';
import { objectSchema } from './gen/crd.js';
import { API_VERSION, kinds, type KindDefinition } from './schema/index.js';
import { hints, materializeDefaults, stripInternal, walk, type Schema } from './schema/dsl.js';

export type { Issue, Path } from './crossfield.js';

export interface ValidationResult<T> {
  /** The input after defaulting (a copy); meaningful only when `issues` is empty. */
  value: T;
  issues: Issue[];
}

// ajv-formats is CommonJS; under NodeNext its default export arrives wrapped.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ??
  addFormatsModule) as unknown as (ajv: Ajv) => Ajv;

/** The OpenAPI schema as ajv reads it: no Kubernetes extensions, unknown fields forbidden. */
export function ajvSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(ajvSchema);
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  // A set-typed list rejects repeated entries on the API server too.
  if ((schema as Schema)['x-kubernetes-list-type'] === 'set') out.uniqueItems = true;
  for (const [k, v] of Object.entries(schema)) {
    if (k.startsWith('x-kubernetes-')) continue;
    out[k] = k === 'default' || k === 'enum' ? v : ajvSchema(v);
  }
  if (out.type === 'object' && out.properties && out.additionalProperties === undefined) {
    out.additionalProperties = false;
  }
  return out;
}

/** The schema a kind's objects are validated with (what the precompiled validators are generated from). */
export function kindSchema(def: KindDefinition): unknown {
  const s = stripInternal(materializeDefaults(objectSchema(def))) as Schema;
  s.required = ['apiVersion', 'kind', 'metadata', 'spec'];
  s.properties!.apiVersion = { type: 'string', enum: [API_VERSION] };
  s.properties!.kind = { type: 'string', enum: [def.kind] };
  s.properties!.metadata = {
    type: 'object',
    properties: {
      name: { type: 'string', minLength: 1, maxLength: 253, pattern: '^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$' },
      namespace: { type: 'string', maxLength: 63, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' },
      // What users and their tools (kubectl's last-applied annotation, Argo CD, Flux) put on objects.
      labels: { type: 'object', additionalProperties: { type: 'string' } },
      annotations: { type: 'object', additionalProperties: { type: 'string' } },
    },
  };
  return ajvSchema(s);
}

/** The offline-checkable CEL rule ids on the kind's schema at `path` (e.g. ['spec', 'delivery']) and below. */
export function ruleIdsUnder(def: KindDefinition, path: readonly string[]): string[] {
  let node: Schema | undefined =
    path[0] === 'spec' ? def.spec : path[0] === 'status' ? def.status : undefined;
  for (const key of path.slice(1)) node = node?.properties?.[key];
  if (!node) throw new Error(`${def.kind} has no schema at ${path.join('.')}`);
  const ids: string[] = [];
  walk(node, (s) => {
    for (const r of s['x-kubernetes-validations'] ?? []) if (!r.$transition) ids.push(r.$id);
  });
  return ids;
}

let hintsByPattern: Map<string, string> | undefined;

/** What each pattern accepts, in words: the schema's `$hint`, else the shared wording in dsl.ts. */
function patternHints(): Map<string, string> {
  if (hintsByPattern) return hintsByPattern;
  hintsByPattern = new Map(Object.entries(hints));
  // The resources' wording wins: pod configs embed parts of them (a Pipeline's tables), whose
  // hints must not replace the one a user's manifest error is worded with.
  for (const part of kinds.flatMap((def) => [def.spec, def.status]))
    walk(part, (s) => {
      if (s.pattern && s.$hint) hintsByPattern!.set(s.pattern, s.$hint);
    });
  const fromKinds = new Set(hintsByPattern.keys());
  for (const c of podConfigs)
    walk(c.schema, (s) => {
      if (s.pattern && s.$hint && !fromKinds.has(s.pattern)) hintsByPattern!.set(s.pattern, s.$hint);
    });
  return hintsByPattern;
}

/**
 * The ajv every validator uses: defaults applied, every error reported, formats checked.
 * `standalone` keeps the generated code, for the precompiled validators (api/gen/validators.ts).
 */
export function newAjv(standalone = false): Ajv {
  // verbose: errors carry their schema, so a type error can still say what format was expected.
  const ajv = new Ajv({
    allErrors: true,
    useDefaults: true,
    strict: false,
    verbose: true,
    ...(standalone ? { code: { source: true, esm: true } } : {}),
  });
  addFormats(ajv);
  return ajv;
}

function toPath(instancePath: string): Path {
  if (!instancePath) return [];
  return instancePath
    .slice(1)
    .split('/')
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((p) => (/^(0|[1-9][0-9]*)$/.test(p) ? Number(p) : p));
}

function describe(e: ErrorObject): { path: Path; message: string } {
  const path = toPath(e.instancePath);
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      return { path: [...path, String(p.missingProperty)], message: 'required field is missing' };
    case 'additionalProperties':
      return { path: [...path, String(p.additionalProperty)], message: 'unknown field' };
    case 'enum':
      return {
        path,
        message: `must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`,
      };
    case 'pattern': {
      const hint = patternHints().get(String(p.pattern));
      return { path, message: hint ? `must be ${hint}` : `must match the pattern ${String(p.pattern)}` };
    }
    case 'type': {
      // `ackWait: 30` is a number in YAML; say which string was meant rather than "must be string".
      const pattern = (e.parentSchema as { pattern?: string } | undefined)?.pattern;
      const hint = pattern === undefined ? undefined : patternHints().get(pattern);
      return { path, message: hint ? `must be ${hint} (a string)` : (e.message ?? 'has the wrong type') };
    }
    case 'uniqueItems': {
      const [a, b] = [Number(p.i), Number(p.j)].sort((x, y) => x - y);
      return { path: [...path, b!], message: `duplicate entry (same as [${a}])` };
    }
    case 'anyOf':
      return { path, message: 'must be an integer or a string' };
    default:
      return { path, message: e.message ?? `fails ${e.keyword}` };
  }
}

/** Runs a compiled schema on `value` (filling in defaults) and returns what it found wrong. */
export function schemaCheck(fn: ValidateFunction, value: unknown): Issue[] {
  fn(value);
  const errors = fn.errors ?? [];
  // An int-or-string failure also reports each anyOf branch; the anyOf error says it once.
  const anyOfPaths = new Set(errors.filter((e) => e.keyword === 'anyOf').map((e) => e.instancePath));
  return errors
    .filter((e) => !(anyOfPaths.has(e.instancePath) && e.schemaPath.includes('/anyOf/')))
    .map(describe);
}

/** Issues once each (a path and message can be found by both the schema and a CEL twin). */
export function distinctIssues(issues: Issue[]): Issue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const key = `${formatPath(i.path)}\0${i.message}`;
    return seen.has(key) ? false : (seen.add(key), true);
  });
}

/** Human form of a path: spec.outputs[1].name */
export function formatPath(path: Path): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}
