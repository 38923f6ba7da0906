// A Pipeline's page: rates over the last minutes, outcomes, latency, lag, replicas, the latest
// dead letters with why, a sample of recent events, queries, its Kubernetes Events and conditions.
import type { CoreV1Event } from '@kubernetes/client-node';
import type { Pipeline } from '../../api/generated/types.js';
import type { Collector } from './collector.js';
import { formatCount, formatRate, formatSeconds } from './format.js';
import { healthOf } from './graph.js';
import { escapeHtml as escape } from './html-escape.js';
import { histogramQuantile, type Buckets } from './prometheus.js';
import type { ConsumerFigures, ShownDeadLetter, ShownEvent } from './nats-reads.js';
import {
  chartOf,
  conditionsTable,
  healthBadge,
  link,
  relTime,
  table,
  type ViewPayload,
} from './view-parts.js';

/** What a Pipeline's page reads beyond the collector: JetStream and the Kubernetes Events. */
export interface PipelineExtras {
  deadLetters: ShownDeadLetter[] | undefined;
  recent: ShownEvent[] | undefined;
  byType: [string, number][] | undefined;
  consumers: Map<string, ConsumerFigures | undefined>;
  kubeEvents: CoreV1Event[];
}

const noNats = 'NATS is not connected (start the dashboard with --nats-url).';

export function kubeEventsTable(events: readonly CoreV1Event[], now: number): string {
  const rows = [...events]
    .sort((a, b) =>
      String(b.lastTimestamp ?? b.eventTime ?? '').localeCompare(
        String(a.lastTimestamp ?? a.eventTime ?? ''),
      ),
    )
    .slice(0, 20)
    .map((e) => [
      e.type ?? '',
      e.reason ?? '',
      e.message ?? '',
      String(e.count ?? 1),
      relTime(String(e.lastTimestamp ?? e.eventTime ?? ''), now),
    ]);
  return table('Kubernetes Events', ['Type', 'Reason', 'Message', 'Count', 'Last seen'], rows);
}

export function recentEventsTable(caption: string, events: readonly ShownEvent[] | undefined): string {
  if (!events) return `<p class="empty">${caption}: ${noNats}</p>`;
  return table(
    caption,
    ['Seq', 'Time', 'Type', 'Id', 'Source', 'Data'],
    events.map((e) => [e.seq, e.time, e.type, e.id, e.source, { html: `<code>${escape(e.data)}</code>` }]),
  );
}

/** p50, p95 and p99 of the last minute, or a dash without observations. */
export function quantiles(b: Buckets): string {
  const p50 = histogramQuantile(0.5, b);
  if (p50 === undefined) return '–';
  return `p50 ${formatSeconds(p50)} · p95 ${formatSeconds(histogramQuantile(0.95, b))} · p99 ${formatSeconds(histogramQuantile(0.99, b))}`;
}

