// The backward-compatibility checker on pairs of schemas: each breaking rule and each allowed
// change, with the path and wording of the difference it names.
import { describe, expect, it } from 'vitest';
import { breakingChange } from '../../../runtime/schemas/compat.js';
import type { JsonSchema } from '../../../runtime/schemas/json-schema.js';

const order = {
  type: 'object',
  required: ['amount', 'currency'],
  properties: {
    amount: { type: 'number', minimum: 0 },
    currency: { type: 'string', enum: ['EUR', 'USD'] },
    note: { type: 'string', maxLength: 100 },
  },
} as const;
const closed = { ...order, additionalProperties: false } as const;

function withProp(base: object, name: string, schema: unknown): JsonSchema {
  const b = structuredClone(base) as { properties: Record<string, unknown> };
  b.properties[name] = schema;
  return b as JsonSchema;
}

/** [title, old, new] for changes every old instance survives. */
const compatible: [string, JsonSchema, JsonSchema][] = [
  ['identical schemas', order, structuredClone(order) as JsonSchema],
  ['annotations only', order, { ...order, title: 'Order', description: 'an order', examples: [{}] }],
  ['an optional property added to a closed object', closed, withProp(closed, 'coupon', { type: 'string' })],
  ['an optional property added with any value', order, withProp(order, 'coupon', {})],
  ['a required property made optional', order, { ...order, required: ['amount'] }],
  ['required dropped altogether', order, { ...order, required: [] }],
  ['a minimum lowered', order, withProp(order, 'amount', { type: 'number', minimum: -10 })],
  ['a minimum removed', order, withProp(order, 'amount', { type: 'number' })],
  ['a maxLength raised', order, withProp(order, 'note', { type: 'string', maxLength: 500 })],
  ['an enum widened', order, withProp(order, 'currency', { type: 'string', enum: ['EUR', 'USD', 'GBP'] })],
  ['an enum dropped', order, withProp(order, 'currency', { type: 'string' })],
  ['const widened to an enum', { const: 'a' }, { enum: ['a', 'b'] }],
  ['a type added to a union', { type: 'string' }, { type: ['string', 'null'] }],
  ['integer widened to number', { type: 'integer' }, { type: 'number' }],
  ['the type removed', { type: 'string' }, {}],
  ['additionalProperties false removed', closed, order],
  [
    'additionalProperties narrowed type widened',
    { additionalProperties: { type: 'string' } },
    { additionalProperties: { type: ['string', 'number'] } },
  ],
  ['exclusiveMinimum relaxed to minimum of the same value', { exclusiveMinimum: 0 }, { minimum: 0 }],
  ['maximum raised', { maximum: 10 }, { maximum: 11 }],
  ['multipleOf divides the old one', { multipleOf: 10 }, { multipleOf: 5 }],
  ['minItems lowered', { type: 'array', minItems: 2 }, { type: 'array', minItems: 1 }],
  [
    'array items widened',
    { type: 'array', items: { type: 'integer' } },
    { type: 'array', items: { type: 'number' } },
  ],
  [
    'a prefix item widened',
    { prefixItems: [{ type: 'string' }] },
    { prefixItems: [{ type: ['string', 'number'] }] },
  ],
  ['uniqueItems removed', { type: 'array', uniqueItems: true }, { type: 'array' }],
  [
    'anyOf gains an alternative',
    { anyOf: [{ type: 'string' }] },
    { anyOf: [{ type: 'string' }, { type: 'number' }] },
  ],
  [
    'a union split into alternatives by type',
    { type: ['string', 'number'] },
    { anyOf: [{ type: 'string' }, { type: 'number' }] },
  ],
  [
    'oneOf of distinct types gains one',
    { oneOf: [{ type: 'string' }] },
    { oneOf: [{ type: 'string' }, { type: 'boolean' }] },
  ],
  [
    'an old anyOf where every alternative fits',
    {
      anyOf: [
        { type: 'string', minLength: 3 },
        { type: 'string', minLength: 5 },
      ],
    },
    { type: 'string', minLength: 3 },
  ],
  [
    'allOf flattened into one schema',
    { allOf: [{ type: 'object' }, { required: ['a'] }] },
    { type: 'object', required: ['a'] },
  ],
  [
    '$ref to a widened definition',
    { $defs: { m: { type: 'integer' } }, properties: { x: { $ref: '#/$defs/m' } } },
    { $defs: { m: { type: 'number' } }, properties: { x: { $ref: '#/$defs/m' } } },
  ],
  [
    'a recursive schema unchanged but re-titled',
    { $defs: { n: { type: 'object', properties: { next: { $ref: '#/$defs/n' } } } }, $ref: '#/$defs/n' },
    {
      title: 'list',
      $defs: { n: { type: 'object', properties: { next: { $ref: '#/$defs/n' } } } },
      $ref: '#/$defs/n',
    },
  ],
  [
    'a nested property widened',
    { properties: { a: { properties: { b: { type: 'integer' } } } } },
    { properties: { a: { properties: { b: { type: 'number' } } } } },
  ],
  [
    'a pattern kept as it was',
    { type: 'string', pattern: '^[A-Z]{3}$' },
    { type: 'string', pattern: '^[A-Z]{3}$', minLength: 0 },
  ],
  ['maxProperties raised', { maxProperties: 3 }, { maxProperties: 4 }],
  [
    'a dependentRequired entry dropped',
    { dependentRequired: { a: ['b', 'c'] } },
    { dependentRequired: { a: ['b'] } },
  ],
  ['false schema replaced by anything', false, { type: 'string' }],
  ['anything becomes true', { type: 'string', minLength: 2 }, true],
  ['a constraint on a type the old schema excluded', { type: 'string' }, { type: 'string', minimum: 5 }],
  [
    'if/then where then already holds',
    { type: 'object', required: ['a'] },
    { type: 'object', required: ['a'], if: { properties: { k: { const: 1 } } }, then: { required: ['a'] } },
  ],
  [
    'a closed object opened by a patternProperty',
    closed,
    { ...closed, patternProperties: { '^x-': { type: 'string' } } },
  ],
];

