// What the dashboard keeps per Pipeline, EventSource and Sink between ticks: totals, rates with
// their previous readings, latency buckets over the last minute, and the charts' series.
import { CounterRate, type SeriesSet } from './history.js';
import { bucketsDelta, type Buckets } from './prometheus.js';

export const PIPELINE_SERIES = ['in', 'out', 'dropped', 'deadLettered', 'lag'] as const;
export const EVENTSOURCE_SERIES = ['accepted', 'rejected'] as const;
export const SINK_SERIES = ['written', 'errors'] as const;

/** Rates are keyed by what they count; each keeps its own previous reading. */
export class Rates {
  private readonly counters = new Map<string, CounterRate>();
  readonly now = new Map<string, number>();

  update(t: number, name: string, value: number): number | undefined {
    let c = this.counters.get(name);
    if (!c) this.counters.set(name, (c = new CounterRate()));
    const r = c.update(t, value);
    if (r !== undefined) this.now.set(name, r);
    return r;
  }

  /** Rates computed elsewhere (by Prometheus) replace the current ones. */
  replace(rates: ReadonlyMap<string, number> | undefined): void {
    this.now.clear();
    for (const [k, v] of rates ?? []) this.now.set(k, v);
  }
}

/** Histogram buckets as scraped now and about a minute ago, for quantiles over the last minute. */
export class Latency {
  private readonly past: { t: number; b: Buckets }[] = [];
  current: Buckets = [];

  update(t: number, b: Buckets): void {
    this.past.push({ t, b });
    while (this.past.length > 1 && this.past[1]!.t <= t - 60_000) this.past.shift();
    this.current = bucketsDelta(b, this.past.length > 1 ? this.past[0]!.b : undefined);
  }
}

export interface PipelineLive {
  pods: number;
  rates: Rates;
  totals: { in: number; out: number; dropped: number; deadLettered: number };
  routed: Map<string, number>;
  deadLetteredByCause: Map<string, number>;
  sinkErrors: Map<string, Map<string, number>>;
  /** Sink write latency (one batch) per output. */
  writeLatency: Map<string, Latency>;
  /** Taken from the stream to acked, and stored in the stream (ingest) to acked. */
  processingLatency: Latency;
  endToEndLatency: Latency;
  lag: number | undefined;
  series: SeriesSet<(typeof PIPELINE_SERIES)[number]>;
}

export interface EventSourceLive {
  pods: number;
  rates: Rates;
  accepted: number;
  rejected: number;
  byClient: Map<string, { accepted: number; rejected: number }>;
  rejectedByReason: Map<string, number>;
  requestsByClass: Map<string, number>;
  publishLatency: Latency;
  series: SeriesSet<(typeof EVENTSOURCE_SERIES)[number]>;
}

export interface SinkLive {
  rates: Rates;
  written: number;
  errorsByKind: Map<string, number>;
  series: SeriesSet<(typeof SINK_SERIES)[number]>;
}
