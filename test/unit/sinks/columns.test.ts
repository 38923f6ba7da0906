import { describe, expect, it } from 'vitest';
import { compileColumns, convertValue, parsePointer, readPointer } from '../../../runtime/sinks/columns.js';
import { isRowRejectedError } from '../../../runtime/sinks/errors.js';

const event = {
  specversion: '1.0',
  id: 'e1',
  type: 't',
  source: 's',
  time: '2024-01-02T03:04:05.678Z',
  data: { a: { 'b/c': [10, 20] }, n: '12' },
};

describe('JSON pointers', () => {
  it('reads nested, escaped and indexed paths and never the prototype', () => {
    expect(readPointer(event, parsePointer('/data/a/b~1c/1'))).toBe(20);
    expect(readPointer(event, parsePointer('/data/missing/x'))).toBeUndefined();
    expect(readPointer(event, parsePointer('/data/constructor'))).toBeUndefined();
    expect(readPointer(event, parsePointer('/data/a/b~1c/01'))).toBeUndefined();
    expect(() => parsePointer('data')).toThrow(/must start with/);
  });
});

describe('convertValue', () => {
  it('converts valid values per type', () => {
    expect(convertValue('c', 'int', '12')).toBe(12);
    expect(convertValue('c', 'bigint', '-9223372036854775808')).toBe('-9223372036854775808');
    expect(convertValue('c', 'double', 1.5)).toBe(1.5);
    expect(convertValue('c', 'decimal', '10.000000001')).toBe('10.000000001');
    expect(convertValue('c', 'boolean', 'true')).toBe(true);
    expect(convertValue('c', 'timestamp', '2024-01-02T03:04:05Z')).toEqual(new Date('2024-01-02T03:04:05Z'));
    expect(convertValue('c', 'date', '2024-02-29')).toBe('2024-02-29');
    expect(convertValue('c', 'uuid', '123E4567-E89B-12D3-A456-426614174000')).toBe(
      '123e4567-e89b-12d3-a456-426614174000',
    );
    expect(convertValue('c', 'json', { x: [1] })).toBe('{"x":[1]}');
    expect(convertValue('c', 'text', 5)).toBe('5');
    expect(convertValue('c', 'int', null)).toBeNull();
    expect(convertValue('c', 'int', undefined)).toBeNull();
  });

  it.each([
    ['int', 1.5],
    ['int', 2 ** 31],
    ['bigint', '9223372036854775808'],
    ['bigint', 1.5],
    ['double', 'abc'],
    ['double', Infinity],
    ['decimal', '1,5'],
    ['boolean', 'yes'],
    ['timestamp', 'yesterday'],
    ['date', '2023-02-29'],
    ['uuid', 'nope'],
  ] as const)('rejects %s %j as the row’s fault', (type, value) => {
    let err: unknown;
    try {
      convertValue('col', type, value);
    } catch (e) {
      err = e;
    }
    expect(isRowRejectedError(err)).toBe(true);
    expect((err as Error).message).toMatch(new RegExp(`^column col \\(${type}\\)`));
  });
});

describe('compileColumns', () => {
  it('fills standard columns and typed values', () => {
    const cols = compileColumns([
      { name: 'n', type: 'int', from: '/data/n' },
      { name: 'first', type: 'double', from: '/data/a/b~1c/0' },
    ]);
    const row = cols.convert(event);
    expect(row).toMatchObject({
      id: 'e1',
      subject: null,
      timeText: '2024-01-02T03:04:05.678Z',
      typed: [12, 10],
    });
    expect(row.time?.toISOString()).toBe('2024-01-02T03:04:05.678Z');
    expect(row.data).toBe(JSON.stringify(event.data));
    expect(cols.convert({ id: 'x', type: 't', source: 's' })).toMatchObject({
      time: null,
      data: null,
      typed: [null, null],
    });
  });

  it('refuses standard or duplicate names and events without id', () => {
    expect(() => compileColumns([{ name: 'Data', type: 'text', from: '/x' }])).toThrow(/standard column/);
    expect(() =>
      compileColumns([
        { name: 'a', type: 'text', from: '/x' },
        { name: 'A', type: 'int', from: '/y' },
      ]),
    ).toThrow(/twice/);
    expect(() => compileColumns([]).convert({ id: '', type: 't', source: 's' })).toThrow(/no id/);
  });
});
