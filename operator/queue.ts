// A keyed work queue for level-based reconcilers: a key waits at most once (dedup), at most one
// reconcile per key runs at a time (a key added while it runs is re-run afterwards), failures back
// off exponentially with jitter and are retried forever, and a handler may ask to run again later.

export interface ReconcileResult {
  /** Run this key again after this many milliseconds (periodic resync, waiting on a child). */
  requeueAfterMs?: number;
}

export type ReconcileHandler = (key: string) => Promise<ReconcileResult | void>;

export interface WorkQueueOptions {
  handler: ReconcileHandler;
  /** Reconciles running at once across keys. */
  concurrency?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  onError?: (key: string, err: unknown, retryInMs: number) => void;
  onDone?: (key: string, durationMs: number, ok: boolean) => void;
  /** Random source for jitter; tests pass a fixed one. */
  random?: () => number;
}

/** Delay before retry number `failures` (1-based): base·2^(n-1), capped, with ±50% jitter. */
export function backoffDelay(failures: number, baseMs: number, maxMs: number, random: () => number): number {
  const exp = Math.min(maxMs, baseMs * 2 ** Math.max(0, failures - 1));
  return Math.round(exp * (0.5 + random()));
}

export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly queued = new Set<string>();
  private readonly running = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly timers = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  private readonly failures = new Map<string, number>();
  private active = 0;
  private stopped = true;
  private idleWaiters: (() => void)[] = [];
  private readonly opts: Required<Omit<WorkQueueOptions, 'onError' | 'onDone'>> &
    Pick<WorkQueueOptions, 'onError' | 'onDone'>;

  constructor(opts: WorkQueueOptions) {
    this.opts = {
      concurrency: 4,
      baseDelayMs: 200,
      maxDelayMs: 5 * 60_000,
      random: Math.random,
      ...opts,
    };
  }

  /** Keys waiting to run (not counting running or delayed ones). */
  get depth(): number {
    return this.queue.length;
  }

  start(): void {
    this.stopped = false;
    this.pump();
  }

  /** Stops taking new work and cancels delayed keys; running reconciles finish. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const { timer } of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    await this.waitIdle();
  }

  add(key: string): void {
    const delayed = this.timers.get(key);
    if (delayed) {
      clearTimeout(delayed.timer);
      this.timers.delete(key);
    }
    if (this.running.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    this.queued.add(key);
    this.queue.push(key);
    this.pump();
  }

  /** Adds the key after `ms`, unless it is added sooner; the earliest pending time wins. */
  addAfter(key: string, ms: number): void {
    if (this.stopped) return;
    const at = Date.now() + ms;
    const existing = this.timers.get(key);
    if (existing && existing.at <= at) return;
    if (existing) clearTimeout(existing.timer);
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, ms);
    timer.unref();
    this.timers.set(key, { at, timer });
  }

  /** Resolves when nothing is queued or running (delayed keys do not count). */
  waitIdle(): Promise<void> {
    if (this.active === 0 && (this.queue.length === 0 || this.stopped)) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(): void {
    while (!this.stopped && this.active < this.opts.concurrency && this.queue.length > 0) {
      const key = this.queue.shift()!;
      this.queued.delete(key);
      this.running.add(key);
      this.active++;
      void this.run(key);
    }
    if (this.active === 0 && (this.queue.length === 0 || this.stopped)) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  private async run(key: string): Promise<void> {
    const started = Date.now();
    let ok = true;
    try {
      const result = await this.opts.handler(key);
      this.failures.delete(key);
      if (result?.requeueAfterMs !== undefined) this.addAfter(key, result.requeueAfterMs);
    } catch (err) {
      ok = false;
      const n = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, n);
      const delay = backoffDelay(n, this.opts.baseDelayMs, this.opts.maxDelayMs, this.opts.random);
      this.opts.onError?.(key, err, delay);
      this.addAfter(key, delay);
    } finally {
      this.opts.onDone?.(key, Date.now() - started, ok);
      this.running.delete(key);
      this.active--;
      if (this.dirty.delete(key)) this.add(key);
      this.pump();
    }
  }
}
