import { describe, expect, it } from 'vitest';
import { EventError, type CloudEvent } from '../../../runtime/events/index.js';
import { SchemaRegistry, SchemaViolationError, staticEntries } from '../../../runtime/ingest/schemas.js';
import type { SchemaObject } from '../../../runtime/schemas/json-schema.js';

const event = (type: string, data: unknown, extra: Partial<CloudEvent> = {}): CloudEvent => ({
  specversion: '1.0',
  id: 'e1',
  source: '/s',
  type,
  data,
  ...extra,
});

describe('per-type JSON Schemas', () => {
  const reg = new SchemaRegistry(
    staticEntries({
      'com.shop.order': {
        type: 'object',
        required: ['amount', 'country'],
        additionalProperties: false,
        properties: {
          amount: { type: 'number' },
          country: { enum: ['DE', 'FR'] },
          email: { type: 'string', format: 'email' },
        },
      },
    }),
  );

  it('passes conforming events and events of other types', () => {
    expect(() => reg.check(event('com.shop.order', { amount: 1, country: 'DE' }))).not.toThrow();
    expect(() => reg.check(event('com.shop.other', 'anything'))).not.toThrow();
  });

  it.each([
    [{ amount: 'x', country: 'DE' }, 'data/amount must be number'],
    [{ amount: 1 }, "data must have required property 'country'"],
    [{ amount: 1, country: 'XX' }, 'data/country must be equal to one of the allowed values ("DE", "FR")'],
    [{ amount: 1, country: 'DE', extra: 1 }, 'data must NOT have additional properties (extra)'],
    [{ amount: 1, country: 'DE', email: 'nope' }, 'data/email must match format "email"'],
  ])('rejects %j with the schema error', (data, message) => {
    let err: unknown;
    try {
      reg.check(event('com.shop.order', data));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(EventError);
    expect((err as EventError).message).toBe(
      `event "e1" does not match the schema for type com.shop.order: ${message}`,
    );
  });

  it('refuses non-JSON data for a type with a schema', () => {
    expect(() => reg.check(event('com.shop.order', undefined, { data_base64: 'AAAA' }))).toThrow(
      /must carry JSON data/,
    );
  });

  it('rejects an invalid schema at start-up', () => {
    expect(() => new SchemaRegistry(staticEntries({ t: { type: 'nonsense' } }))).toThrow(
      /schemas\["t"\]: not a valid JSON Schema/,
    );
  });
});

describe('schema versions by type pattern', () => {
  const v = (type: string, version: number, schema: SchemaObject) => ({
    type,
    version,
    id: `urn:eventrunner:schema:ns:es:${encodeURIComponent(type)}:v${version}`,
    schema,
  });
  const reg = new SchemaRegistry([
    v('com.shop.order.>', 2, { type: 'object', required: ['amount'] }),
    v('com.shop.order.created', 5, { type: 'object', required: ['amount', 'currency'] }),
    v('>', 1, { type: 'object' }),
  ]);

  it('picks the exact type, then the longest prefix, then >', () => {
    expect(reg.lookup('com.shop.order.created')?.version).toBe(5);
    expect(reg.lookup('com.shop.order.refunded')?.version).toBe(2);
    expect(reg.lookup('com.shop.order')?.type).toBe('>');
    expect(reg.lookup('org.other')?.type).toBe('>');
  });

  it('sets dataschema to the version that accepted the data, replacing what the producer sent', () => {
    const e = event('com.shop.order.refunded', { amount: 1 }, { dataschema: 'https://example.com/mine' });
    reg.check(e);
    expect(e.dataschema).toBe('urn:eventrunner:schema:ns:es:com.shop.order.%3E:v2');
  });

  it('names the type, the JSON pointer into data and the keyword that failed', () => {
    const fail = (e: CloudEvent) => {
      try {
        reg.check(e);
      } catch (err) {
        return err as SchemaViolationError;
      }
      throw new Error('accepted');
    };
    const missing = fail(event('com.shop.order.created', { amount: 1 }));
    expect(missing).toBeInstanceOf(SchemaViolationError);
    expect(missing.violation).toEqual({
      type: 'com.shop.order.created',
      pointer: '/currency',
      keyword: 'required',
      message: "data must have required property 'currency'",
      dataschema: 'urn:eventrunner:schema:ns:es:com.shop.order.created:v5',
    });
    const wrong = fail(event('any.thing', 'text'));
    expect(wrong.violation).toMatchObject({ pointer: '', keyword: 'type', type: 'any.thing' });
  });

  it('reuses the compiled validator of an unchanged version in the next registry', () => {
    const next = new SchemaRegistry(
      [v('com.shop.order.>', 2, { type: 'object', required: ['amount'] })],
      reg,
    );
    expect(next.lookup('com.shop.order.x')?.validate).toBe(reg.lookup('com.shop.order.x')?.validate);
  });

  it('refuses schemas of another draft', () => {
    expect(
      () =>
        new SchemaRegistry([
          v('t', 1, { $schema: 'http://json-schema.org/draft-07/schema#', type: 'object' }),
        ]),
    ).toThrow(/draft 2020-12/);
  });
});
