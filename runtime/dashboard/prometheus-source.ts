// The dashboard's metrics read from a Prometheus server (--prometheus-url) instead of scraped from
// the pods: totals and breakdowns from the pods' own series, rates and latency buckets over a
// window, and the charts' history by range queries. Every figure of one round is evaluated at the
// same instant, so the page shows what Prometheus held then.
import type { Buckets, Sample } from './prometheus.js';
import {
  bucketsByOwner,
  bucketsQuery,
  columnsByOwner,
  EVENTSOURCE_COUNTERS,
  lagQuery,
  ownerKey,
  parseMatrix,
  parseVector,
  PIPELINE_COUNTERS,
  PIPELINE_HISTOGRAMS,
  PrometheusQueryError,
  PUBLISH_HISTOGRAM,
  rangeInstants,
  rateQuery,
  samplesByOwner,
  samplesQuery,
  SINK_ERRORS,
  WRITE_HISTOGRAM,
  type PromSample,
  type PromScope,
  type PromSeries,
} from './promql.js';

export interface PrometheusHistory {
  /** The instants of every column, milliseconds. */
  t: number[];
  /** Per owner key (`pipeline:<ns>/<name>`, `eventsource:…`), per series name. */
  columns: Map<string, Record<string, (number | null)[]>>;
  /** Per `pipeline:<ns>/<name>:<output>`: routed and sink-error rates, which Sinks add up. */
  outputs: Map<string, { written: (number | null)[]; errors: (number | null)[] }>;
}

export interface PrometheusFigures {
  /** The instant every query was evaluated at, milliseconds. */
  at: number;
  samples: Map<string, { pods: number; samples: Sample[] }>;
  /** Per owner key, rates under the names the collector keeps them (`in`, `out:<output>`, …). */
  rates: Map<string, Map<string, number>>;
  /** Sink error rates per `pipeline:<ns>/<name>:<output>`. */
  outputErrorRates: Map<string, number>;
  /** Bucket counts over the window: per owner key, and per `<owner key>:<output>` for writes. */
  latency: {
    processing: Map<string, Buckets>;
    endToEnd: Map<string, Buckets>;
    write: Map<string, Buckets>;
    publish: Map<string, Buckets>;
  };
  /** Present when this round refreshed the history (at most once per step). */
  history?: PrometheusHistory;
}

export interface PrometheusSourceOptions {
  url: string;
  namespace?: string;
  /** Range of rate() and increase(); default 1m. */
  window?: string;
  historyMs: number;
  /** Resolution of the history; it is refreshed no more often than this. */
  stepMs: number;
  timeoutMs: number;
}

function add(map: Map<string, Map<string, number>>, owner: string, name: string, v: number): void {
  let m = map.get(owner);
  if (!m) map.set(owner, (m = new Map()));
  m.set(name, (m.get(name) ?? 0) + v);
}

export class PrometheusSource {
  private readonly scope: PromScope;
  private lastHistory = -Infinity;

  constructor(private readonly o: PrometheusSourceOptions) {
    this.scope = { ...(o.namespace ? { namespace: o.namespace } : {}), window: o.window ?? '1m' };
  }

  private async get(path: string, params: Record<string, string>, query: string): Promise<unknown> {
    const url = `${this.o.url.replace(/\/+$/, '')}${path}?${new URLSearchParams(params)}`;
    const res = await fetch(url, { signal: AbortSignal.timeout(this.o.timeoutMs) });
    const text = await res.text();
    try {
      return JSON.parse(text) as unknown;
    } catch (err) {
      throw new PrometheusQueryError(query, `HTTP ${res.status}: ${text.slice(0, 200)}`, { cause: err });
    }
  }

  async instant(query: string, atMs: number): Promise<PromSample[]> {
    return parseVector(await this.get('/api/v1/query', { query, time: String(atMs / 1000) }, query), query);
  }

  async range(query: string, startMs: number, endMs: number, stepMs: number): Promise<PromSeries[]> {
    const params = {
      query,
      start: String(startMs / 1000),
      end: String(endMs / 1000),
      step: String(stepMs / 1000),
    };
    return parseMatrix(await this.get('/api/v1/query_range', params, query), query);
  }

