import { describe, expect, it } from 'vitest';
import { Batcher } from '../../../runtime/sinks/batcher.js';
import { RowRejectedError, isTransientSinkError } from '../../../runtime/sinks/errors.js';
import type { RowResult, SinkEvent } from '../../../runtime/sinks/types.js';

const ev = (i: number): SinkEvent => ({ id: String(i), type: 't', source: 's' });

describe('Batcher', () => {
  it('writes full batches at maxRows without waiting for the delay', async () => {
    const sizes: number[] = [];
    const b = new Batcher(async (events) => (sizes.push(events.length), events.map(() => undefined)), {
      maxRows: 3,
      maxDelayMs: 60_000,
      maxConcurrent: 1,
    });
    const results = await Promise.all([1, 2, 3, 4, 5, 6].map((i) => b.add(ev(i))));
    expect(results).toEqual([undefined, undefined, undefined, undefined, undefined, undefined]);
    expect(sizes).toEqual([3, 3]);
  });

  it('writes a partial batch after maxDelay, or at once on flush', async () => {
    const sizes: number[] = [];
    const b = new Batcher(async (events) => (sizes.push(events.length), events.map(() => undefined)), {
      maxRows: 100,
      maxDelayMs: 20,
      maxConcurrent: 1,
    });
    const t = performance.now();
    await Promise.all([b.add(ev(1)), b.add(ev(2))]);
    expect(performance.now() - t).toBeGreaterThanOrEqual(15);
    const p = b.add(ev(3));
    b.flush();
    await p;
    expect(sizes).toEqual([2, 1]);
  });

  it('limits concurrent writes and passes per-row results back in order', async () => {
    let running = 0;
    let peak = 0;
    const b = new Batcher(
      async (events) => {
        running++;
        peak = Math.max(peak, running);
        await new Promise((r) => setImmediate(r));
        running--;
        return events.map((e): RowResult => (e.id === '4' ? new RowRejectedError('bad') : undefined));
      },
      { maxRows: 2, maxDelayMs: 5, maxConcurrent: 2 },
    );
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => b.add(ev(i))));
    expect(peak).toBe(2);
    expect(results.map((r) => r?.message)).toEqual([
      ...Array(4).fill(undefined),
      'bad',
      ...Array(5).fill(undefined),
    ]);
  });

  it('settles a large batch in slices with I/O between them, and drain waits for the last row', async () => {
    const b = new Batcher(async (events) => events.map((): RowResult => undefined), {
      maxRows: 2000,
      maxDelayMs: 60_000,
      maxConcurrent: 1,
    });
    const settled: number[] = [];
    let ioRanAt: number | undefined;
    for (let i = 0; i < 2000; i++) b.push(ev(i), { rowDone: (index) => settled.push(index) }, i);
    // An I/O-phase callback queued now runs before the whole batch is settled.
    setImmediate(() => (ioRanAt = settled.length));
    await b.drain();
    expect(settled).toEqual(Array.from({ length: 2000 }, (_, i) => i));
    expect(ioRanAt).toBeGreaterThan(0);
    expect(ioRanAt).toBeLessThan(2000);
  });

  it('turns a thrown write into a transient error for every row, and drains', async () => {
    const b = new Batcher(
      async () => {
        throw new Error('boom');
      },
      { maxRows: 10, maxDelayMs: 60_000, maxConcurrent: 1 },
    );
    const ps = [b.add(ev(1)), b.add(ev(2))];
    await b.drain();
    const results = await Promise.all(ps);
    expect(results.every(isTransientSinkError)).toBe(true);
    expect(b.queued).toBe(0);
  });
});
