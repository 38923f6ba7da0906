// The overview's graph: EventSources → Pipelines → queries → Sinks, built from the resources'
// specs and statuses, laid out in four columns and drawn as SVG on the server. Pure functions;
// the page updates only the rate labels (by id) as new numbers arrive.
import type { Condition, EventSource, Pipeline, Sink } from '../../api/generated/types.js';
import { escapeHtml } from './html-escape.js';

export type NodeKind = 'eventsource' | 'pipeline' | 'query' | 'sink';
export type Health = 'ready' | 'failing' | 'pending';

export interface GraphNode {
  id: string;
  kind: NodeKind;
  namespace: string;
  name: string;
  health: Health;
  /** The Ready condition's reason (or why the node has none). */
  reason: string;
  message: string;
  href: string;
}

export interface GraphEdge {
  id: string;
  from: string;
  to: string;
  /** What flows: the source's EventSource, an output name, or a query. */
  label: string;
}

export interface Graph {
  nodes: GraphNode[];
  edges: GraphEdge[];
}

const key = (o: { metadata?: { namespace?: string; name?: string } }) =>
  `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;

export const nodeId = {
  eventSource: (ns: string, name: string) => `es:${ns}/${name}`,
  pipeline: (ns: string, name: string) => `pl:${ns}/${name}`,
  query: (ns: string, pipeline: string, query: string) => `q:${ns}/${pipeline}/${query}`,
  sink: (ns: string, name: string) => `sink:${ns}/${name}`,
};

export const edgeId = {
  source: (ns: string, pipeline: string, eventSource: string) => `in:${ns}/${pipeline}/${eventSource}`,
  output: (ns: string, pipeline: string, output: string) => `out:${ns}/${pipeline}/${output}`,
  query: (ns: string, pipeline: string, query: string) => `query:${ns}/${pipeline}/${query}`,
  queryOutput: (ns: string, pipeline: string, query: string, output: string) =>
    `qout:${ns}/${pipeline}/${query}/${output}`,
};

/** Health and reason from a resource's conditions: Ready=True is ready, False failing, else pending. */
export function healthOf(conditions: readonly Condition[] | undefined): {
  health: Health;
  reason: string;
  message: string;
} {
  const ready = conditions?.find((c) => c.type === 'Ready');
  if (!ready) return { health: 'pending', reason: 'NoStatus', message: 'The operator has not reported yet' };
  const health: Health = ready.status === 'True' ? 'ready' : ready.status === 'False' ? 'failing' : 'pending';
  return { health, reason: ready.reason, message: ready.message };
}

const href = (kind: string, ns: string, name: string) =>
  `/${kind}/${encodeURIComponent(ns)}/${encodeURIComponent(name)}`;

export function buildGraph(
  eventSources: readonly EventSource[],
  pipelines: readonly Pipeline[],
  sinks: readonly Sink[],
): Graph {
  const nodes = new Map<string, GraphNode>();
  const edges: GraphEdge[] = [];
  const sorted = <T extends { metadata: { namespace?: string; name?: string } }>(xs: readonly T[]) =>
    [...xs].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  const missing = (kind: NodeKind, ns: string, name: string, id: string): GraphNode => ({
    id,
    kind,
    namespace: ns,
    name,
    health: 'failing',
    reason: 'NotFound',
    message: `No ${kind === 'sink' ? 'Sink' : 'EventSource'} ${name} in ${ns}`,
    href: href(kind === 'sink' ? 'sinks' : 'eventsources', ns, name),
  });
  for (const es of sorted(eventSources)) {
    const ns = es.metadata.namespace ?? '';
    const name = es.metadata.name!;
    const id = nodeId.eventSource(ns, name);
    nodes.set(id, {
      id,
      kind: 'eventsource',
      namespace: ns,
      name,
      ...healthOf(es.status?.conditions),
      href: href('eventsources', ns, name),
    });
  }
  for (const pl of sorted(pipelines)) {
    const ns = pl.metadata.namespace ?? '';
    const name = pl.metadata.name!;
    const id = nodeId.pipeline(ns, name);
    nodes.set(id, {
      id,
      kind: 'pipeline',
      namespace: ns,
      name,
      ...healthOf(pl.status?.conditions),
      href: href('pipelines', ns, name),
    });
  }
  for (const sink of sorted(sinks)) {
    const ns = sink.metadata.namespace ?? '';
    const name = sink.metadata.name!;
    const id = nodeId.sink(ns, name);
    nodes.set(id, {
      id,
      kind: 'sink',
      namespace: ns,
      name,
      ...healthOf(sink.status?.conditions),
      href: href('sinks', ns, name),
    });
  }
  for (const pl of sorted(pipelines)) {
    const ns = pl.metadata.namespace ?? '';
    const name = pl.metadata.name!;
    const plId = nodeId.pipeline(ns, name);
    for (const src of pl.spec.sources ?? []) {
      const esId = nodeId.eventSource(ns, src.eventSource);
      if (!nodes.has(esId)) nodes.set(esId, missing('eventsource', ns, src.eventSource, esId));
      edges.push({
        id: edgeId.source(ns, name, src.eventSource),
        from: esId,
        to: plId,
        label: src.eventSource,
      });
    }
    const sinkOf = new Map((pl.spec.outputs ?? []).map((o) => [o.name, o.sink]));
    const sinkNode = (sinkName: string) => {
      const id = nodeId.sink(ns, sinkName);
      if (!nodes.has(id)) nodes.set(id, missing('sink', ns, sinkName, id));
      return id;
    };
    for (const out of pl.spec.outputs ?? []) {
      edges.push({
        id: edgeId.output(ns, name, out.name),
        from: plId,
        to: sinkNode(out.sink),
        label: out.name,
      });
    }
    const queryErrors = pl.status?.queries?.errors ?? [];
    for (const q of pl.spec.queries ?? []) {
      const qId = nodeId.query(ns, name, q.name);
      const err = queryErrors.find((e) => e.query === q.name);
      nodes.set(qId, {
        id: qId,
        kind: 'query',
        namespace: ns,
        name: q.name,
        health: err ? 'failing' : nodes.get(plId)!.health,
        reason: err ? 'InvalidQuery' : 'Query',
        message: err?.message ?? `Query ${q.name} of Pipeline ${name}`,
        href: `${href('pipelines', ns, name)}#query-${encodeURIComponent(q.name)}`,
      });
      edges.push({ id: edgeId.query(ns, name, q.name), from: plId, to: qId, label: q.name });
      for (const o of q.outputs) {
        const sink = sinkOf.get(o);
        if (sink !== undefined)
          edges.push({
            id: edgeId.queryOutput(ns, name, q.name, o),
            from: qId,
            to: sinkNode(sink),
            label: o,
          });
      }
    }
  }
  return { nodes: [...nodes.values()], edges };
}

