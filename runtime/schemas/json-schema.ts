// Small helpers over JSON Schema (draft 2020-12) documents as plain JSON: local `$ref`
// resolution, deep equality and the instance types a `type` keyword names. Shared by the
// compatibility checker and the schema compiler.

export type SchemaObject = { [keyword: string]: unknown };
export type JsonSchema = boolean | SchemaObject;

export const DRAFT_2020_12 = 'https://json-schema.org/draft/2020-12/schema';

export function isSchemaObject(v: unknown): v is SchemaObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function isJsonSchema(v: unknown): v is JsonSchema {
  return typeof v === 'boolean' || isSchemaObject(v);
}

/** Structural equality of JSON values (object key order ignored). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((v, i) => deepEqual(v, b[i]));
  }
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  const kx = Object.keys(x);
  if (kx.length !== Object.keys(y).length) return false;
  return kx.every((k) => Object.prototype.hasOwnProperty.call(y, k) && deepEqual(x[k], y[k]));
}

/** RFC 6901 escaping of one reference token. */
export function escapePointer(token: string): string {
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}

/**
 * The subschema a local `$ref` (`#`, `#/$defs/x`, `#/definitions/x`, any JSON pointer) names in
 * `root`, or undefined when it is not local or names nothing.
 */
export function resolveLocalRef(root: JsonSchema, ref: string): JsonSchema | undefined {
  if (!ref.startsWith('#')) return undefined;
  const fragment = decodeURIComponent(ref.slice(1));
  if (fragment === '') return root;
  if (!fragment.startsWith('/')) return undefined;
  let node: unknown = root;
  for (const raw of fragment.slice(1).split('/')) {
    const token = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node)) node = node[Number(token)];
    else if (isSchemaObject(node)) node = node[token];
    else return undefined;
  }
  return isJsonSchema(node) ? node : undefined;
}

/** Instance types in JSON Schema terms; `integer` is the whole-number part of `number`. */
export type InstanceType = 'null' | 'boolean' | 'object' | 'array' | 'string' | 'integer' | 'number';

export const ALL_TYPES: readonly InstanceType[] = [
  'null',
  'boolean',
  'object',
  'array',
  'string',
  'integer',
  'number',
];

/** The types a `type` keyword allows, or undefined when the keyword is absent or malformed. */
export function typesOf(schema: SchemaObject): Set<InstanceType> | undefined {
  const t = schema.type;
  const list = typeof t === 'string' ? [t] : Array.isArray(t) ? t : undefined;
  if (list === undefined) return undefined;
  const out = new Set<InstanceType>();
  for (const x of list)
    if ((ALL_TYPES as readonly string[]).includes(x as string)) out.add(x as InstanceType);
  return out;
}

/** The JSON Schema type of a JSON value. */
export function typeOfValue(v: unknown): InstanceType {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v as InstanceType;
}

/** True when a set of allowed types admits instances of type `t` (integers are numbers). */
export function admits(types: ReadonlySet<InstanceType>, t: InstanceType): boolean {
  return types.has(t) || (t === 'integer' && types.has('number'));
}
