// Which schemas an EventSource may declare, and how a failed validation reads for a producer.
import { describe, expect, it } from 'vitest';
import { newSchemaAjv, schemaProblem, violationOf } from '../../../runtime/schemas/compile.js';

describe('schemaProblem', () => {
  it.each([
    [{ type: 'object', properties: { a: { $ref: '#/$defs/a' } }, $defs: { a: { type: 'string' } } }],
    [{ $schema: 'https://json-schema.org/draft/2020-12/schema', prefixItems: [{ type: 'string' }] }],
    [true],
  ])('accepts %j', (schema) => {
    expect(schemaProblem(schema)).toBeUndefined();
  });

  it.each([
    ['a string', 'object', /must be an object/],
    ['another draft', { $schema: 'http://json-schema.org/draft-07/schema#' }, /draft 2020-12/],
    ['an unknown type', { type: 'objekt' }, /not a valid JSON Schema: \/type/],
    ['an external $ref', { $ref: 'https://example.com/s.json' }, /can't resolve reference/],
    ['a broken pattern', { type: 'string', pattern: '(' }, /Invalid regular expression/],
  ])('refuses %s', (_what, schema, message) => {
    expect(schemaProblem(schema)).toMatch(message);
  });
});

describe('violationOf', () => {
  const validate = newSchemaAjv().compile({
    type: 'object',
    required: ['a'],
    additionalProperties: false,
    properties: { a: { type: 'object', properties: { 'b/c': { enum: [1, 2] } } } },
  });
  const first = (data: unknown) => {
    expect(validate(data)).toBe(false);
    return violationOf(validate.errors);
  };

  it('points at a missing required property', () => {
    expect(first({})).toEqual({
      pointer: '/a',
      keyword: 'required',
      message: "data must have required property 'a'",
    });
  });

  it('points at an extra property and names it', () => {
    expect(first({ a: {}, x: 1 })).toEqual({
      pointer: '/x',
      keyword: 'additionalProperties',
      message: 'data must NOT have additional properties (x)',
    });
  });

  it('escapes the pointer (RFC 6901) and lists allowed values', () => {
    expect(first({ a: { 'b/c': 3 } })).toEqual({
      pointer: '/a/b~1c',
      keyword: 'enum',
      message: 'data/a/b~1c must be equal to one of the allowed values (1, 2)',
    });
  });
});
