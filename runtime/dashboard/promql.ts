// Reading the dashboard's figures from a Prometheus server instead of scraping the pods: the PromQL
// it sends and the HTTP API's answers turned back into the shapes the collector keeps. Series are
// told apart by the labels the chart's PodMonitor gives the pods (`namespace`, `pipeline`,
// `eventsource`). Pure functions: prometheus-source.ts does the requests.
import { EventrunnerError } from '../common/errors.js';
import type { Buckets, Sample } from './prometheus.js';

export const PrometheusErrorCode = { Query: 'PROMETHEUS_QUERY' } as const;

/** Prometheus answered a query with an error, or with something that is not a query result. */
export class PrometheusQueryError extends EventrunnerError {
  constructor(
    readonly query: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(PrometheusErrorCode.Query, `Prometheus query ${query}: ${message}`, options);
    this.name = 'PrometheusQueryError';
  }
}

export const isPrometheusQueryError = (err: unknown): err is PrometheusQueryError =>
  err instanceof PrometheusQueryError;

/** What the queries cover: one namespace or all, and the range of rate() and increase(). */
export interface PromScope {
  namespace?: string;
  /** The range vector of rate() and increase(); at least two scrape intervals. */
  window: string;
}

/** Counters behind each rate the dashboard shows, by the name it keeps the rate under. */
export const PIPELINE_COUNTERS = {
  in: 'eventrunner_processor_events_in_total',
  out: 'eventrunner_processor_events_routed_total',
  dropped: 'eventrunner_processor_events_dropped_total',
  deadLettered: 'eventrunner_processor_events_deadlettered_total',
} as const;
export const EVENTSOURCE_COUNTERS = {
  accepted: 'eventrunner_ingest_events_accepted_total',
  rejected: 'eventrunner_ingest_events_rejected_total',
} as const;
export const SINK_ERRORS = 'eventrunner_sink_errors_total';
export const CONSUMER_PENDING = 'eventrunner_processor_consumer_pending';

/** Histograms behind the latency quantiles, with the label (besides the owner) they split by. */
export const PIPELINE_HISTOGRAMS = {
  processing: 'eventrunner_processor_processing_duration_seconds',
  endToEnd: 'eventrunner_processor_end_to_end_duration_seconds',
} as const;
export const WRITE_HISTOGRAM = 'eventrunner_sink_batch_duration_seconds';
export const PUBLISH_HISTOGRAM = 'eventrunner_ingest_publish_duration_seconds';

/** A label value as a PromQL string literal. */
export function promString(value: string): string {
  return `"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n')}"`;
}