  /** Every figure at `atMs`; the history too when a step has passed since it was last read. */
  async read(atMs: number): Promise<PrometheusFigures> {
    const s = this.scope;
    const at = (q: string) => this.instant(q, atMs);
    const [samples, inBySource, outByOutput, dropped, deadLettered, errors, accepted, rejected] =
      await Promise.all([
        at(samplesQuery(s)),
        at(rateQuery(PIPELINE_COUNTERS.in, 'pipeline', s, ['source'])),
        at(rateQuery(PIPELINE_COUNTERS.out, 'pipeline', s, ['output'])),
        at(rateQuery(PIPELINE_COUNTERS.dropped, 'pipeline', s)),
        at(rateQuery(PIPELINE_COUNTERS.deadLettered, 'pipeline', s)),
        at(rateQuery(SINK_ERRORS, 'pipeline', s, ['output'])),
        at(rateQuery(EVENTSOURCE_COUNTERS.accepted, 'eventsource', s)),
        at(rateQuery(EVENTSOURCE_COUNTERS.rejected, 'eventsource', s)),
      ]);
    const [processing, endToEnd, write, publish] = await Promise.all([
      at(bucketsQuery(PIPELINE_HISTOGRAMS.processing, 'pipeline', s)),
      at(bucketsQuery(PIPELINE_HISTOGRAMS.endToEnd, 'pipeline', s)),
      at(bucketsQuery(WRITE_HISTOGRAM, 'pipeline', s, ['output'])),
      at(bucketsQuery(PUBLISH_HISTOGRAM, 'eventsource', s)),
    ]);

    const rates = new Map<string, Map<string, number>>();
    const outputErrorRates = new Map<string, number>();
    const each = (list: PromSample[], f: (owner: string, x: PromSample) => void) => {
      for (const x of list) {
        const owner = ownerKey(x.labels);
        if (owner) f(owner, x);
      }
    };
    each(inBySource, (k, x) => {
      add(rates, k, 'in', x.value);
      add(rates, k, `in:${x.labels.source ?? ''}`, x.value);
    });
    each(outByOutput, (k, x) => {
      add(rates, k, 'out', x.value);
      add(rates, k, `out:${x.labels.output ?? ''}`, x.value);
    });
    each(dropped, (k, x) => add(rates, k, 'dropped', x.value));
    each(deadLettered, (k, x) => add(rates, k, 'deadLettered', x.value));
    each(accepted, (k, x) => add(rates, k, 'accepted', x.value));
    each(rejected, (k, x) => add(rates, k, 'rejected', x.value));
    each(errors, (k, x) => {
      const key = `${k}:${x.labels.output ?? ''}`;
      outputErrorRates.set(key, (outputErrorRates.get(key) ?? 0) + x.value);
    });

    const figures: PrometheusFigures = {
      at: atMs,
      samples: samplesByOwner(samples),
      rates,
      outputErrorRates,
      latency: {
        processing: bucketsByOwner(processing),
        endToEnd: bucketsByOwner(endToEnd),
        write: bucketsByOwner(write, 'output'),
        publish: bucketsByOwner(publish),
      },
    };
    if (atMs - this.lastHistory >= this.o.stepMs) {
      figures.history = await this.history(atMs);
      this.lastHistory = atMs;
    }
    return figures;
  }

  /** The charts' series over the last historyMs, at instants aligned to the step. */
  private async history(atMs: number): Promise<PrometheusHistory> {
    const s = this.scope;
    const step = this.o.stepMs;
    const end = Math.floor(atMs / step) * step;
    const start = end - Math.floor(this.o.historyMs / step) * step;
    const range = (q: string) => this.range(q, start, end, step);
    const t = rangeInstants(start, end, step);
    const named: [string, string][] = [
      ['in', rateQuery(PIPELINE_COUNTERS.in, 'pipeline', s)],
      ['out', rateQuery(PIPELINE_COUNTERS.out, 'pipeline', s)],
      ['dropped', rateQuery(PIPELINE_COUNTERS.dropped, 'pipeline', s)],
      ['deadLettered', rateQuery(PIPELINE_COUNTERS.deadLettered, 'pipeline', s)],
      ['lag', lagQuery(s)],
      ['accepted', rateQuery(EVENTSOURCE_COUNTERS.accepted, 'eventsource', s)],
      ['rejected', rateQuery(EVENTSOURCE_COUNTERS.rejected, 'eventsource', s)],
    ];
    const [results, written, errors] = await Promise.all([
      Promise.all(named.map(([, q]) => range(q))),
      range(rateQuery(PIPELINE_COUNTERS.out, 'pipeline', s, ['output'])),
      range(rateQuery(SINK_ERRORS, 'pipeline', s, ['output'])),
    ]);
    const columns = new Map<string, Record<string, (number | null)[]>>();
    named.forEach(([name], i) => {
      for (const [owner, col] of columnsByOwner(results[i]!, t)) {
        const c = columns.get(owner) ?? {};
        c[name] = col;
        columns.set(owner, c);
      }
    });
    const outputs = new Map<string, { written: (number | null)[]; errors: (number | null)[] }>();
    const empty = () => t.map(() => null);
    for (const [k, col] of columnsByOwner(written, t, 'output'))
      outputs.set(k, { written: col, errors: empty() });
    for (const [k, col] of columnsByOwner(errors, t, 'output'))
      outputs.set(k, { written: outputs.get(k)?.written ?? empty(), errors: col });
    return { t, columns, outputs };
  }
}
