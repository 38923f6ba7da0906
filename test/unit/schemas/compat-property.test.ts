// Property: when the checker says a change is backward compatible, the new schema (as ajv, the
// validator ingest runs, reads it) accepts every generated instance the old schema accepts. Pairs
// are random schemas and random edits of them (mostly relaxations, some tightenings); instances
// are drawn both from the old schema's shape and from plain random JSON.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { breakingChange } from '../../../runtime/schemas/compat.js';
import { newSchemaAjv } from '../../../runtime/schemas/compile.js';
import type { JsonSchema, SchemaObject } from '../../../runtime/schemas/json-schema.js';

const NAMES = ['a', 'b', 'c', 'd'];
const STRINGS = ['', 'a', 'ab', 'ABC', 'abcdef', 'x-1'];
const NUMBERS = [-5, -1, 0, 0.5, 1, 2, 3, 5, 10, 12.5];
const PATTERNS = ['^a', '^[A-Z]+$', 'b'];
const TYPES = ['null', 'boolean', 'object', 'array', 'string', 'integer', 'number'] as const;

const num = fc.constantFrom(...NUMBERS);
const scalar = fc.oneof(fc.constantFrom(...STRINGS), num, fc.boolean(), fc.constant(null));

/** Random schemas over the keywords the checker reasons about: a few keywords a node, nested. */
const schemaArb: fc.Arbitrary<JsonSchema> = fc.letrec<{ schema: JsonSchema }>((tie) => {
  const keyword = fc.oneof(
    fc.tuple(
      fc.constant('type'),
      fc.oneof(
        fc.constantFrom(...TYPES),
        fc.uniqueArray(fc.constantFrom(...TYPES), { minLength: 1, maxLength: 3 }),
      ),
    ),
    fc.tuple(fc.constant('enum'), fc.uniqueArray(scalar, { minLength: 1, maxLength: 4 })),
    fc.tuple(fc.constant('const'), scalar),
    fc.tuple(fc.constantFrom('minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum'), num),
    fc.tuple(fc.constant('multipleOf'), fc.constantFrom(1, 2, 5)),
    fc.tuple(fc.constantFrom('minLength', 'minItems', 'minProperties'), fc.integer({ min: 0, max: 3 })),
    fc.tuple(fc.constantFrom('maxLength', 'maxItems', 'maxProperties'), fc.integer({ min: 0, max: 6 })),
    fc.tuple(fc.constant('pattern'), fc.constantFrom(...PATTERNS)),
    fc.tuple(
      fc.constant('properties'),
      fc.dictionary(fc.constantFrom(...NAMES), tie('schema'), { maxKeys: 3 }),
    ),
    fc.tuple(fc.constant('required'), fc.uniqueArray(fc.constantFrom(...NAMES), { maxLength: 2 })),
    fc.tuple(fc.constantFrom('additionalProperties', 'items', 'not'), tie('schema')),
    fc.tuple(fc.constant('prefixItems'), fc.array(tie('schema'), { minLength: 1, maxLength: 2 })),
    fc.tuple(fc.constant('uniqueItems'), fc.boolean()),
    fc.tuple(
      fc.constantFrom('anyOf', 'oneOf', 'allOf'),
      fc.array(tie('schema'), { minLength: 1, maxLength: 2 }),
    ),
  );
  return {
    schema: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.constantFrom<JsonSchema>(true, false, {}),
      fc
        .uniqueArray(keyword, { minLength: 1, maxLength: 4, selector: ([k]) => k })
        .map((entries) => Object.fromEntries(entries) as JsonSchema),
    ),
  };
}).schema;

type Edit = (s: SchemaObject) => SchemaObject;

/** Edits that mostly relax a schema, so that many pairs are compatible and the property bites. */
const editArb: fc.Arbitrary<Edit> = fc.oneof(
  fc.constantFrom<Edit>(
    (s) => drop(s, 'required'),
    (s) => drop(s, 'minimum'),
    (s) => drop(s, 'maxLength'),
    (s) => drop(s, 'enum'),
    (s) => drop(s, 'additionalProperties'),
    (s) => drop(s, 'pattern'),
    (s) => drop(s, 'type'),
    (s) => drop(s, 'anyOf'),
    (s) => ({ ...s, title: 'retitled' }),
    (s) => (typeof s.minimum === 'number' ? { ...s, minimum: s.minimum - 1 } : s),
    (s) => (typeof s.maxLength === 'number' ? { ...s, maxLength: s.maxLength + 1 } : s),
    (s) => (Array.isArray(s.enum) ? { ...s, enum: [...(s.enum as unknown[]), 'zz'] } : s),
    (s) => (typeof s.type === 'string' && s.type !== 'null' ? { ...s, type: [s.type, 'null'] } : s),
    (s) => (s.type === 'integer' ? { ...s, type: 'number' } : s),
    (s) => (Array.isArray(s.required) ? { ...s, required: (s.required as string[]).slice(1) } : s),
    (s) => ({ ...s, properties: { ...(s.properties as object), d: true } }),
    // Tightenings, which the checker must catch.
    (s) => ({ ...s, required: [...new Set([...((s.required as string[]) ?? []), 'c'])] }),
    (s) => ({ ...s, minimum: 1 }),
    (s) => ({ ...s, maxLength: 2 }),
    (s) => ({ ...s, additionalProperties: false }),
    (s) => ({ ...s, type: 'string' }),
  ),
  schemaArb.map((sub): Edit => (s) => ({ ...s, properties: { ...(s.properties as object), b: sub } })),
  schemaArb.map((sub): Edit => (s) => ({ ...s, items: sub })),
  schemaArb.map((sub): Edit => (s) => ({ ...s, anyOf: [...((s.anyOf as JsonSchema[]) ?? [{}]), sub] })),
);

