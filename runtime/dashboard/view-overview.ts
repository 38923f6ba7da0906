// The overview page: the graph with events per second on every edge, and one row per Pipeline,
// EventSource and Sink with its health and figures.
import { sinkKind, sinkTarget } from '../../api/summary.js';
import type { Collector } from './collector.js';
import { formatCount, formatRate } from './format.js';
import { buildGraph, edgeId, healthOf, renderGraphSvg } from './graph.js';
import { healthBadge, link, table, type ViewPayload } from './view-parts.js';

const page = (kind: string, ns: string, name: string) =>
  `/${kind}/${encodeURIComponent(ns)}/${encodeURIComponent(name)}`;

export function overviewView(c: Collector): ViewPayload {
  const eventSources = c.listEventSources();
  const pipelines = c.listPipelines();
  const sinks = c.listSinks();
  const graph = buildGraph(eventSources, pipelines, sinks);
  const fields: Record<string, string> = {};
  const rates = new Map<string, string>();
  for (const pl of pipelines) {
    const ns = pl.metadata.namespace!;
    const name = pl.metadata.name!;
    const live = c.pipelines.get(`${ns}/${name}`);
    for (const s of pl.spec.sources ?? [])
      rates.set(
        edgeId.source(ns, name, s.eventSource),
        formatRate(live?.rates.now.get(`in:${s.eventSource}`)),
      );
    for (const o of pl.spec.outputs ?? [])
      rates.set(edgeId.output(ns, name, o.name), formatRate(live?.rates.now.get(`out:${o.name}`)));
  }
  for (const [id, text] of rates) fields[`rate-${id}`] = text;

  const pipelineRows = pipelines.map((pl) => {
    const ns = pl.metadata.namespace!;
    const name = pl.metadata.name!;
    const live = c.pipelines.get(`${ns}/${name}`);
    const h = healthOf(pl.status?.conditions);
    return [
      link(page('pipelines', ns, name), `${ns}/${name}`),
      healthBadge(h.health, h.health === 'ready' ? 'Ready' : h.reason),
      formatRate(live?.rates.now.get('in')),
      formatRate(live?.rates.now.get('out')),
      formatCount(live?.lag),
      formatCount(live?.totals.deadLettered),
      formatCount(pl.status?.deadLetters),
      `${pl.status?.readyReplicas ?? 0}/${pl.spec.replicas ?? 1}`,
    ];
  });
  const esRows = eventSources.map((es) => {
    const ns = es.metadata.namespace!;
    const name = es.metadata.name!;
    const live = c.eventSources.get(`${ns}/${name}`);
    const h = healthOf(es.status?.conditions);
    return [
      link(page('eventsources', ns, name), `${ns}/${name}`),
      healthBadge(h.health, h.health === 'ready' ? 'Ready' : h.reason),
      formatRate(live?.rates.now.get('accepted')),
      formatRate(live?.rates.now.get('rejected')),
      formatCount(live?.accepted),
      `${es.status?.ingest?.readyReplicas ?? 0}/${es.status?.ingest?.replicas ?? 0}`,
    ];
  });
  const sinkRows = sinks.map((s) => {
    const ns = s.metadata.namespace!;
    const name = s.metadata.name!;
    const live = c.sinks.get(`${ns}/${name}`);
    const h = healthOf(s.status?.conditions);
    const errors = [...(live?.errorsByKind.values() ?? [])].reduce((a, b) => a + b, 0);
    return [
      link(page('sinks', ns, name), `${ns}/${name}`),
      healthBadge(h.health, h.health === 'ready' ? 'Ready' : h.reason),
      sinkKind(s.spec),
      sinkTarget(s.spec),
      formatRate(live?.rates.now.get('written')),
      formatCount(errors),
    ];
  });
  return {
    title: 'eventrunner',
    fields,
    fragments: {
      graph:
        graph.nodes.length === 0
          ? '<p class="empty">No EventSources, Pipelines or Sinks here yet.</p>'
          : renderGraphSvg(graph),
      pipelines: table(
        'Pipelines',
        [
          'Pipeline',
          'Health',
          'In',
          'Out',
          'Lag',
          'Dead-lettered (counted)',
          'Dead letters (stream)',
          'Ready',
        ],
        pipelineRows,
      ),
      eventsources: table(
        'EventSources',
        ['EventSource', 'Health', 'Accepted', 'Rejected', 'Accepted (total)', 'Ready'],
        esRows,
      ),
      sinks: table('Sinks', ['Sink', 'Health', 'Kind', 'Target', 'Writes', 'Errors'], sinkRows),
    },
    charts: {},
  };
}
