// Rates from counter readings and the windowed history the charts draw, with time passed in.
import { describe, expect, it } from 'vitest';
import { CounterRate, LastScrapes, SeriesSet } from '../../../runtime/dashboard/history.js';

describe('CounterRate', () => {
  it('gives nothing on the first reading, then the increase per second', () => {
    const r = new CounterRate();
    expect(r.update(1000, 10)).toBeUndefined();
    expect(r.update(3000, 30)).toBe(10);
    expect(r.update(3500, 30)).toBe(0);
    expect(r.total).toBe(30);
  });

  it('counts from zero again when the counter went down (a pod restarted)', () => {
    const r = new CounterRate();
    r.update(0, 100);
    expect(r.update(1000, 4)).toBe(4);
  });

  it('ignores a reading that is not later than the previous one', () => {
    const r = new CounterRate();
    r.update(1000, 1);
    expect(r.update(1000, 5)).toBeUndefined();
  });
});

describe('SeriesSet', () => {
  it('keeps the columns aligned on one time axis and drops points older than the window', () => {
    const s = new SeriesSet(['in', 'out'] as const, 10_000);
    s.push(0, { in: 1, out: 2 });
    s.push(5_000, { in: 3 });
    s.push(12_000, { in: Number.NaN, out: 4 });
    expect(s.t).toEqual([5_000, 12_000]);
    expect(s.columns.in).toEqual([3, null]);
    expect(s.columns.out).toEqual([null, 4]);
    expect(s.latest('out')).toBe(4);
    expect(s.latest('in')).toBeUndefined();
  });

  it('takes a whole history read elsewhere, missing columns as nulls', () => {
    const s = new SeriesSet(['in', 'out'] as const, 10_000);
    s.push(0, { in: 1, out: 2 });
    s.load([5_000, 10_000], { in: [null, 3] });
    expect(s.t).toEqual([5_000, 10_000]);
    expect(s.columns.in).toEqual([null, 3]);
    expect(s.columns.out).toEqual([null, null]);
  });
});

describe('LastScrapes', () => {
  it("counts a pod whose scrape failed with its last samples, so the sum's rate has no reset in it", () => {
    const last = new LastScrapes<number>();
    const rate = new CounterRate();
    // Two pods counting 10 events a second each; pod b's scrape fails at t=2s and answers again at 3s.
    const round = (t: number, a: number | undefined, b: number | undefined) => {
      const sum = (last.record('a', a) ?? 0) + (last.record('b', b) ?? 0);
      last.retain(new Set(['a', 'b']));
      return rate.update(t * 1000, sum);
    };
    expect(round(0, 100, 200)).toBeUndefined();
    expect(round(1, 110, 210)).toBe(20);
    expect(round(2, 120, undefined)).toBe(10);
    expect(round(3, 130, 230)).toBe(30);
    expect(rate.total).toBe(360);
  });

  it('has nothing for a pod that never answered, and forgets pods no longer listed', () => {
    const last = new LastScrapes<number>();
    expect(last.record('a', undefined)).toBeUndefined();
    expect(last.record('a', 5)).toBe(5);
    last.retain(new Set(['b']));
    expect(last.record('a', undefined)).toBeUndefined();
  });
});
