// A short in-memory history of what the dashboard scraped: per-second rates from counters, and
// time series kept for a fixed window (15 minutes by default). Time is passed in, so the same
// scrape sequence always gives the same rates.

/** Turns successive readings of a counter (summed over pods) into a per-second rate. */
export class CounterRate {
  private last: { t: number; v: number } | undefined;
  total = 0;

  /**
   * The rate since the previous reading, or undefined on the first. A smaller value means a pod
   * restarted (counters start again at 0): the new value is what was counted since.
   */
  update(tMs: number, value: number): number | undefined {
    const prev = this.last;
    this.last = { t: tMs, v: value };
    this.total = value;
    if (!prev || tMs <= prev.t) return undefined;
    const delta = value >= prev.v ? value - prev.v : value;
    return delta / ((tMs - prev.t) / 1000);
  }
}

/**
 * What each pod reported at its latest good scrape. A pod whose scrape fails this round (timed out
 * on a busy node) counts with its last samples: summed over pods, a missed scrape must not read as
 * a counter reset (a rate of zero, then one as large as everything counted so far). A pod no longer
 * listed is forgotten.
 */
export class LastScrapes<S> {
  private readonly last = new Map<string, S>();

  /** A pod's scrape, or its failure (undefined): the samples to count, undefined if it never answered. */
  record(pod: string, samples: S | undefined): S | undefined {
    if (samples !== undefined) this.last.set(pod, samples);
    return this.last.get(pod);
  }

  /** Forgets every pod not listed this round. */
  retain(listed: ReadonlySet<string>): void {
    for (const pod of this.last.keys()) if (!listed.has(pod)) this.last.delete(pod);
  }
}

/** Several series sampled at the same instants, as a chart draws them: one x axis, n y columns. */
export class SeriesSet<K extends string> {
  readonly t: number[] = [];
  readonly columns: Record<K, (number | null)[]>;

  constructor(
    readonly names: readonly K[],
    private readonly windowMs: number,
  ) {
    this.columns = Object.fromEntries(names.map((n) => [n, []])) as unknown as Record<K, (number | null)[]>;
  }

  push(tMs: number, values: Partial<Record<K, number | undefined>>): void {
    this.t.push(tMs);
    for (const n of this.names) {
      const v = values[n];
      this.columns[n].push(v === undefined || !Number.isFinite(v) ? null : v);
    }
    const oldest = tMs - this.windowMs;
    let drop = 0;
    while (drop < this.t.length && this.t[drop]! < oldest) drop++;
    if (drop > 0) {
      this.t.splice(0, drop);
      for (const n of this.names) this.columns[n].splice(0, drop);
    }
  }

  /** Replaces the whole history with one read elsewhere (a Prometheus range query). */
  load(t: readonly number[], columns: Partial<Record<K, readonly (number | null)[]>>): void {
    this.t.splice(0, this.t.length, ...t);
    for (const n of this.names) {
      const col = columns[n];
      this.columns[n].splice(0, this.columns[n].length, ...t.map((_, i) => col?.[i] ?? null));
    }
  }

  latest(name: K): number | undefined {
    const v = this.columns[name].at(-1);
    return v === null || v === undefined ? undefined : v;
  }
}
