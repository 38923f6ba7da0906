import { describe, expect, it } from 'vitest';
import { parseBytes, parseDuration } from '../../../api/units.js';

describe('parseDuration', () => {
  it('reads Go durations into milliseconds', () => {
    expect(parseDuration('0')).toBe(0);
    expect(parseDuration('0s')).toBe(0);
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('2m')).toBe(120_000);
    expect(parseDuration('72h')).toBe(259_200_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('1.5s')).toBe(1500);
    expect(parseDuration('.5s')).toBe(500);
    expect(parseDuration('2ms')).toBe(2);
    expect(parseDuration('1500us')).toBe(1.5);
    expect(parseDuration('1µs')).toBe(0.001);
    expect(parseDuration('100ns')).toBeCloseTo(0.0001);
  });

  it('rejects what the schema pattern rejects', () => {
    for (const bad of ['', '30', '30d', '-1s', '3 days', 's', '1.s.', '1h 30m']) {
      expect(() => parseDuration(bad), bad).toThrow(RangeError);
    }
  });
});

describe('parseBytes', () => {
  it('reads integers and quantities', () => {
    expect(parseBytes(1048576)).toBe(1048576);
    expect(parseBytes('1048576')).toBe(1048576);
    expect(parseBytes('1Mi')).toBe(1048576);
    expect(parseBytes('10Gi')).toBe(10 * 2 ** 30);
    expect(parseBytes('512Ki')).toBe(524288);
    expect(parseBytes('1k')).toBe(1000);
    expect(parseBytes('1.5Ki')).toBe(1536);
    expect(parseBytes('2G')).toBe(2e9);
  });

  it('rejects malformed sizes', () => {
    for (const bad of ['1MB', '-1', '1Qi', 'lots', '', '1 Mi'])
      expect(() => parseBytes(bad), bad).toThrow(RangeError);
    expect(() => parseBytes(-1)).toThrow(RangeError);
    expect(() => parseBytes(1.5)).toThrow(RangeError);
  });
});
