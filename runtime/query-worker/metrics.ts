// The query workers' own Prometheus metrics, each with a `query` label. Gauges are read from the
// partitions this worker owns when Prometheus scrapes: the partitions owned, the event-time
// watermark and how far it is behind the wall clock, the state keys held, the age of the least
// recent checkpoint. Counters are added to by the partitions' runners as they go: inputs pushed,
// results emitted, late events turned away, checkpoints written. A query of which this worker owns
// no partition reports 0 partitions and state keys, and no gauge that needs a partition.
import { Counter, Gauge, type Registry } from 'prom-client';

/** What the metrics read of one partition's runner when scraped. */
export interface RunnerProgress {
  /** The partition's watermark (ms since the epoch), once its state is restored. */
  readonly watermark: number | undefined;
  /** Open state entries, once restored. */
  readonly stateKeys?: number;
  /**
   * performance.now() of the last checkpoint written (or of the claim, which takes the previous
   * owner's over); undefined before the claim.
   */
  readonly lastCheckpointAt?: number | undefined;
}

/** One owned partition. */
export interface PartitionProgress {
  query: string;
  runner: RunnerProgress;
}

/** A query's counters, for its partitions' runners to add to. */
export interface QueryCounters {
  late(n: number): void;
  inputs(n: number): void;
  results(n: number): void;
  checkpoint(): void;
}

/**
 * Registers the metrics; `partitions` lists the owned partitions at each scrape, `queries` the
 * queries the worker runs (reported with 0 partitions when it owns none of them).
 */
export function queryWorkerMetrics(
  registry: Registry,
  partitions: () => Iterable<PartitionProgress>,
  queries: readonly string[] = [],
): { of(query: string): QueryCounters } {
  const perQuery = (read: (p: PartitionProgress) => number | undefined, combine: 'min' | 'max' | 'sum') => {
    const out = new Map<string, number>();
    for (const p of partitions()) {
      const v = read(p);
      if (v === undefined || !Number.isFinite(v)) continue;
      const before = out.get(p.query);
      out.set(
        p.query,
        before === undefined
          ? v
          : combine === 'min'
            ? Math.min(before, v)
            : combine === 'max'
              ? Math.max(before, v)
              : before + v,
      );
    }
    return out;
  };
  new Gauge({
    name: 'eventrunner_query_partitions_owned',
    help: 'Partitions of each query this worker owns now.',
    labelNames: ['query'],
    registers: [registry],
    collect() {
      this.reset();
      for (const q of queries) this.set({ query: q }, 0);
      for (const [query, n] of perQuery(() => 1, 'sum')) this.set({ query }, n);
    },
  });
  new Gauge({
    name: 'eventrunner_query_watermark_seconds',
    help: "Event-time watermark of each query (seconds since the epoch): the lowest among this worker's partitions of it.",
    labelNames: ['query'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [query, w] of perQuery((p) => p.runner.watermark, 'min')) this.set({ query }, w / 1000);
    },
  });
  new Gauge({
    name: 'eventrunner_query_watermark_delay_seconds',
    help: "How far each query's lowest watermark on this worker is behind the wall clock (seconds).",
    labelNames: ['query'],
    registers: [registry],
    collect() {
      this.reset();
      const now = Date.now();
      for (const [query, w] of perQuery((p) => p.runner.watermark, 'min'))
        this.set({ query }, (now - w) / 1000);
    },
  });
  new Gauge({
    name: 'eventrunner_query_state_keys',
    help: "Open state entries (windows × groups, matches, join rows) of each query in this worker's partitions.",
    labelNames: ['query'],
    registers: [registry],
    collect() {
      this.reset();
      for (const q of queries) this.set({ query: q }, 0);
      for (const [query, n] of perQuery((p) => p.runner.stateKeys, 'sum')) this.set({ query }, n);
    },
  });
  new Gauge({
    name: 'eventrunner_query_last_checkpoint_age_seconds',
    help: "Seconds since the least recent checkpoint among this worker's partitions of each query (a partition taken over counts from its claim; an idle partition writes none).",
    labelNames: ['query'],
    registers: [registry],
    collect() {
      this.reset();
      const now = performance.now();
      for (const [query, at] of perQuery((p) => p.runner.lastCheckpointAt, 'min'))
        this.set({ query }, Math.max(0, now - at) / 1000);
    },
  });
  // Counted where they happen (not read from the runners at scrape time), so that what a runner
  // counted before it ended is not lost. Inputs replayed after a restart are counted again.
  const counter = (name: string, help: string) => {
    const c = new Counter({ name, help, labelNames: ['query'], registers: [registry] });
    for (const q of queries) c.inc({ query: q }, 0);
    return c;
  };
  const late = counter(
    'eventrunner_query_late_events_total',
    'Events a query turned away because their window had closed (sent to the dead-letter stream).',
  );
  const inputs = counter('eventrunner_query_inputs_total', 'Inputs each query pushed into its partitions.');
  const results = counter(
    'eventrunner_query_results_total',
    'Result rows each query emitted to its outputs.',
  );
  const checkpoints = counter('eventrunner_query_checkpoints_total', 'Checkpoints each query wrote.');
  return {
    of: (query: string): QueryCounters => {
      const l = late.labels({ query });
      const i = inputs.labels({ query });
      const r = results.labels({ query });
      const c = checkpoints.labels({ query });
      return {
        late: (n) => l.inc(n),
        inputs: (n) => i.inc(n),
        results: (n) => r.inc(n),
        checkpoint: () => c.inc(),
      };
    },
  };
}
