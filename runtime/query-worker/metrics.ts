// The query workers' own Prometheus metrics, read from the partitions this worker owns when
// Prometheus scrapes: each query's event-time watermark and the late events it turned away.
import { Counter, Gauge, type Registry } from 'prom-client';

/** What the metrics read of one owned partition. */
export interface PartitionProgress {
  query: string;
  /** The partition's runner: late events counted since it started, and its watermark (ms). */
  runner: { readonly counts: { readonly late: number }; readonly watermark: number | undefined };
}

export function queryWorkerMetrics(registry: Registry, partitions: () => Iterable<PartitionProgress>): void {
  new Gauge({
    name: 'eventrunner_query_watermark_seconds',
    help: "Event-time watermark of each query (seconds since the epoch): the lowest among this worker's partitions of it.",
    labelNames: ['query'],
    registers: [registry],
    collect() {
      this.reset();
      const low = new Map<string, number>();
      for (const p of partitions()) {
        const w = p.runner.watermark;
        if (w === undefined || !Number.isFinite(w)) continue;
        low.set(p.query, Math.min(low.get(p.query) ?? Infinity, w));
      }
      for (const [query, w] of low) this.set({ query }, w / 1000);
    },
  });
  // A runner's count starts at zero; what each one counted since the last scrape is added.
  const seen = new WeakMap<object, number>();
  new Counter({
    name: 'eventrunner_query_late_events_total',
    help: 'Events a query turned away because their window had closed (sent to the dead-letter stream).',
    labelNames: ['query'],
    registers: [registry],
    collect() {
      for (const p of partitions()) {
        const before = seen.get(p.runner) ?? 0;
        const now = p.runner.counts.late;
        if (now > before) this.inc({ query: p.query }, now - before);
        seen.set(p.runner, now);
      }
    },
  });
}
