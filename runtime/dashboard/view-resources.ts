// The EventSource and Sink pages.
import type { CoreV1Event } from '@kubernetes/client-node';
import type { EventSource, Pipeline, Sink } from '../../api/generated/types.js';
import { sinkKind, sinkTarget } from '../../api/summary.js';
import type { Collector } from './collector.js';
import { formatBytes, formatCount, formatRate, formatSeconds } from './format.js';
import { healthOf } from './graph.js';
import type { ShownEvent, StreamFigures } from './nats-reads.js';
import { histogramQuantile } from './prometheus.js';
import { kubeEventsTable, recentEventsTable } from './view-pipeline.js';
import { chartOf, conditionsTable, healthBadge, link, table, type ViewPayload } from './view-parts.js';

export interface EventSourceExtras {
  stream: StreamFigures | undefined;
  recent: ShownEvent[] | undefined;
  kubeEvents: CoreV1Event[];
}

export function eventSourceView(
  c: Collector,
  es: EventSource,
  x: EventSourceExtras,
  now: number,
): ViewPayload {
  const ns = es.metadata.namespace!;
  const name = es.metadata.name!;
  const live = c.eventSources.get(`${ns}/${name}`);
  const h = healthOf(es.status?.conditions);
  const lat = live?.publishLatency.current ?? [];
  const readers = c
    .listPipelines()
    .filter((p) => p.metadata.namespace === ns && (p.spec.sources ?? []).some((s) => s.eventSource === name))
    .map((p) => [
      link(`/pipelines/${encodeURIComponent(ns)}/${encodeURIComponent(p.metadata.name!)}`, p.metadata.name!),
    ]);
  return {
    title: `EventSource ${ns}/${name}`,
    fields: {
      'es-health': h.health === 'ready' ? 'Ready' : `${h.reason}: ${h.message}`,
      'es-accepted': formatRate(live?.rates.now.get('accepted')),
      'es-rejected': formatRate(live?.rates.now.get('rejected')),
      'es-total-accepted': formatCount(live?.accepted),
      'es-total-rejected': formatCount(live?.rejected),
      'es-stream': x.stream
        ? `${formatCount(x.stream.messages)} messages, ${formatBytes(x.stream.bytes)}`
        : `${formatCount(es.status?.stream?.messages)} messages, ${formatBytes(es.status?.stream?.bytes)}`,
      'es-publish': `p50 ${formatSeconds(histogramQuantile(0.5, lat))}, p95 ${formatSeconds(histogramQuantile(0.95, lat))}, p99 ${formatSeconds(histogramQuantile(0.99, lat))}`,
      'es-replicas': `${es.status?.ingest?.readyReplicas ?? 0} ready of ${es.status?.ingest?.replicas ?? 0} (${live?.pods ?? 0} scraped)`,
      'es-endpoint': es.status?.endpoints?.http ?? '–',
    },
    fragments: {
      'es-badge': healthBadge(h.health, h.health === 'ready' ? 'Ready' : h.reason).html,
      classes: table(
        'Requests by status class',
        ['Status', 'Requests'],
        [...(live?.requestsByClass ?? [])].map(([k, n]) => [k, formatCount(n)]),
      ),
      reasons: table(
        'Rejected by reason',
        ['Reason', 'Events'],
        [...(live?.rejectedByReason ?? [])].map(([k, n]) => [k, formatCount(n)]),
        'none.',
      ),
      clients: table(
        'Per client',
        ['Client', 'Accepted', 'Rejected'],
        [...(live?.byClient ?? [])].map(([k, v]) => [
          k || '(anonymous)',
          formatCount(v.accepted),
          formatCount(v.rejected),
        ]),
      ),
      bytype: x.stream
        ? table(
            'Events by type (in the stream)',
            ['Type', 'Events'],
            x.stream.byType.slice(0, 30).map(([t, n]) => [t, formatCount(n)]),
          )
        : '<p class="empty">Events by type: NATS is not connected.</p>',
      readers: table('Pipelines reading it', ['Pipeline'], readers, 'none.'),
      recent: recentEventsTable('Recent events (newest first)', x.recent),
      kubeevents: kubeEventsTable(x.kubeEvents, now),
      conditions: conditionsTable(es.status?.conditions),
    },
    charts: live
      ? {
          rates: chartOf(
            live.series,
            [
              { key: 'accepted', label: 'Accepted' },
              { key: 'rejected', label: 'Rejected' },
            ],
            'Events per second',
            '/s',
            formatRate,
          ),
        }
      : {},
  };
}

export function sinkView(c: Collector, sink: Sink, kubeEvents: CoreV1Event[], now: number): ViewPayload {
  const ns = sink.metadata.namespace!;
  const name = sink.metadata.name!;
  const live = c.sinks.get(`${ns}/${name}`);
  const h = healthOf(sink.status?.conditions);
  const writers: (string | { html: string })[][] = [];
  for (const pl of c.listPipelines() as Pipeline[]) {
    if (pl.metadata.namespace !== ns) continue;
    const pLive = c.pipelines.get(`${ns}/${pl.metadata.name}`);
    for (const o of pl.spec.outputs ?? []) {
      if (o.sink !== name) continue;
      const lat = pLive?.writeLatency.get(o.name)?.current ?? [];
      writers.push([
        link(
          `/pipelines/${encodeURIComponent(ns)}/${encodeURIComponent(pl.metadata.name!)}`,
          pl.metadata.name!,
        ),
        o.name,
        formatCount(pLive?.routed.get(o.name) ?? 0),
        formatRate(pLive?.rates.now.get(`out:${o.name}`)),
        formatSeconds(histogramQuantile(0.5, lat)),
        formatSeconds(histogramQuantile(0.95, lat)),
        formatSeconds(histogramQuantile(0.99, lat)),
      ]);
    }
  }
  return {
    title: `Sink ${ns}/${name}`,
    fields: {
      'sink-health': h.health === 'ready' ? 'Ready' : `${h.reason}: ${h.message}`,
      'sink-kind': sinkKind(sink.spec),
      'sink-target': sinkTarget(sink.spec),
      'sink-written': formatRate(live?.rates.now.get('written')),
      'sink-total': formatCount(live?.written),
    },
    fragments: {
      'sink-badge': healthBadge(h.health, h.health === 'ready' ? 'Ready' : h.reason).html,
      writers: table(
        'Writes per Pipeline output (latency of one batch write, last minute)',
        ['Pipeline', 'Output', 'Written', 'Rate', 'p50', 'p95', 'p99'],
        writers,
        'no Pipeline writes to it.',
      ),
      errors: table(
        'Errors by kind',
        ['Kind', 'Events'],
        [...(live?.errorsByKind ?? [])].map(([k, n]) => [k, formatCount(n)]),
        'none.',
      ),
      kubeevents: kubeEventsTable(kubeEvents, now),
      conditions: conditionsTable(sink.status?.conditions),
    },
    charts: live
      ? {
          rates: chartOf(
            live.series,
            [
              { key: 'written', label: 'Written' },
              { key: 'errors', label: 'Errors' },
            ],
            'Writes per second',
            '/s',
            formatRate,
          ),
        }
      : {},
  };
}
