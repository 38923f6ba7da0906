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
    ['id', { id: 'bad\r\nid' }, 'attribute "id" must not contain a line break'],
    ['id', { id: 'bad\nid' }, 'attribute "id" must not contain a line break'],
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

describe('attribute formats, as the CloudEvents spec defines them', () => {
  const check = (patch: Record<string, unknown>) => () => validateEvent({ ...base(), ...patch });

  it.each([
    'application/json',
    'application/json; charset=utf-8',
    'text/plain;charset="utf-8"',
    'application/vnd.shop.order+json; version=2; profile="a b"',
    'application/cloudevents+json',
  ])('accepts the media type %s as datacontenttype', (t) => {
    expect(check({ datacontenttype: t })).not.toThrow();
  });

  it.each([
    'json',
    'application/',
    '/json',
    'application/json;',
    'application/json; charset',
    'text/plain; a=b c',
    'app lication/json',
  ])('refuses %j as datacontenttype', (t) => {
    const err = errorOf(check({ datacontenttype: t }));
    expect(err.attribute).toBe('datacontenttype');
    expect(err.message).toMatch(/RFC 2046 media type/);
  });

  it.each([
    'https://example.com/schemas/order.json',
    'urn:eventrunner:schema:shop:orders:com.shop.order.%3E:v2',
    'http://x/a?v=1',
  ])('accepts the absolute URI %s as dataschema', (u) => {
    expect(check({ dataschema: u })).not.toThrow();
  });

  it.each([
    '/schemas/order.json',
    'order.json',
    'https://example.com/a b',
    'https://example.com/s#frag',
    '1http://x',
    'https://x/%zz',
  ])('refuses %j as dataschema', (u) => {
    const err = errorOf(check({ dataschema: u }));
    expect(err.attribute).toBe('dataschema');
    expect(err.message).toMatch(/absolute URI/);
  });

  it.each([
    '2024-02-29T12:00:00Z',
    '2016-12-31T23:59:60Z',
    '2016-12-31T15:59:60-08:00',
    '2024-05-01T10:00:00.123456789+02:00',
    '2024-05-01t10:00:00z',
  ])('accepts the instant %s as time', (t) => {
    expect(check({ time: t })).not.toThrow();
  });

  it.each([
    ['February 30', '2024-02-30T00:00:00Z'],
    ['February 29 of a common year', '2023-02-29T00:00:00Z'],
    ['April 31', '2024-04-31T00:00:00Z'],
    ['hour 24', '2024-01-01T24:00:00Z'],
    ['minute 60', '2024-01-01T10:60:00Z'],
    ['a leap second that is not at 23:59 UTC', '2016-12-31T12:59:60Z'],
    ['second 61', '2016-12-31T23:59:61Z'],
    ['offset hour 24', '2024-01-01T10:00:00+24:00'],
    ['month 13', '2024-13-01T00:00:00Z'],
    ['a date only', '2024-01-01'],
    ['a missing offset', '2024-01-01T10:00:00'],
  ])('refuses %s as time', (_what, t) => {
    const err = errorOf(check({ time: t }));
    expect(err.attribute).toBe('time');
    expect(err.message).toMatch(/RFC 3339 timestamp of a real instant/);
  });
});