function drop(s: SchemaObject, key: string): SchemaObject {
  const { [key]: _gone, ...rest } = s;
  return rest;
}

/** Applies an edit at the root or inside the first property, so nested changes are covered too. */
function edited(old: JsonSchema, edit: Edit, nested: boolean): JsonSchema {
  if (typeof old === 'boolean') return edit({});
  const props = old.properties as Record<string, JsonSchema> | undefined;
  const first = props ? Object.keys(props)[0] : undefined;
  if (nested && props && first !== undefined && typeof props[first] === 'object') {
    return { ...old, properties: { ...props, [first]: edit(props[first] as SchemaObject) } };
  }
  return edit(old);
}

/** Values shaped by a schema (often valid for it), mixed with arbitrary JSON. */
function instanceArb(schema: JsonSchema, depth = 3): fc.Arbitrary<unknown> {
  const json = fc.letrec<{ v: unknown }>((tie) => ({
    v: fc.oneof(
      { depthSize: 'small' },
      scalar,
      fc.array(tie('v'), { maxLength: 3 }),
      fc.dictionary(fc.constantFrom(...NAMES), tie('v'), { maxKeys: 3 }),
    ),
  })).v;
  if (depth === 0 || typeof schema === 'boolean') return json;
  const shaped: fc.Arbitrary<unknown>[] = [];
  if (Array.isArray(schema.enum)) shaped.push(fc.constantFrom(...(schema.enum as unknown[])));
  if (schema.const !== undefined) shaped.push(fc.constant(schema.const));
  for (const alt of [...((schema.anyOf as JsonSchema[]) ?? []), ...((schema.oneOf as JsonSchema[]) ?? [])])
    shaped.push(instanceArb(alt, depth - 1));
  const props = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const required = (schema.required ?? []) as string[];
  const keys = [...new Set([...Object.keys(props), ...required])];
  if (keys.length > 0 || schema.type === 'object') {
    const rec: Record<string, fc.Arbitrary<unknown>> = {};
    for (const k of keys) rec[k] = props[k] === undefined ? json : instanceArb(props[k], depth - 1);
    shaped.push(
      fc
        .tuple(
          fc.record(rec, { requiredKeys: required.filter((r) => keys.includes(r)) }),
          fc.option(fc.tuple(fc.constantFrom(...NAMES), json)),
        )
        .map(([o, extra]) => (extra && !(extra[0] in o) ? { ...o, [extra[0]]: extra[1] } : o)),
    );
  }
  if (schema.items !== undefined || schema.prefixItems !== undefined || schema.type === 'array') {
    const item = schema.items === undefined ? json : instanceArb(schema.items as JsonSchema, depth - 1);
    const prefix = ((schema.prefixItems as JsonSchema[]) ?? []).map((p) => instanceArb(p, depth - 1));
    shaped.push(
      fc.tuple(fc.tuple(...prefix), fc.array(item, { maxLength: 3 })).map(([p, r]) => [...p, ...r]),
    );
  }
  shaped.push(fc.constantFrom(...STRINGS), num, fc.integer({ min: -3, max: 15 }));
  return fc.oneof(json, ...shaped);
}

/**
 * ajv's verdict, or undefined where its generated code throws (it does on a few odd combinations,
 * e.g. `not: true` beside an anyOf with properties): such instances say nothing about the checker.
 */
function verdict(validate: (v: unknown) => boolean, v: unknown): boolean | undefined {
  try {
    return validate(v);
  } catch {
    return undefined;
  }
}

describe('the compatibility checker', () => {
  it('says compatible only when the new schema accepts every instance the old one accepts', () => {
    const ajv = newSchemaAjv();
    let pairs = 0;
    let compatiblePairs = 0;
    let checkedInstances = 0;
    fc.assert(
      fc.property(
        schemaArb,
        editArb,
        fc.boolean(),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        (generated, edit, nested, seed) => {
          // Through JSON, as schemas and events reach ingest (fast-check builds null-prototype objects).
          const old = JSON.parse(JSON.stringify(generated)) as JsonSchema;
          const nw = JSON.parse(JSON.stringify(edited(old, edit, nested))) as JsonSchema;
          pairs++;
          if (breakingChange(old, nw) !== undefined) return;
          compatiblePairs++;
          const oldOk = ajv.compile(old);
          const newOk = ajv.compile(nw);
          const values = fc
            .sample(instanceArb(old), { numRuns: 40, seed })
            .map((v) => JSON.parse(JSON.stringify(v)) as unknown);
          for (const v of values) {
            const before = verdict(oldOk, v);
            const after = verdict(newOk, v);
            if (before !== true || after === undefined) continue;
            checkedInstances++;
            if (!after) {
              throw new Error(
                `compatible by the checker, yet ${JSON.stringify(v)} passes ${JSON.stringify(old)} and fails ${JSON.stringify(nw)}: ${JSON.stringify(newOk.errors)}`,
              );
            }
          }
        },
      ),
      { numRuns: 1000, seed: 4242 },
    );
    // The property is only worth something when the checker says "compatible" often and the
    // instances reach the schemas.
    expect(compatiblePairs / pairs).toBeGreaterThan(0.25);
    expect(checkedInstances).toBeGreaterThan(1000);
  }, 60_000);
});
