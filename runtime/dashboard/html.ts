// The pages' HTML, rendered on the server from a view's payload: every field, fragment and chart
// has an element with the id the page script updates from the live stream. The first payload is
// embedded, so the charts draw before the stream's first update arrives.
import { escapeHtml } from './html-escape.js';
import type { ChartData, ViewPayload } from './view-parts.js';

export type ViewName = 'overview' | 'pipeline' | 'eventsource' | 'sink';

const field = (p: ViewPayload, id: string) =>
  `<span id="${id}" data-field>${escapeHtml(p.fields[id] ?? '')}</span>`;
const fragment = (p: ViewPayload, id: string, tag = 'div') =>
  `<${tag} id="${id}" data-fragment>${p.fragments[id] ?? ''}</${tag}>`;

function chart(id: string, c: ChartData | undefined): string {
  const title = c?.title ?? 'No data yet';
  const summary = c?.summary ?? 'No samples yet.';
  return `<figure class="chart" data-chart="${id}" aria-labelledby="chart-${id}-title"><figcaption id="chart-${id}-title">${escapeHtml(title)}</figcaption><div class="plot" role="img" aria-labelledby="chart-${id}-title chart-${id}-summary"></div><p class="summary" id="chart-${id}-summary">${escapeHtml(summary)}</p></figure>`;
}

function stat(label: string, body: string): string {
  return `<div class="stat"><dt>${escapeHtml(label)}</dt><dd>${body}</dd></div>`;
}

function body(view: ViewName, p: ViewPayload): string {
  switch (view) {
    case 'overview':
      return `<h1>Pipelines at a glance</h1>
<section aria-labelledby="graph-title"><h2 id="graph-title">Graph</h2><p class="hint">EventSources → Pipelines → queries → Sinks; events per second on each edge. Select a box for its page.</p>${fragment(p, 'graph')}</section>
<section>${fragment(p, 'pipelines')}</section>
<section>${fragment(p, 'eventsources')}</section>
<section>${fragment(p, 'sinks')}</section>`;
    case 'pipeline':
      return `<h1>${escapeHtml(p.title)} ${fragment(p, 'pl-badge', 'span')}</h1>
<p>${field(p, 'pl-health')}</p>
<dl class="stats">${stat('In', field(p, 'pl-in'))}${stat('Routed', field(p, 'pl-out'))}${stat('Dropped', field(p, 'pl-dropped'))}${stat('Dead-lettered', field(p, 'pl-deadlettered'))}${stat('Lag', field(p, 'pl-lag'))}${stat('Dead letters in stream', field(p, 'pl-dlq-depth'))}${stat('Events in (total)', field(p, 'pl-total-in'))}${stat('Dropped (total)', field(p, 'pl-total-dropped'))}${stat('Dead-lettered (total)', field(p, 'pl-total-deadlettered'))}${stat('Replicas', field(p, 'pl-replicas'))}${stat('Processing latency (last minute)', field(p, 'pl-processing'))}${stat('End to end, ingest to ack (last minute)', field(p, 'pl-end-to-end'))}</dl>
<div class="charts">${chart('rates', p.charts.rates)}${chart('lag', p.charts.lag)}</div>
<section>${fragment(p, 'outputs')}</section>
<section>${fragment(p, 'lag')}</section>
<section>${fragment(p, 'causes')}</section>
<section aria-labelledby="dl-title"><h2 id="dl-title">Dead letters</h2>${fragment(p, 'deadletters')}</section>
<section>${fragment(p, 'bytype')}</section>
<section aria-labelledby="recent-title"><h2 id="recent-title">Recent events</h2>${fragment(p, 'recent')}</section>
<section>${fragment(p, 'queries')}</section>
<section>${fragment(p, 'kubeevents')}</section>
<section>${fragment(p, 'conditions')}</section>`;
    case 'eventsource':
      return `<h1>${escapeHtml(p.title)} ${fragment(p, 'es-badge', 'span')}</h1>
<p>${field(p, 'es-health')}</p>
<dl class="stats">${stat('Accepted', field(p, 'es-accepted'))}${stat('Rejected', field(p, 'es-rejected'))}${stat('Accepted (total)', field(p, 'es-total-accepted'))}${stat('Rejected (total)', field(p, 'es-total-rejected'))}${stat('Stream', field(p, 'es-stream'))}${stat('Publish latency', field(p, 'es-publish'))}${stat('Replicas', field(p, 'es-replicas'))}${stat('HTTP endpoint', field(p, 'es-endpoint'))}</dl>
<div class="charts">${chart('rates', p.charts.rates)}</div>
<section>${fragment(p, 'classes')}</section>
<section>${fragment(p, 'reasons')}</section>
<section>${fragment(p, 'clients')}</section>
<section>${fragment(p, 'bytype')}</section>
<section>${fragment(p, 'readers')}</section>
<section aria-labelledby="recent-title"><h2 id="recent-title">Recent events</h2>${fragment(p, 'recent')}</section>
<section>${fragment(p, 'kubeevents')}</section>
<section>${fragment(p, 'conditions')}</section>`;
    case 'sink':
      return `<h1>${escapeHtml(p.title)} ${fragment(p, 'sink-badge', 'span')}</h1>
<p>${field(p, 'sink-health')}</p>
<dl class="stats">${stat('Kind', field(p, 'sink-kind'))}${stat('Target', field(p, 'sink-target'))}${stat('Writes', field(p, 'sink-written'))}${stat('Written (total)', field(p, 'sink-total'))}</dl>
<div class="charts">${chart('rates', p.charts.rates)}</div>
<section>${fragment(p, 'writers')}</section>
<section>${fragment(p, 'errors')}</section>
<section>${fragment(p, 'kubeevents')}</section>
<section>${fragment(p, 'conditions')}</section>`;
  }
}

/** JSON inside a script element: `<` escaped so no value can close the element. */
const inlineJson = (v: unknown) => JSON.stringify(v).replace(/</g, '\\u003c');

export function renderPage(view: ViewName, p: ViewPayload, streamUrl: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(p.title)} · eventrunner dashboard</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/static/uPlot.min.css">
<link rel="stylesheet" href="/static/app.css">
</head>
<body data-stream="${escapeHtml(streamUrl)}">
<a class="skip" href="#main">Skip to content</a>
<header><nav aria-label="Main"><a href="/">eventrunner · Overview</a></nav><span id="live" role="status" aria-live="polite">Connecting…</span></header>
<main id="main">
${body(view, p)}
</main>
<script type="application/json" id="initial">${inlineJson(p)}</script>
<script src="/static/uPlot.iife.min.js"></script>
<script src="/static/app.js"></script>
</body>
</html>
`;
}

export function renderNotFound(what: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Not found · eventrunner dashboard</title><link rel="stylesheet" href="/static/app.css"></head><body><main id="main"><h1>Not found</h1><p>${escapeHtml(what)}</p><p><a href="/">Back to the overview</a></p></main></body></html>`;
}
