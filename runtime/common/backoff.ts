// Waiting and retrying, in one place: an abortable sleep that leaves no listener behind, capped
// exponential backoff with jitter (so replicas do not retry in step), and a retry loop that gives
// up only when the signal aborts.
import type { Logger } from './logger.js';

export interface BackoffPolicy {
  /** Delay after the first failure. */
  initialMs: number;
  /** Largest delay. */
  maxMs: number;
  /** Fraction of the delay drawn at random, e.g. 0.2 for ±20%. */
  jitter: number;
}

export const defaultBackoff: BackoffPolicy = { initialMs: 500, maxMs: 10_000, jitter: 0.2 };

/** Delay before retry number `attempt` (0 for the first retry): doubling, capped, jittered. */
export function backoffDelay(attempt: number, policy: BackoffPolicy = defaultBackoff): number {
  const base = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(base * (1 - policy.jitter + Math.random() * 2 * policy.jitter));
}

/** Resolves after `ms`, or at once when `signal` aborts; removes its abort listener either way. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** `work` unless `signal` aborts first (then undefined); the listener goes when either ends. */
export function unlessAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T | undefined> {
  if (signal.aborted) return Promise.resolve(undefined);
  let onAbort!: () => void;
  const aborted = new Promise<undefined>((resolve) => {
    onAbort = () => resolve(undefined);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  return Promise.race([work, aborted]).finally(() => signal.removeEventListener('abort', onAbort));
}

export interface RetryOptions {
  /** What is attempted, for the log: "Connect to NATS". */
  what: string;
  log: Logger;
  signal: AbortSignal;
  policy?: BackoffPolicy;
  /** Log every n-th failure only (1: each). */
  logEvery?: number;
}

/**
 * Runs `fn` until it succeeds or the signal aborts (then undefined). An attempt that hangs does not
 * hold up a shutdown: the wait ends when the signal aborts.
 */
export async function retry<T>(fn: () => Promise<T>, opts: RetryOptions): Promise<T | undefined> {
  const every = opts.logEvery ?? 1;
  for (let attempt = 0; !opts.signal.aborted; attempt++) {
    try {
      return await unlessAborted(fn(), opts.signal);
    } catch (err) {
      if (attempt % every === 0)
        opts.log.warn({ err: errorText(err), attempt: attempt + 1 }, `${opts.what} failed; retrying`);
      await sleep(backoffDelay(attempt, opts.policy), opts.signal);
    }
  }
  return undefined;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
