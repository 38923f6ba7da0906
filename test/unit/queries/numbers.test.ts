// The numeric and text building blocks: exact sums, RFC 3339 times, Go durations.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseGoDuration } from '../../../runtime/queries/duration.js';
import { formatTime, parseEventTime } from '../../../runtime/queries/event-time.js';
import {
  addExact,
  exactValue,
  mergeExact,
  sampleStddev,
  type Partials,
} from '../../../runtime/queries/exact-sum.js';

function sumOf(values: number[]): number {
  const p: Partials = [];
  for (const v of values) addExact(p, v);
  return exactValue(p);
}

const finiteDouble = fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e300, max: 1e300 });

describe('exact sums', () => {
  it('do not depend on the order of the values, to the last bit', () => {
    fc.assert(
      fc.property(fc.array(finiteDouble, { maxLength: 40 }), fc.array(fc.nat()), (values, keys) => {
        const shuffled = values
          .map((v, i) => ({ v, k: keys[i] ?? i }))
          .sort((a, b) => a.k - b.k)
          .map((x) => x.v);
        expect(
          Object.is(sumOf(shuffled), sumOf(values)) || (sumOf(values) === 0 && sumOf(shuffled) === 0),
        ).toBe(true);
      }),
    );
  });

  it('merge split sums into the same value', () => {
    fc.assert(
      fc.property(fc.array(finiteDouble, { maxLength: 40 }), fc.nat(), (values, cut) => {
        const at = cut % (values.length + 1);
        const a: Partials = [];
        const b: Partials = [];
        values.slice(0, at).forEach((v) => addExact(a, v));
        values.slice(at).forEach((v) => addExact(b, v));
        mergeExact(a, b);
        expect(exactValue(a)).toBe(sumOf(values));
      }),
    );
  });

  it('equal the integer sum for safe integers', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -(2 ** 40), max: 2 ** 40 }), { maxLength: 100 }), (values) => {
        expect(sumOf(values)).toBe(Number(values.reduce((s, v) => s + BigInt(v), 0n)));
      }),
    );
  });

  it('keep what naive addition loses', () => {
    expect(sumOf([1e100, 1, -1e100])).toBe(1);
    expect(sumOf(Array<number>(10).fill(0.1))).toBe(1);
    expect(sumOf([2 ** 53, 1, 1])).toBe(2 ** 53 + 2);
    expect(sumOf([])).toBe(0);
    expect(sumOf([1e308, 1e308])).toBe(Infinity);
  });

  it('shorten the partials when values cancel, keeping the entries before `from`', () => {
    const p: Partials = [7];
    addExact(p, 1, 1);
    addExact(p, 1e-30, 1);
    expect(p).toEqual([7, 1e-30, 1]);
    addExact(p, -1e-30, 1);
    expect(p).toEqual([7, 1]);
    addExact(p, -1, 1);
    expect(p).toEqual([7, 0]);
    addExact(p, 0.5, 1);
    expect(exactValue(p, 1)).toBe(0.5);
  });

  it('give the sample standard deviation from an exactly formed numerator', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -1e6, max: 1e6 }), { minLength: 2, maxLength: 50 }),
        (values) => {
          const s1: Partials = [];
          const s2: Partials = [];
          for (const v of values) {
            addExact(s1, v);
            addExact(s2, v * v);
          }
          const n = values.length;
          const sum = values.reduce((s, v) => s + BigInt(v), 0n);
          const squares = values.reduce((s, v) => s + BigInt(v) * BigInt(v), 0n);
          const numerator = BigInt(n) * squares - sum * sum;
          expect(sampleStddev(n, s1, s2)).toBe(Math.sqrt(Number(numerator) / n / (n - 1)));
        },
      ),
    );
    expect(sampleStddev(1, [5], [25])).toBeNull();
  });
});

describe('event times', () => {
  it('parse every RFC 3339 form JavaScript dates show, to the millisecond', () => {
    fc.assert(
      fc.property(fc.integer({ min: -62135596800000, max: 253402300799999 }), (ms) => {
        expect(parseEventTime(formatTime(ms))).toBe(ms);
      }),
    );
  });

  it('read offsets, lower-case separators, a space, and fractions of any length', () => {
    expect(parseEventTime('2026-01-01T01:00:00+01:00')).toBe(Date.UTC(2026, 0, 1));
    expect(parseEventTime('2025-12-31t19:30:00-04:30')).toBe(Date.UTC(2026, 0, 1));
    expect(parseEventTime('2026-01-01 00:00:00z')).toBe(Date.UTC(2026, 0, 1));
    expect(parseEventTime('2026-01-01T00:00:00.5Z')).toBe(Date.UTC(2026, 0, 1) + 500);
    expect(parseEventTime('2026-01-01T00:00:00.123456789Z')).toBe(Date.UTC(2026, 0, 1) + 123);
    expect(parseEventTime('2024-02-29T00:00:00Z')).toBe(Date.UTC(2024, 1, 29));
  });

  it('reject what is not RFC 3339', () => {
    for (const s of [
      '2026-01-01',
      '2026-01-01T00:00:00',
      '2026-02-29T00:00:00Z',
      '2026-13-01T00:00:00Z',
      '2026-01-01T24:00:00Z',
      '2026-01-01T00:60:00Z',
      '2026-01-01T00:00:60Z',
      '2026-01-01T00:00:00.Z',
      '2026-01-01T00:00:00+0100',
      '2026-01-01T00:00:00Zjunk',
      'Thu, 01 Jan 2026 00:00:00 GMT',
      '２０２６-01-01T00:00:00Z',
    ]) {
      expect(parseEventTime(s), s).toBeUndefined();
    }
  });
});

describe('Go durations', () => {
  it('read units and combinations as milliseconds', () => {
    expect(parseGoDuration('10s')).toBe(10_000);
    expect(parseGoDuration('1m30s')).toBe(90_000);
    expect(parseGoDuration('1.5h')).toBe(5_400_000);
    expect(parseGoDuration('500ms')).toBe(500);
    expect(parseGoDuration('1500us')).toBe(2);
    expect(parseGoDuration('0')).toBe(0);
  });

  it('explain what they expect otherwise', () => {
    expect(parseGoDuration('10')).toBe('"10" is not a duration: write it like 10s, 1m30s or 500ms');
    expect(parseGoDuration('')).toBe('"" is not a duration: write it like 10s, 1m30s or 500ms');
    expect(parseGoDuration('-5s')).toBe('"-5s" is not a duration: write it like 10s, 1m30s or 500ms');
  });
});
