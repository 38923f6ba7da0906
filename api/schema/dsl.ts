// Builders for the OpenAPI v3 schemas of eventrunner's custom resources. The schema objects are
// the single source of truth: hack/gen-api.ts turns them into CRD YAML, TypeScript types and the
// API reference, and api/validate.ts compiles them with ajv. Keys starting with `$` are ours
// (TypeScript type names, error hints, CEL rule ids); they are stripped before anything leaves TS.

/** One CEL rule in `x-kubernetes-validations`; `$id` ties it to its offline twin in api/crossfield.ts. */
export interface CelRule {
  $id: string;
  rule: string;
  message?: string;
  messageExpression?: string;
  /** JSON path, relative to the node carrying the rule, that the API server names in its error. */
  fieldPath?: string;
  // FieldValueDuplicate is left out on purpose: the API server then drops the message.
  reason?: 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired';
  /** Uses `oldSelf`: runs on update only, so no offline twin can exist. */
  $transition?: boolean;
}

export interface Schema {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  description?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  additionalProperties?: Schema;
  enum?: (string | number)[];
  default?: unknown;
  format?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  maxProperties?: number;
  anyOf?: Schema[];
  'x-kubernetes-int-or-string'?: true;
  /** Keeps every field below as written (e.g. an embedded JSON Schema); the API server prunes nothing there. */
  'x-kubernetes-preserve-unknown-fields'?: true;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-validations'?: CelRule[];
  /** TypeScript interface name for an object schema (generated into api/generated/types.ts). */
  $name?: string;
  /** Human wording of what a `pattern` accepts, used in offline error messages. */
  $hint?: string;
}

type Common = Pick<Schema, 'default' | 'x-kubernetes-validations'>;

/** Go duration as time.ParseDuration reads it, which CEL's duration() also accepts. */
export const DURATION_PATTERN = '^(0|(([0-9]+(\\.[0-9]*)?|\\.[0-9]+)(ns|us|µs|ms|s|m|h))+)$';
/** A byte size: a plain number of bytes or a Kubernetes quantity with a binary or decimal suffix. */
export const BYTES_PATTERN = '^([0-9]+(\\.[0-9]+)?)([KMGTPE]i|[kMGTPE])?$';
/** Any Kubernetes resource quantity (cpu `500m`, memory `256Mi`), as core/v1 accepts it. */
export const QUANTITY_PATTERN =
  '^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$';
/** RFC 1123 label: names of Kubernetes objects that become Service/Deployment names. */
export const DNS_LABEL_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
/** RFC 6901 JSON pointer into an event, non-empty (e.g. `/data/amount`). */
export const JSON_POINTER_PATTERN = '^(/([^/~]|~[01])*)+$';

/**
 * CEL that reads `expr` as a duration only when it is well-formed: the schema's pattern already
 * reports a malformed one, and duration() on it would add a confusing type-conversion error.
 */
export function celIsDuration(expr: string): string {
  return `${expr}.matches(r'${DURATION_PATTERN}')`;
}

export const hints: Record<string, string> = {
  [DURATION_PATTERN]: 'a duration such as 500ms, 30s, 2m or 72h',
  [BYTES_PATTERN]: 'a byte size such as 1048576, 512Ki, 1Mi or 10Gi',
  [QUANTITY_PATTERN]: 'a Kubernetes quantity such as 500m, 2 or 256Mi',
  [DNS_LABEL_PATTERN]: 'a lowercase RFC 1123 name (a-z, 0-9 and -, starting and ending alphanumeric)',
  [JSON_POINTER_PATTERN]: 'a JSON pointer such as /data/amount',
};

export function str(
  description: string,
  opts: Common & Pick<Schema, 'pattern' | 'minLength' | 'maxLength' | 'format' | 'enum' | '$hint'> = {},
): Schema {
  return { type: 'string', description, ...opts };
}

export function enumOf(description: string, values: string[], opts: Common = {}): Schema {
  return { type: 'string', description, enum: values, ...opts };
}

export function int(
  description: string,
  opts: Common & Pick<Schema, 'minimum' | 'maximum' | 'format'> = {},
): Schema {
  return { type: 'integer', description, ...opts };
}

