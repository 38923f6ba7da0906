import { describe, expect, it } from 'vitest';
import { backoffDelay, retry, sleep, unlessAborted } from '../../../runtime/common/backoff.js';
import { createLogger } from '../../../runtime/common/logger.js';

const log = createLogger({ name: 'test', level: 'silent' });

/** Abort listeners an AbortSignal holds, read through the listener count Node keeps for it. */
function listeners(signal: AbortSignal): number {
  const symbols = Object.getOwnPropertySymbols(signal);
  const kEvents = symbols.find((s) => s.description === 'kEvents');
  const events = (signal as unknown as Record<symbol, Map<string, { size?: number }>>)[kEvents!];
  return events?.get('abort')?.size ?? 0;
}

describe('backoff', () => {
  it('doubles from the initial delay up to the cap, within the jitter', () => {
    const policy = { initialMs: 100, maxMs: 1000, jitter: 0.2 };
    for (let i = 0; i < 50; i++) {
      expect(backoffDelay(0, policy)).toBeGreaterThanOrEqual(80);
      expect(backoffDelay(0, policy)).toBeLessThanOrEqual(120);
      expect(backoffDelay(3, policy)).toBeGreaterThanOrEqual(640);
      expect(backoffDelay(3, policy)).toBeLessThanOrEqual(960);
      expect(backoffDelay(40, policy)).toBeLessThanOrEqual(1200);
      expect(backoffDelay(40, policy)).toBeGreaterThanOrEqual(800);
    }
  });

  it('sleeps leave no abort listener behind, whether they end or are aborted', async () => {
    const controller = new AbortController();
    for (let i = 0; i < 20; i++) await sleep(1, controller.signal);
    expect(listeners(controller.signal)).toBe(0);
    const pending = sleep(60_000, controller.signal);
    expect(listeners(controller.signal)).toBe(1);
    controller.abort();
    await pending;
    expect(listeners(controller.signal)).toBe(0);
  });

  it('unlessAborted leaves no listener behind when the work wins', async () => {
    const controller = new AbortController();
    for (let i = 0; i < 20; i++) expect(await unlessAborted(Promise.resolve(i), controller.signal)).toBe(i);
    expect(listeners(controller.signal)).toBe(0);
  });

  it('retries until the work succeeds', async () => {
    let calls = 0;
    const value = await retry(
      async () => {
        if (++calls < 3) throw new Error('not yet');
        return 'ok';
      },
      {
        what: 'Work',
        log,
        signal: new AbortController().signal,
        policy: { initialMs: 1, maxMs: 2, jitter: 0 },
      },
    );
    expect(value).toBe('ok');
    expect(calls).toBe(3);
  });

  it('stops retrying, and stops waiting for a hung attempt, when the signal aborts', async () => {
    const controller = new AbortController();
    const hung = retry(() => new Promise<never>(() => undefined), {
      what: 'Hang',
      log,
      signal: controller.signal,
    });
    controller.abort();
    expect(await hung).toBeUndefined();
    const failing = retry(
      async () => {
        throw new Error('down');
      },
      { what: 'Fail', log, signal: controller.signal },
    );
    expect(await failing).toBeUndefined();
  });
});