/** [title, old, new, path, message fragment] for changes some old instance does not survive. */
const breaking: [string, JsonSchema, JsonSchema, string, RegExp][] = [
  [
    'a required property added',
    order,
    { ...order, required: ['amount', 'currency', 'note'] },
    '/required',
    /"note" is now required/,
  ],
  [
    'a type removed from a union',
    { type: ['string', 'null'] },
    { type: 'string' },
    '/type',
    /null is no longer accepted/,
  ],
  [
    'number narrowed to integer',
    { type: 'number' },
    { type: 'integer' },
    '/type',
    /number narrowed to integer/,
  ],
  [
    'an enum narrowed',
    order,
    withProp(order, 'currency', { type: 'string', enum: ['EUR'] }),
    '/properties/currency/enum',
    /no longer allows "USD"/,
  ],
  ['an enum added', { type: 'string' }, { type: 'string', enum: ['a'] }, '/enum', /enum added/],
  [
    'a minimum raised',
    order,
    withProp(order, 'amount', { type: 'number', minimum: 1 }),
    '/properties/amount/minimum',
    /minimum 1 is stricter than before \(>= 0\)/,
  ],
  ['a minimum made exclusive', { minimum: 0 }, { exclusiveMinimum: 0 }, '/exclusiveMinimum', /stricter/],
  [
    'a maximum added',
    { type: 'number' },
    { type: 'number', maximum: 5 },
    '/maximum',
    /maximum 5 is stricter than before \(none\)/,
  ],
  [
    'a maxLength lowered',
    order,
    withProp(order, 'note', { type: 'string', maxLength: 10 }),
    '/properties/note/maxLength',
    /lowered from 100 to 10/,
  ],
  [
    'a minLength raised',
    { type: 'string' },
    { type: 'string', minLength: 1 },
    '/minLength',
    /raised from 0 to 1/,
  ],
  [
    'a pattern added',
    { type: 'string' },
    { type: 'string', pattern: '^a' },
    '/pattern',
    /pattern "\^a" added/,
  ],
  [
    'a pattern changed',
    { type: 'string', pattern: '^a' },
    { type: 'string', pattern: '^ab' },
    '/pattern',
    /changed from/,
  ],
  [
    'a format added',
    { type: 'string' },
    { type: 'string', format: 'email' },
    '/format',
    /format "email" added/,
  ],
  ['multipleOf that does not divide', { multipleOf: 5 }, { multipleOf: 10 }, '/multipleOf', /multipleOf 10/],
  [
    'an optional property added to an open object',
    order,
    withProp(order, 'coupon', { type: 'string' }),
    '/properties/coupon',
    /new property "coupon" restricts values/,
  ],
  [
    'a property removed from a closed object',
    closed,
    (() => {
      const c = structuredClone(closed) as { properties: Record<string, unknown> };
      delete c.properties.note;
      return c as JsonSchema;
    })(),
    '/additionalProperties',
    /"note" was accepted and is now refused/,
  ],
  [
    'additionalProperties false added',
    order,
    closed,
    '/additionalProperties',
    /refuses properties that were accepted/,
  ],
  [
    'a nested property type narrowed',
    { properties: { a: { properties: { b: { type: 'number' } } } } },
    { properties: { a: { properties: { b: { type: 'integer' } } } } },
    '/properties/a/properties/b/type',
    /narrowed/,
  ],
  [
    'array items narrowed',
    { type: 'array', items: { type: ['string', 'number'] } },
    { type: 'array', items: { type: 'string' } },
    '/items/type',
    /number is no longer accepted/,
  ],
  [
    'maxItems added',
    { type: 'array' },
    { type: 'array', maxItems: 3 },
    '/maxItems',
    /lowered from none to 3/,
  ],
  [
    'uniqueItems added',
    { type: 'array' },
    { type: 'array', uniqueItems: true },
    '/uniqueItems',
    /repeated items/,
  ],
  [
    'an anyOf alternative removed',
    { anyOf: [{ type: 'string' }, { type: 'number' }] },
    { anyOf: [{ type: 'string' }] },
    '/anyOf',
    /no alternative accepts every number/,
  ],
  [
    'an old alternative that no longer fits',
    { anyOf: [{ type: 'string' }, { type: 'null' }] },
    { type: 'string' },
    '/type',
    /null is no longer accepted/,
  ],
  [
    'a $ref target narrowed',
    { $defs: { m: { type: 'number' } }, $ref: '#/$defs/m' },
    { $defs: { m: { type: 'integer' } }, $ref: '#/$defs/m' },
    '/$ref/type',
    /narrowed/,
  ],
  [
    'oneOf with overlapping alternatives changed',
    { type: 'string' },
    { oneOf: [{ minLength: 1 }, { maxLength: 5 }] },
    '/oneOf',
    /may overlap/,
  ],
  ['a not added', { type: 'string' }, { type: 'string', not: { const: 'x' } }, '/not', /"not"/],
  ['everything refused', { type: 'string' }, false, '', /accepts nothing/],
  ['const added', {}, { const: 1 }, '/const', /const added/],
  [
    'a dependentRequired added',
    {},
    { dependentRequired: { a: ['b'] } },
    '/dependentRequired/a',
    /"b" is now required when "a"/,
  ],
  ['minProperties raised', {}, { minProperties: 1 }, '/minProperties', /raised from 0 to 1/],
  ['propertyNames added', {}, { propertyNames: { maxLength: 3 } }, '/propertyNames/maxLength', /lowered/],
  [
    'if/then that demands more',
    { type: 'object' },
    { type: 'object', if: { required: ['a'] }, then: { required: ['b'] } },
    '/then/required',
    /"b" is now required/,
  ],
  [
    'unevaluatedProperties added',
    order,
    { ...order, unevaluatedProperties: false },
    '/unevaluatedProperties',
    /separate version/,
  ],
  [
    'contains added',
    { type: 'array' },
    { type: 'array', contains: { type: 'string' } },
    '/contains',
    /contains added/,
  ],
  [
    'a prefix item narrowed',
    { prefixItems: [{ type: 'number' }] },
    { prefixItems: [{ type: 'integer' }] },
    '/prefixItems/0/type',
    /narrowed/,
  ],
  [
    'a patternProperty narrows what additionalProperties allowed',
    { additionalProperties: { type: 'string' } },
    {
      patternProperties: { '^a': { type: 'string', maxLength: 1 } },
      additionalProperties: { type: 'string' },
    },
    '/patternProperties/^a/maxLength',
    /lowered/,
  ],
  [
    'an enum of a nested array item narrowed',
    { type: 'array', items: { enum: [1, 2] } },
    { type: 'array', items: { enum: [1] } },
    '/items/enum',
    /no longer allows 2/,
  ],
];

describe('backward compatibility: allowed changes', () => {
  it.each(compatible)('%s', (_title, oldSchema, newSchema) => {
    expect(breakingChange(oldSchema, newSchema)).toBeUndefined();
  });
});

describe('backward compatibility: breaking changes', () => {
  it.each(breaking)('%s', (_title, oldSchema, newSchema, path, message) => {
    const d = breakingChange(oldSchema, newSchema);
    expect(d).toBeDefined();
    expect(d!.path).toBe(path);
    expect(d!.message).toMatch(message);
  });
});

it('covers at least forty pairs', () => {
  expect(compatible.length + breaking.length).toBeGreaterThanOrEqual(40);
  expect(compatible.length).toBeGreaterThanOrEqual(20);
  expect(breaking.length).toBeGreaterThanOrEqual(20);
});