const columns: NodeKind[] = ['eventsource', 'pipeline', 'query', 'sink'];
const columnTitle: Record<NodeKind, string> = {
  eventsource: 'EventSources',
  pipeline: 'Pipelines',
  query: 'Queries',
  sink: 'Sinks',
};
const NODE_W = 190;
const NODE_H = 48;
const COL_GAP = 90;
const ROW_GAP = 18;
const TOP = 30;

export interface Layout {
  width: number;
  height: number;
  at: Map<string, { x: number; y: number }>;
}

/** Columns by kind (the query column only when a Pipeline has queries), rows in name order. */
export function layoutGraph(g: Graph): Layout {
  const used = columns.filter((k) => k !== 'query' || g.nodes.some((n) => n.kind === 'query'));
  const at = new Map<string, { x: number; y: number }>();
  let rows = 0;
  used.forEach((kind, col) => {
    const inCol = g.nodes.filter((n) => n.kind === kind);
    inCol.forEach((n, row) =>
      at.set(n.id, { x: col * (NODE_W + COL_GAP) + 10, y: TOP + row * (NODE_H + ROW_GAP) }),
    );
    rows = Math.max(rows, inCol.length);
  });
  return {
    width: used.length * (NODE_W + COL_GAP) - COL_GAP + 20,
    height: TOP + Math.max(rows, 1) * (NODE_H + ROW_GAP) + 10,
    at,
  };
}

