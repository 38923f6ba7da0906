import { describe, expect, it } from 'vitest';
import { EventError, EventErrorCode, validateEvent, isJsonMediaType } from '../../../runtime/events/index.js';

const base = () => ({ specversion: '1.0', id: 'e1', source: '/s', type: 'com.example.x' });

function errorOf(fn: () => unknown): EventError {
  try {
    fn();
  } catch (err) {
    if (err instanceof EventError) return err;
    throw err;
  }
  throw new Error('expected an EventError');
}

describe('validateEvent', () => {
  it('accepts a minimal event and returns the same object', () => {
    const e = base();
    expect(validateEvent(e)).toBe(e);
  });

  it('accepts every optional attribute and extensions of the allowed types', () => {
    const e = {
      ...base(),
      subject: 'orders/1',
      time: '2024-05-01T10:00:00.123+02:00',
      datacontenttype: 'application/json',
      dataschema: 'https://example.com/schema',
      data: { a: 1 },
      traceparent: '00-abc',
      priority: 3,
      urgent: true,
    };
    expect(validateEvent(e)).toEqual(e);
  });

  it('removes attributes set to null, as the JSON format treats them as absent', () => {
    const e = validateEvent({ ...base(), subject: null, ext1: null, data: null });
    expect('subject' in e).toBe(false);
    expect('ext1' in e).toBe(false);
    expect(e.data).toBeNull();
  });

  it.each([
    ['id', { id: undefined }, 'required attribute "id" is missing'],
    ['source', { source: '' }, 'attribute "source" must be a non-empty string'],
    ['type', { type: 7 }, 'attribute "type" must be a non-empty string'],
    ['specversion', { specversion: undefined }, 'required attribute "specversion" is missing'],
    ['time', { time: 'yesterday' }, 'attribute "time" must be an RFC 3339 timestamp'],
    ['time', { time: '2024-13-45T99:00:00Z' }, 'RFC 3339'],
    ['subject', { subject: '' }, 'attribute "subject" must be a non-empty string'],
    ['data_base64', { data_base64: 'not base64!' }, 'must be a base64 string'],
    ['data_base64', { data_base64: 'AAAA', data: 1 }, 'both "data" and "data_base64"'],
    ['Bad_Name', { Bad_Name: 'x' }, 'lower-case letters and digits'],
    ['ext', { ext: { nested: true } }, 'must be a string, boolean or 32-bit integer'],
    ['ext', { ext: 1.5 }, 'must be a string, boolean or 32-bit integer'],
    ['ext', { ext: 2 ** 31 }, 'must be a string, boolean or 32-bit integer'],
  ])('rejects a bad %s', (attribute, patch, message) => {
    const e = { ...base(), ...patch } as Record<string, unknown>;
    for (const k of Object.keys(e)) if (e[k] === undefined) delete e[k];
    const err = errorOf(() => validateEvent(e));
    expect(err.code).toBe(EventErrorCode.InvalidAttribute);
    expect(err.attribute).toBe(attribute);
    expect(err.message).toContain(message);
  });

  it('rejects other spec versions with a dedicated code', () => {
    const err = errorOf(() => validateEvent({ ...base(), specversion: '0.3' }));
    expect(err.code).toBe(EventErrorCode.UnsupportedVersion);
    expect(err.message).toContain('only CloudEvents 1.0');
  });

  it.each([[null], [[]], ['x'], [3]])('rejects a non-object %j', (v) => {
    expect(errorOf(() => validateEvent(v)).code).toBe(EventErrorCode.Malformed);
  });
});

describe('isJsonMediaType', () => {
  it.each([
    [undefined, true],
    ['application/json', true],
    ['Application/JSON; charset=utf-8', true],
    ['text/json', true],
    ['application/vnd.foo+json', true],
    ['text/plain', false],
    ['application/octet-stream', false],
    ['application/jsonx', false],
  ])('%s → %s', (t, want) => {
    expect(isJsonMediaType(t)).toBe(want);
  });
});
