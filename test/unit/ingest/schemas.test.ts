import { describe, expect, it } from 'vitest';
import { EventError, type CloudEvent } from '../../../runtime/events/index.js';
import { SchemaRegistry } from '../../../runtime/ingest/schemas.js';

const event = (type: string, data: unknown, extra: Partial<CloudEvent> = {}): CloudEvent => ({
  specversion: '1.0',
  id: 'e1',
  source: '/s',
  type,
  data,
  ...extra,
});

describe('per-type JSON Schemas', () => {
  const reg = new SchemaRegistry({
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
  });

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
    expect(() => new SchemaRegistry({ t: { type: 'nonsense' } })).toThrow(
      /schemas\.t: not a valid JSON Schema/,
    );
  });
});