/** `{namespace="shop",…}`: the scope's matchers and any others; `` when there are none. */
export function matchers(scope: PromScope, extra: Record<string, string> = {}): string {
  const all = { ...(scope.namespace ? { namespace: scope.namespace } : {}), ...extra };
  const parts = Object.entries(all).map(([k, v]) => `${k}=${promString(v)}`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

/** Non-empty owner label: series of pods the PodMonitor did not label are left out. */
const owned = (owner: 'pipeline' | 'eventsource') => `${owner}!=""`;

function withOwner(scope: PromScope, owner: 'pipeline' | 'eventsource'): string {
  const m = matchers(scope);
  return m ? `${m.slice(0, -1)},${owned(owner)}}` : `{${owned(owner)}}`;
}

/** Per-second rate of a counter summed per owner (and `by`), over the scope's window. */
export function rateQuery(
  metric: string,
  owner: 'pipeline' | 'eventsource',
  scope: PromScope,
  by: string[] = [],
): string {
  return `sum by (${['namespace', owner, ...by].join(', ')}) (rate(${metric}${withOwner(scope, owner)}[${scope.window}]))`;
}

/** A histogram's bucket counts over the window, per owner (and `by`), for its quantiles. */
export function bucketsQuery(
  metric: string,
  owner: 'pipeline' | 'eventsource',
  scope: PromScope,
  by: string[] = [],
): string {
  return `sum by (${['namespace', owner, ...by, 'le'].join(', ')}) (increase(${metric}_bucket${withOwner(scope, owner)}[${scope.window}]))`;
}

/** Every replica reports the pending count of the one shared consumer: the largest is current. */
export function lagQuery(scope: PromScope): string {
  return `max by (namespace, pipeline) (${CONSUMER_PENDING}${withOwner(scope, 'pipeline')})`;
}

/** The workloads' own series as each pod exposes them, for totals and breakdowns. */
export function samplesQuery(scope: PromScope): string {
  const m = matchers(scope);
  const name = '__name__=~"eventrunner_(processor|ingest|sink)_.+"';
  return m ? `${m.slice(0, -1)},${name}}` : `{${name}}`;
}

/** One series of an instant vector. */
export interface PromSample {
  labels: Record<string, string>;
  value: number;
}

/** One series of a range query: [milliseconds, value] points. */
export interface PromSeries {
  labels: Record<string, string>;
  points: [t: number, v: number][];
}

function parseValue(text: unknown): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  return typeof text === 'string' ? Number(text) : NaN;
}

function resultOf(body: unknown, query: string, type: 'vector' | 'matrix'): unknown[] {
  const b = body as { status?: unknown; error?: unknown; data?: { resultType?: unknown; result?: unknown } };
  if (b?.status !== 'success')
    throw new PrometheusQueryError(
      query,
      typeof b?.error === 'string' ? b.error : 'the answer is not a Prometheus API response',
    );
  if (b.data?.resultType !== type || !Array.isArray(b.data.result))
    throw new PrometheusQueryError(query, `expected a ${type}, got ${String(b.data?.resultType)}`);
  return b.data.result;
}

/** An instant query's answer (/api/v1/query); NaN values (no observations) are left out. */
export function parseVector(body: unknown, query: string): PromSample[] {
  const out: PromSample[] = [];
  for (const r of resultOf(body, query, 'vector') as {
    metric?: Record<string, string>;
    value?: [number, string];
  }[]) {
    const value = parseValue(r.value?.[1]);
    if (!Number.isNaN(value)) out.push({ labels: r.metric ?? {}, value });
  }
  return out;
}

/** A range query's answer (/api/v1/query_range), times in milliseconds; NaN points left out. */
export function parseMatrix(body: unknown, query: string): PromSeries[] {
  return (
    resultOf(body, query, 'matrix') as { metric?: Record<string, string>; values?: [number, string][] }[]
  ).map((r) => ({
    labels: r.metric ?? {},
    points: (r.values ?? [])
      .map(([t, v]): [number, number] => [Math.round(t * 1000), parseValue(v)])
      .filter(([, v]) => !Number.isNaN(v)),
  }));
}

/** `pipeline:<ns>/<name>` or `eventsource:<ns>/<name>`, as the collector keys what it scraped. */
export function ownerKey(labels: Record<string, string>): string | undefined {
  const ns = labels.namespace;
  if (!ns) return undefined;
  if (labels.pipeline) return `pipeline:${ns}/${labels.pipeline}`;
  if (labels.eventsource) return `eventsource:${ns}/${labels.eventsource}`;
  return undefined;
}

/**
 * The pods' series grouped per owner as scraping would have produced them; a pod is a distinct
 * `instance`. The labels Prometheus adds are left on: the collector reads its own labels only.
 */
export function samplesByOwner(
  series: readonly PromSample[],
): Map<string, { pods: number; samples: Sample[] }> {
  const out = new Map<string, { pods: number; samples: Sample[]; instances: Set<string> }>();
  for (const s of series) {
    const k = ownerKey(s.labels);
    const name = s.labels.__name__;
    if (!k || !name) continue;
    let entry = out.get(k);
    if (!entry) out.set(k, (entry = { pods: 0, samples: [], instances: new Set() }));
    entry.instances.add(s.labels.instance ?? '');
    entry.samples.push({ name, labels: s.labels, value: s.value });
  }
  return new Map([...out].map(([k, e]) => [k, { pods: e.instances.size, samples: e.samples }]));
}

/** Values per owner key, suffixed with `:<label value>` when split by a label. */
export function valuesByOwner(series: readonly PromSample[], label?: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of series) {
    const k = ownerKey(s.labels);
    if (!k) continue;
    const key = label ? `${k}:${s.labels[label] ?? ''}` : k;
    out.set(key, (out.get(key) ?? 0) + s.value);
  }
  return out;
}

/** Bucket counts per owner key (and `:<label value>`), ascending by upper bound. */
export function bucketsByOwner(series: readonly PromSample[], label?: string): Map<string, Buckets> {
  const byKey = new Map<string, Map<number, number>>();
  for (const s of series) {
    const k = ownerKey(s.labels);
    if (!k || s.labels.le === undefined) continue;
    const key = label ? `${k}:${s.labels[label] ?? ''}` : k;
    const le = parseValue(s.labels.le);
    const b = byKey.get(key) ?? new Map<number, number>();
    b.set(le, (b.get(le) ?? 0) + s.value);
    byKey.set(key, b);
  }
  return new Map([...byKey].map(([k, b]) => [k, [...b].sort(([x], [y]) => x - y)]));
}

/** The instants of a range query: start, start + step, … up to end (milliseconds). */
export function rangeInstants(startMs: number, endMs: number, stepMs: number): number[] {
  const t: number[] = [];
  for (let x = startMs; x <= endMs; x += stepMs) t.push(x);
  return t;
}

/**
 * A range series' values at the given instants, null where Prometheus had none, per owner key
 * (and `:<label value>`); series that share a key are added up.
 */
export function columnsByOwner(
  series: readonly PromSeries[],
  instants: readonly number[],
  label?: string,
): Map<string, (number | null)[]> {
  const index = new Map(instants.map((t, i) => [t, i]));
  const out = new Map<string, (number | null)[]>();
  for (const s of series) {
    const k = ownerKey(s.labels);
    if (!k) continue;
    const key = label ? `${k}:${s.labels[label] ?? ''}` : k;
    let col = out.get(key);
    if (!col) out.set(key, (col = instants.map(() => null)));
    for (const [t, v] of s.points) {
      const i = index.get(t);
      if (i !== undefined) col[i] = (col[i] ?? 0) + v;
    }
  }
  return out;
}
