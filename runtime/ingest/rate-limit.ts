// Token-bucket rate limits per client: `ratePerSecond` events refill continuously up to `burst`.
// A batch takes as many tokens as it has events, all or nothing, so a batch is never half-admitted.

interface Bucket {
  tokens: number;
  updated: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  get enabled(): boolean {
    return this.ratePerSecond > 0;
  }

  /**
   * Takes `n` tokens for `client`. Returns 0 when admitted, otherwise the seconds until `n` tokens
   * will be there (for Retry-After).
   */
  take(client: string, n: number): number {
    if (!this.enabled) return 0;
    const t = this.now();
    let b = this.buckets.get(client);
    if (b === undefined) {
      b = { tokens: this.burst, updated: t };
      this.buckets.set(client, b);
    } else {
      b.tokens = Math.min(this.burst, b.tokens + ((t - b.updated) / 1000) * this.ratePerSecond);
      b.updated = t;
    }
    if (b.tokens >= n) {
      b.tokens -= n;
      return 0;
    }
    return (Math.min(n, this.burst) - b.tokens) / this.ratePerSecond;
  }
}
