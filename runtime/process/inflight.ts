// Bounds the messages this process holds unacknowledged. When the bound is reached the pull loop
// waits (so JetStream stops delivering: backpressure, not buffering) and `onFull` runs, which
// flushes the sinks' partial batches: no more events can arrive to fill them.
export class InFlight {
  private count = 0;
  private waiters: (() => void)[] = [];
  private idleWaiters: (() => void)[] = [];

  constructor(
    private max: number,
    private readonly onFull: () => void,
  ) {}

  get size(): number {
    return this.count;
  }
  get limit(): number {
    return this.max;
  }
  setLimit(max: number): void {
    this.max = Math.max(1, max);
  }

  /** Takes a free slot at once (no promise); false when none is free. */
  tryAcquire(): boolean {
    if (this.count >= this.max) return false;
    this.count++;
    return true;
  }

  /** Takes a slot; false when the signal aborted while waiting. */
  async acquire(signal: AbortSignal): Promise<boolean> {
    while (this.count >= this.max) {
      if (signal.aborted) return false;
      this.onFull();
      await new Promise<void>((resolve) => {
        const done = () => {
          signal.removeEventListener('abort', done);
          resolve();
        };
        this.waiters.push(done);
        signal.addEventListener('abort', done, { once: true });
      });
    }
    if (signal.aborted) return false;
    this.count++;
    return true;
  }

  release(): void {
    this.count--;
    this.waiters.shift()?.();
    if (this.count === 0) {
      const idle = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of idle) w();
    }
  }

  /** Resolves when nothing is in flight. */
  idle(): Promise<void> {
    if (this.count === 0) return Promise.resolve();
    return new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }
}
