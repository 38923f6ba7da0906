import { describe, expect, it } from 'vitest';
import {
  compileConversion,
  compilePointer,
  EventError,
  looksStructured,
  PointerSyntaxError,
  resolvePointer,
  validateEvent,
} from '../../../runtime/events/index.js';

describe('JSON pointers (RFC 6901)', () => {
  const doc = { a: { 'b/c': [10, { 'd~e': 'x' }] }, '': 'root-empty' };
  it.each([
    ['', doc],
    ['/a/b~1c/0', 10],
    ['/a/b~1c/1/d~0e', 'x'],
    ['/', 'root-empty'],
    ['/a/missing', undefined],
    ['/a/b~1c/01', undefined],
    ['/a/b~1c/5', undefined],
    ['/a/b~1c/1/d~0e/deeper', undefined],
  ])('%s', (p, want) => {
    expect(resolvePointer(doc, compilePointer(p))).toEqual(want);
  });

  it('does not read inherited properties', () => {
    expect(resolvePointer({}, compilePointer('/constructor'))).toBeUndefined();
  });

  it('rejects a pointer without a leading slash', () => {
    expect(() => compilePointer('eventType')).toThrow(PointerSyntaxError);
  });
});

describe('raw JSON conversion', () => {
  const now = new Date('2024-01-02T03:04:05.000Z');

  it('takes type, source, id, subject and time from pointers', () => {
    const c = compileConversion({
      defaultType: 'com.example.raw',
      typeFrom: '/eventType',
      sourceFrom: '/origin',
      idFrom: '/meta/id',
      subjectFrom: '/key',
      timeFrom: '/at',
    });
    const body = {
      eventType: 'com.shop.order',
      origin: 'shop-eu',
      meta: { id: 42 },
      key: 'order-1',
      at: '2023-12-31T23:59:59Z',
    };
    const e = c.convert(body, now);
    expect(e).toEqual({
      specversion: '1.0',
      id: '42',
      source: 'shop-eu',
      type: 'com.shop.order',
      subject: 'order-1',
      time: '2023-12-31T23:59:59Z',
      datacontenttype: 'application/json',
      data: body,
    });
    expect(validateEvent(e)).toBe(e);
  });

  it('falls back to defaults, a fresh UUID and the arrival time', () => {
    const c = compileConversion({ defaultType: 'com.example.raw', typeFrom: '/t', defaultSource: '/shop' });
    const a = c.convert({ t: '' }, now);
    const b = c.convert([1, 2], now);
    expect(a.type).toBe('com.example.raw');
    expect(a.source).toBe('/shop');
    expect(a.time).toBe(now.toISOString());
    expect(a.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(b.id).not.toBe(a.id);
    expect(b.data).toEqual([1, 2]);
    expect(compileConversion({ defaultType: 'x' }).convert('s').source).toBe('/eventrunner/ingest');
  });

  it('rejects a timeFrom value that is not RFC 3339, naming the setting', () => {
    const c = compileConversion({ defaultType: 'x', timeFrom: '/at' });
    expect(() => c.convert({ at: 1700000000 })).toThrow(EventError);
    expect(() => c.convert({ at: 'noon' })).toThrow(/conversion\.timeFrom \(\/at\) must be an RFC 3339/);
  });

  it('recognises bodies that already are structured events', () => {
    expect(looksStructured({ specversion: '1.0' })).toBe(true);
    expect(looksStructured({ specversion: 1 })).toBe(false);
    expect(looksStructured([{ specversion: '1.0' }])).toBe(false);
  });
});