export function pipelineView(c: Collector, pl: Pipeline, x: PipelineExtras, now: number): ViewPayload {
  const ns = pl.metadata.namespace!;
  const name = pl.metadata.name!;
  const live = c.pipelines.get(`${ns}/${name}`);
  const h = healthOf(pl.status?.conditions);
  const rate = (k: string) => formatRate(live?.rates.now.get(k));
  const fields: Record<string, string> = {
    'pl-health': h.health === 'ready' ? 'Ready' : `${h.reason}: ${h.message}`,
    'pl-in': rate('in'),
    'pl-out': rate('out'),
    'pl-dropped': rate('dropped'),
    'pl-deadlettered': rate('deadLettered'),
    'pl-total-in': formatCount(live?.totals.in),
    'pl-total-dropped': formatCount(live?.totals.dropped),
    'pl-total-deadlettered': formatCount(live?.totals.deadLettered),
    'pl-lag': formatCount(live?.lag),
    'pl-replicas': `${pl.status?.readyReplicas ?? 0} ready of ${pl.spec.replicas ?? 1} (${live?.pods ?? 0} scraped)`,
    'pl-dlq-depth': formatCount(pl.status?.deadLetters),
    'pl-processing': quantiles(live?.processingLatency.current ?? []),
    'pl-end-to-end': quantiles(live?.endToEndLatency.current ?? []),
  };
  const outputs = (pl.spec.outputs ?? []).map((o) => {
    const lat = live?.writeLatency.get(o.name)?.current ?? [];
    const errors = [...(live?.sinkErrors.get(o.name) ?? [])]
      .map(([k, n]) => `${k} ${formatCount(n)}`)
      .join(', ');
    return [
      o.name,
      link(`/sinks/${encodeURIComponent(ns)}/${encodeURIComponent(o.sink)}`, o.sink),
      formatCount(live?.routed.get(o.name) ?? 0),
      formatRate(live?.rates.now.get(`out:${o.name}`)),
      formatSeconds(histogramQuantile(0.5, lat)),
      formatSeconds(histogramQuantile(0.95, lat)),
      formatSeconds(histogramQuantile(0.99, lat)),
      errors || '0',
    ];
  });
  const causes = [...(live?.deadLetteredByCause ?? [])].map(([cause, n]) => [cause, formatCount(n)]);
  const lag = (pl.spec.sources ?? []).map((s) => {
    const f = x.consumers.get(s.eventSource);
    return [
      link(`/eventsources/${encodeURIComponent(ns)}/${encodeURIComponent(s.eventSource)}`, s.eventSource),
      (s.types ?? ['all types']).join(', '),
      f ? formatCount(f.pending) : '–',
      f ? formatCount(f.ackPending) : '–',
      f ? formatCount(f.redelivered) : '–',
      rate(`in:${s.eventSource}`),
    ];
  });
  const queryItems = (pl.status?.queries as { items?: Record<string, unknown>[] } | undefined)?.items ?? [];
  const queries = (pl.spec.queries ?? []).map((q) => {
    const st = queryItems.find((i) => i.name === q.name) ?? {};
    const err = pl.status?.queries?.errors?.find((e) => e.query === q.name);
    const num = (k: string) => (typeof st[k] === 'number' ? (st[k] as number) : undefined);
    return [
      { html: `<span id="query-${escape(encodeURIComponent(q.name))}">${escape(q.name)}</span>` },
      q.outputs.join(', '),
      err ? `error: ${err.message ?? ''}` : 'ok',
      num('owned') !== undefined ? `${num('owned')}/${num('partitions') ?? q.partitions}` : '–',
      num('watermarkDelaySeconds') !== undefined ? formatSeconds(num('watermarkDelaySeconds')) : '–',
      formatCount(num('lateEvents')),
    ];
  });
  const dl = x.deadLetters;
  return {
    title: `Pipeline ${ns}/${name}`,
    fields,
    fragments: {
      'pl-badge': healthBadge(h.health, h.health === 'ready' ? 'Ready' : h.reason).html,
      outputs: table(
        'Outputs: events routed and sink writes (latency of one batch write, last minute)',
        ['Output', 'Sink', 'Routed', 'Rate', 'Write p50', 'Write p95', 'Write p99', 'Errors'],
        outputs,
      ),
      causes: table('Dead-lettered by cause', ['Cause', 'Events'], causes, 'none.'),
      lag: table(
        'Lag per source (JetStream consumer)',
        ['EventSource', 'Types', 'Pending', 'Ack pending', 'Redelivered', 'In'],
        lag,
      ),
      bytype: x.byType
        ? table(
            'Events by type (in the source streams)',
            ['Type', 'Events'],
            x.byType.slice(0, 30).map(([t, n]) => [t, formatCount(n)]),
          )
        : `<p class="empty">Events by type: ${noNats}</p>`,
      deadletters: dl
        ? table(
            'Latest dead letters',
            ['Seq', 'Time', 'Reason', 'Rule', 'Output', 'Deliveries', 'Type', 'Id', 'Data'],
            dl.map((d) => [
              d.seq,
              d.time,
              d.reason,
              d.rule,
              d.output,
              d.deliveries,
              d.type,
              d.id,
              { html: `<code>${escape(d.data)}</code>` },
            ]),
          )
        : `<p class="empty">Latest dead letters: ${noNats}</p>`,
      recent: recentEventsTable('Recent events (newest first, from the source streams)', x.recent),
      queries: table(
        'Queries',
        ['Query', 'Outputs', 'Status', 'Partitions owned', 'Watermark delay', 'Late events'],
        queries,
        'this Pipeline has none.',
      ),
      kubeevents: kubeEventsTable(x.kubeEvents, now),
      conditions: conditionsTable(pl.status?.conditions),
    },
    charts: live
      ? {
          rates: chartOf(
            live.series,
            [
              { key: 'in', label: 'In' },
              { key: 'out', label: 'Routed' },
              { key: 'dropped', label: 'Dropped' },
              { key: 'deadLettered', label: 'Dead-lettered' },
            ],
            'Events per second',
            '/s',
            formatRate,
          ),
          lag: chartOf(
            live.series,
            [{ key: 'lag', label: 'Lag' }],
            'Lag (events not yet delivered)',
            'events',
            formatCount,
          ),
        }
      : {},
  };
}
