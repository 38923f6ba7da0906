import { describe, expect, it } from 'vitest';
import { WorkQueue, backoffDelay } from '../../../operator/queue.js';

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('WorkQueue', () => {
  it('deduplicates a key that is already waiting', async () => {
    const runs: string[] = [];
    const q = new WorkQueue({ handler: async (k) => void runs.push(k), concurrency: 1 });
    q.add('a');
    q.add('a');
    q.add('b');
    q.add('a');
    q.start();
    await q.waitIdle();
    expect(runs).toEqual(['a', 'b']);
  });

  it('never runs one key twice at once, and re-runs a key added while it ran', async () => {
    const gate = deferred();
    let concurrent = 0;
    let maxConcurrent = 0;
    let runs = 0;
    const q = new WorkQueue({
      concurrency: 4,
      handler: async () => {
        runs++;
        concurrent++;
        maxConcurrent = Math.max(maxConcurrent, concurrent);
        if (runs === 1) await gate.promise;
        concurrent--;
      },
    });
    q.start();
    q.add('k');
    await new Promise((r) => setImmediate(r));
    q.add('k');
    q.add('k');
    gate.resolve();
    await q.waitIdle();
    expect(runs).toBe(2);
    expect(maxConcurrent).toBe(1);
  });

  it('retries a failing key with backoff until it succeeds', async () => {
    let attempts = 0;
    const errors: number[] = [];
    const done = deferred();
    const q = new WorkQueue({
      baseDelayMs: 5,
      maxDelayMs: 20,
      random: () => 0.5,
      handler: async () => {
        attempts++;
        if (attempts < 4) throw new Error('transient');
        done.resolve();
      },
      onError: (_k, _e, delay) => errors.push(delay),
    });
    q.start();
    q.add('x');
    await done.promise;
    await q.stop();
    expect(attempts).toBe(4);
    expect(errors).toEqual([5, 10, 20]);
  });

  it('honours requeueAfter and lets an earlier add win', async () => {
    const times: number[] = [];
    const second = deferred();
    const q = new WorkQueue({
      handler: async () => {
        times.push(Date.now());
        if (times.length === 1) return { requeueAfterMs: 30 };
        second.resolve();
      },
    });
    q.start();
    const t0 = Date.now();
    q.add('r');
    await second.promise;
    await q.stop();
    expect(times).toHaveLength(2);
    expect(times[1]! - t0).toBeGreaterThanOrEqual(25);
  });

  it('runs different keys concurrently up to the limit', async () => {
    const gate = deferred();
    let concurrent = 0;
    let maxConcurrent = 0;
    const q = new WorkQueue({
      concurrency: 2,
      handler: async () => {
        concurrent++;
        maxConcurrent = Math.max(maxConcurrent, concurrent);
        await gate.promise;
        concurrent--;
      },
    });
    q.start();
    for (const k of ['a', 'b', 'c', 'd']) q.add(k);
    await new Promise((r) => setImmediate(r));
    expect(q.depth).toBe(2);
    gate.resolve();
    await q.waitIdle();
    expect(maxConcurrent).toBe(2);
  });
});

describe('backoffDelay', () => {
  it('doubles per failure, caps, and jitters by ±50%', () => {
    expect(backoffDelay(1, 100, 1000, () => 0.5)).toBe(100);
    expect(backoffDelay(3, 100, 1000, () => 0.5)).toBe(400);
    expect(backoffDelay(10, 100, 1000, () => 0.5)).toBe(1000);
    expect(backoffDelay(2, 100, 1000, () => 0)).toBe(100);
    expect(backoffDelay(2, 100, 1000, () => 0.999)).toBe(300);
  });
});