export function num(description: string, opts: Common & Pick<Schema, 'minimum' | 'maximum'> = {}): Schema {
  return { type: 'number', description, ...opts };
}

export function bool(description: string, opts: Common = {}): Schema {
  return { type: 'boolean', description, ...opts };
}

export function duration(description: string, opts: Common = {}): Schema {
  return { type: 'string', description, pattern: DURATION_PATTERN, maxLength: 32, ...opts };
}

/** A byte size: integer bytes or a quantity string; int-or-string like core/v1 quantities. */
export function bytes(description: string, opts: Common = {}): Schema {
  return {
    description,
    anyOf: [{ type: 'integer' }, { type: 'string' }],
    'x-kubernetes-int-or-string': true,
    pattern: BYTES_PATTERN,
    ...opts,
  };
}

export function quantity(description: string): Schema {
  return {
    description,
    anyOf: [{ type: 'integer' }, { type: 'string' }],
    'x-kubernetes-int-or-string': true,
    pattern: QUANTITY_PATTERN,
  };
}

export function obj(
  name: string,
  description: string,
  properties: Record<string, Schema>,
  opts: Common & Pick<Schema, 'required'> = {},
): Schema {
  return { type: 'object', $name: name, description, properties, ...opts };
}

export function arr(
  description: string,
  items: Schema,
  opts: Common &
    Pick<Schema, 'minItems' | 'maxItems' | 'x-kubernetes-list-type' | 'x-kubernetes-list-map-keys'> = {},
): Schema {
  return { type: 'array', description, items, ...opts };
}

export function map(
  description: string,
  values: Schema,
  opts: Common & Pick<Schema, 'maxProperties'> = {},
): Schema {
  return { type: 'object', description, additionalProperties: values, ...opts };
}

/** A value of any of the given shapes (pod configs only: the API server needs structural schemas). */
export function anyOf(description: string, shapes: Schema[]): Schema {
  return { description, anyOf: shapes };
}

/** Deep copy without our `$` keys: what the API server and ajv see. */
export function stripInternal(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(stripInternal);
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k.startsWith('$')) continue;
    // `default` values are data, not schema: copy them verbatim.
    out[k] = k === 'default' || k === 'enum' ? structuredClone(v) : stripInternal(v);
  }
  return out;
}

/** Visits every schema node with its path of property names (`[]` for array items, `{}` for map values). */
export function walk(schema: Schema, visit: (s: Schema, path: string[]) => void, path: string[] = []): void {
  visit(schema, path);
  for (const [k, v] of Object.entries(schema.properties ?? {})) walk(v, visit, [...path, k]);
  if (schema.items) walk(schema.items, visit, [...path, '[]']);
  if (schema.additionalProperties) walk(schema.additionalProperties, visit, [...path, '{}']);
}

/**
 * Replaces each object default (usually `{}`) with the object its fields' defaults produce. The
 * API server validates a default literally, CEL rules included, before defaulting its fields, so
 * `{}` would fail a rule like `self.http.enabled || self.grpc.enabled`.
 */
export function materializeDefaults(schema: Schema): Schema {
  const out: Schema = { ...schema };
  if (schema.properties) {
    out.properties = Object.fromEntries(
      Object.entries(schema.properties).map(([k, v]) => [k, materializeDefaults(v)]),
    );
  }
  if (schema.items) out.items = materializeDefaults(schema.items);
  if (schema.additionalProperties)
    out.additionalProperties = materializeDefaults(schema.additionalProperties);
  if (out.properties && isPlainObject(out.default)) out.default = fillDefaults(out, out.default);
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function fillDefaults(schema: Schema, value: Record<string, unknown>): Record<string, unknown> {
  const filled: Record<string, unknown> = structuredClone(value);
  for (const [k, p] of Object.entries(schema.properties ?? {})) {
    if (filled[k] === undefined && p.default !== undefined) filled[k] = structuredClone(p.default);
    const v = filled[k];
    if (p.properties && isPlainObject(v)) filled[k] = fillDefaults(p, v);
  }
  return filled;
}
