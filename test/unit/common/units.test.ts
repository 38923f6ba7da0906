import { describe, expect, it } from 'vitest';
import { parseDuration, parseQuantity } from '../../../runtime/common/units.js';

describe('parseDuration', () => {
  it.each([
    ['30s', 30_000],
    ['2m', 120_000],
    ['72h', 259_200_000],
    ['1h30m', 5_400_000],
    ['500ms', 500],
    ['1.5s', 1500],
    ['0', 0],
  ])('%s is %d ms', (text, ms) => expect(parseDuration(text)).toBe(ms));

  it.each(['', '30', 'h', '1d', '5 s', '1h-2m'])('rejects %j with a hint', (text) => {
    expect(() => parseDuration(text)).toThrow(/write it like 30s/);
  });
});

describe('parseQuantity', () => {
  it.each([
    ['1Mi', 1_048_576],
    ['10Gi', 10 * 2 ** 30],
    ['500M', 500_000_000],
    ['1024', 1024],
    ['1.5Ki', 1536],
    [2048, 2048],
  ] as const)('%s is %d bytes', (text, n) => expect(parseQuantity(text)).toBe(n));

  it.each(['', '1MB', '-1', 'Gi', '1 Gi'])('rejects %j with a hint', (text) => {
    expect(() => parseQuantity(text)).toThrow(/write it like 1024/);
  });
});
