import { describe, expect, it } from 'vitest';
import { InFlight } from '../../../runtime/process/inflight.js';

describe('InFlight', () => {
  it('hands out free slots synchronously until the limit', () => {
    const f = new InFlight(2, () => undefined);
    expect(f.tryAcquire()).toBe(true);
    expect(f.tryAcquire()).toBe(true);
    expect(f.tryAcquire()).toBe(false);
    expect(f.size).toBe(2);
    f.release();
    expect(f.tryAcquire()).toBe(true);
  });

  it('makes a waiter wait for a release, flushing while it waits, and resolves idle at zero', async () => {
    let flushes = 0;
    const f = new InFlight(1, () => flushes++);
    const signal = new AbortController().signal;
    expect(f.tryAcquire()).toBe(true);
    let got = false;
    const waiting = f.acquire(signal).then((ok) => (got = ok));
    await Promise.resolve();
    expect(got).toBe(false);
    expect(flushes).toBe(1);
    f.release();
    await waiting;
    expect(got).toBe(true);
    let idle = false;
    const done = f.idle().then(() => (idle = true));
    await Promise.resolve();
    expect(idle).toBe(false);
    f.release();
    await done;
    expect(idle).toBe(true);
  });

  it('gives up waiting when the signal aborts', async () => {
    const f = new InFlight(1, () => undefined);
    const ac = new AbortController();
    f.tryAcquire();
    const waiting = f.acquire(ac.signal);
    ac.abort();
    expect(await waiting).toBe(false);
    expect(f.size).toBe(1);
  });
});