const healthText: Record<Health, string> = { ready: 'Ready', failing: 'Not ready', pending: 'Pending' };
const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/**
 * The graph as an SVG document fragment. Nodes are links (keyboard-focusable, with an accessible
 * name saying kind, name and health); each edge has a text element with id `rate-<edge id>` that
 * the page fills with events per second, from `rates` here and from updates after.
 */
export function renderGraphSvg(g: Graph, rates: ReadonlyMap<string, string> = new Map()): string {
  const layout = layoutGraph(g);
  const used = columns.filter((k) => k !== 'query' || g.nodes.some((n) => n.kind === 'query'));
  const parts: string[] = [];
  parts.push(
    `<svg class="graph" role="group" aria-label="Pipeline graph: ${g.nodes.length} resources, ${g.edges.length} connections" viewBox="0 0 ${layout.width} ${layout.height}" width="${layout.width}" height="${layout.height}">`,
  );
  used.forEach((kind, col) => {
    parts.push(
      `<text class="col-title" x="${col * (NODE_W + COL_GAP) + 10}" y="16">${columnTitle[kind]}</text>`,
    );
  });
  const into = new Map<string, number>();
  for (const e of g.edges) {
    const a = layout.at.get(e.from);
    const b = layout.at.get(e.to);
    if (!a || !b) continue;
    const x1 = a.x + NODE_W;
    const y1 = a.y + NODE_H / 2;
    const x2 = b.x;
    const y2 = b.y + NODE_H / 2;
    const mx = (x1 + x2) / 2;
    const nth = into.get(e.to) ?? 0;
    into.set(e.to, nth + 1);
    // The rate sits at the edge's end, left of its target: clear of the query column it may cross.
    const id = escapeHtml(e.id);
    parts.push(
      `<g class="edge" data-edge="${id}"><title>${escapeHtml(e.label)}</title><path d="M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}" /><text class="rate" id="rate-${id}" x="${x2 - 6}" y="${y2 - 6 - nth * 14}" text-anchor="end">${escapeHtml(rates.get(e.id) ?? '')}</text></g>`,
    );
  }
  for (const n of g.nodes) {
    const p = layout.at.get(n.id)!;
    const kind = { eventsource: 'EventSource', pipeline: 'Pipeline', query: 'Query', sink: 'Sink' }[n.kind];
    const nameLine = clip(n.name, 24);
    const reasonLine = clip(`${healthText[n.health]}${n.health === 'ready' ? '' : ` · ${n.reason}`}`, 28);
    // The link's accessible name is its SVG title, which starts with the visible text, as speech
    // input expects (an aria-label beside a title would not).
    const label = `${nameLine} ${reasonLine}, ${kind} in ${n.namespace}. ${n.message}`;
    parts.push(
      `<a class="node ${n.health}" href="${escapeHtml(n.href)}" data-node="${escapeHtml(n.id)}"><title>${escapeHtml(label)}</title><rect x="${p.x}" y="${p.y}" width="${NODE_W}" height="${NODE_H}" rx="6" /><text class="name" x="${p.x + 10}" y="${p.y + 20}">${escapeHtml(nameLine)}</text><text class="reason" x="${p.x + 10}" y="${p.y + 38}">${escapeHtml(reasonLine)}</text></a>`,
    );
  }
  parts.push('</svg>');
  return parts.join('');
}
