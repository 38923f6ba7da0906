// Compiling event schemas (JSON Schema draft 2020-12) with ajv, and reading a failed validation as
// what a producer needs: the JSON pointer into `data`, the keyword that failed and a sentence.
// Ingest, the operator and `eventrunner validate` all check schemas here, so they agree.
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import {
  DRAFT_2020_12,
  escapePointer,
  isJsonSchema,
  isSchemaObject,
  type JsonSchema,
} from './json-schema.js';

// ajv-formats is CommonJS; under NodeNext its default export arrives wrapped.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ??
  addFormatsModule) as unknown as (ajv: Ajv2020) => Ajv2020;

/** One ajv per registry: compiled schemas are not added by `$id`, so two versions of one schema coexist. */
export function newSchemaAjv(): Ajv2020 {
  const ajv = new Ajv2020({ allErrors: false, strict: false, addUsedSchema: false });
  addFormats(ajv);
  return ajv;
}

let checker: Ajv2020 | undefined;

/** Why `schema` cannot be an event schema (not JSON Schema 2020-12, or does not compile), or undefined. */
export function schemaProblem(schema: unknown): string | undefined {
  if (!isJsonSchema(schema)) return 'a JSON Schema must be an object (or true/false)';
  if (isSchemaObject(schema) && schema.$schema !== undefined) {
    const declared = String(schema.$schema).replace(/#$/, '');
    if (declared !== DRAFT_2020_12) {
      return `$schema is ${JSON.stringify(schema.$schema)}; event schemas are JSON Schema draft 2020-12 (${DRAFT_2020_12}), or leave $schema out`;
    }
  }
  checker ??= newSchemaAjv();
  if (!checker.validateSchema(schema)) {
    const e = checker.errors?.[0];
    return `not a valid JSON Schema: ${e ? `${e.instancePath || '(root)'} ${e.message ?? 'is invalid'}` : 'invalid'}`;
  }
  try {
    checker.compile(schema);
  } catch (err) {
    return `does not compile: ${(err as Error).message}`;
  } finally {
    // ajv caches what it compiled by schema object; a long-running operator checks new objects on
    // every reconcile, so the cache would only grow.
    if (isSchemaObject(schema)) checker.removeSchema(schema);
  }
  return undefined;
}

/** Compiles a schema already known to be valid (see schemaProblem); throws when it is not. */
export function compileSchema(ajv: Ajv2020, schema: JsonSchema): ValidateFunction {
  return ajv.compile(schema);
}

/** Where and why `data` failed its schema. */
export interface Violation {
  /** JSON pointer into `data`: the failing value, or where a required property is missing. */
  pointer: string;
  /** The JSON Schema keyword that failed, e.g. `type`, `required`, `enum`, `maximum`. */
  keyword: string;
  /** The failure in words, e.g. `data/amount must be number`. */
  message: string;
}

/** The first error of a failed validation, as a Violation. */
export function violationOf(errors: ErrorObject[] | null | undefined): Violation {
  const e = errors?.[0];
  if (e === undefined) return { pointer: '', keyword: 'false', message: 'data is refused by the schema' };
  let pointer = e.instancePath;
  let detail = e.message ?? 'is invalid';
  if (e.keyword === 'required') pointer += `/${escapePointer(String(e.params.missingProperty))}`;
  if (e.keyword === 'additionalProperties') {
    const extra = String(e.params.additionalProperty);
    pointer += `/${escapePointer(extra)}`;
    detail += ` (${extra})`;
  }
  if (e.keyword === 'enum')
    detail += ` (${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')})`;
  return { pointer, keyword: e.keyword, message: `data${e.instancePath} ${detail}` };
}
