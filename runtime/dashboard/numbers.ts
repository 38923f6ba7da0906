// A Pipeline's figures as numbers (GET /api/pipelines/<namespace>/<name>): what its page shows,
// unformatted, for scripts and for checking the page against the streams and sinks.
import type { Pipeline } from '../../api/generated/types.js';
import type { Collector } from './collector.js';
import { healthOf } from './graph.js';
import { histogramQuantile, type Buckets } from './prometheus.js';
import type { PipelineExtras } from './view-pipeline.js';

export interface Quantiles {
  p50: number;
  p95: number;
  p99: number;
}

function quantilesOf(b: Buckets): Quantiles | null {
  const p50 = histogramQuantile(0.5, b);
  return p50 === undefined
    ? null
    : { p50, p95: histogramQuantile(0.95, b)!, p99: histogramQuantile(0.99, b)! };
}

export interface PipelineNumbers {
  namespace: string;
  name: string;
  /** When these figures were read (ms since the epoch): the instant Prometheus evaluated them at. */
  at: number;
  health: string;
  reason: string;
  pods: number;
  totals: { in: number; routed: Record<string, number>; dropped: number; deadLettered: number };
  deadLetteredByCause: Record<string, number>;
  rates: Record<string, number>;
  /** Seconds, over the last minute; null without observations (or without the metric). */
  latency: { processing: Quantiles | null; endToEnd: Quantiles | null };
  /** Undelivered events by the processors' own report (largest over replicas), else the status. */
  lag: number | null;
  consumers: Record<string, { pending: number; ackPending: number } | null>;
  deadLetters:
    { seq: number; reason: string; rule: string; output: string; id: string; type: string }[] | null;
  eventsByType: Record<string, number> | null;
}

export function pipelineNumbers(c: Collector, pl: Pipeline, x: PipelineExtras): PipelineNumbers {
  const ns = pl.metadata.namespace!;
  const name = pl.metadata.name!;
  const live = c.pipelines.get(`${ns}/${name}`);
  const h = healthOf(pl.status?.conditions);
  return {
    namespace: ns,
    name,
    at: c.lastTick,
    health: h.health,
    reason: h.reason,
    pods: live?.pods ?? 0,
    totals: {
      in: live?.totals.in ?? 0,
      routed: Object.fromEntries(live?.routed ?? []),
      dropped: live?.totals.dropped ?? 0,
      deadLettered: live?.totals.deadLettered ?? 0,
    },
    deadLetteredByCause: Object.fromEntries(live?.deadLetteredByCause ?? []),
    rates: Object.fromEntries(live?.rates.now ?? []),
    latency: {
      processing: quantilesOf(live?.processingLatency.current ?? []),
      endToEnd: quantilesOf(live?.endToEndLatency.current ?? []),
    },
    lag: live?.lag ?? null,
    consumers: Object.fromEntries(
      [...x.consumers].map(([k, v]) => [k, v ? { pending: v.pending, ackPending: v.ackPending } : null]),
    ),
    deadLetters:
      x.deadLetters?.map((d) => ({
        seq: d.seq,
        reason: d.reason,
        rule: d.rule,
        output: d.output,
        id: d.id,
        type: d.type,
      })) ?? null,
    eventsByType: x.byType ? Object.fromEntries(x.byType) : null,
  };
}
