// The dashboard's HTTP server (node:http): server-rendered pages, their live updates as
// server-sent events, a JSON view of each page, and its own static assets (no CDN: it works
// offline). It answers GET and HEAD only; nothing it serves writes anywhere.
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EventSource, Pipeline, Sink } from '../../api/generated/types.js';
import type { Logger } from '../common/logger.js';
import type { Collector } from './collector.js';
import { renderNotFound, renderPage, type ViewName } from './html.js';
import type { DetailReads } from './reads.js';
import { overviewView } from './view-overview.js';
import { pipelineView } from './view-pipeline.js';
import { eventSourceView, sinkView } from './view-resources.js';
import type { ViewPayload } from './view-parts.js';
import { pipelineNumbers } from './numbers.js';

/** The payload with only the fields and fragments that differ from `before` (charts always). */
export function changedSince(before: ViewPayload | undefined, now: ViewPayload): ViewPayload {
  if (!before) return now;
  const diff = (a: Record<string, string>, b: Record<string, string>) =>
    Object.fromEntries(Object.entries(b).filter(([k, v]) => a[k] !== v));
  return {
    title: now.title,
    fields: diff(before.fields, now.fields),
    fragments: diff(before.fragments, now.fragments),
    charts: now.charts,
  };
}

interface Asset {
  type: string;
  body: Buffer;
}

/** The page script and styles (shipped next to the code) and uPlot from its package. */
function loadAssets(): Map<string, Asset> {
  const here = dirname(fileURLToPath(import.meta.url));
  // From the sources (runtime/dashboard) or the build (dist/runtime/dashboard).
  const dir = [join(here, 'static'), join(here, '../../../runtime/dashboard/static')].find((d) =>
    existsSync(join(d, 'app.js')),
  );
  if (!dir) throw new Error('runtime/dashboard/static not found next to the eventrunner package');
  const require = createRequire(import.meta.url);
  const uplot = dirname(require.resolve('uplot'));
  const js = 'text/javascript; charset=utf-8';
  const css = 'text/css; charset=utf-8';
  return new Map<string, Asset>([
    ['/static/app.js', { type: js, body: readFileSync(join(dir, 'app.js')) }],
    ['/static/app.css', { type: css, body: readFileSync(join(dir, 'app.css')) }],
    ['/static/uPlot.iife.min.js', { type: js, body: readFileSync(join(uplot, 'uPlot.iife.min.js')) }],
    ['/static/uPlot.min.css', { type: css, body: readFileSync(join(uplot, 'uPlot.min.css')) }],
  ]);
}

const securityHeaders = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

export interface DashboardServerOptions {
  collector: Collector;
  reads: DetailReads;
  log: Logger;
  now?: () => number;
}

interface Route {
  view: ViewName;
  namespace: string;
  name: string;
}

const plural: Record<string, ViewName> = {
  pipelines: 'pipeline',
  eventsources: 'eventsource',
  sinks: 'sink',
};

function routeOf(path: string): Route | undefined {
  if (path === '/' || path === '') return { view: 'overview', namespace: '', name: '' };
  const m = /^\/(pipelines|eventsources|sinks)\/([^/]+)\/([^/]+)$/.exec(path);
  if (!m) return undefined;
  return { view: plural[m[1]!]!, namespace: decodeURIComponent(m[2]!), name: decodeURIComponent(m[3]!) };
}

function routeFromQuery(q: URLSearchParams): Route | undefined {
  const view = q.get('view') as ViewName | null;
  if (view === 'overview') return { view, namespace: '', name: '' };
  if (view !== 'pipeline' && view !== 'eventsource' && view !== 'sink') return undefined;
  return { view, namespace: q.get('namespace') ?? '', name: q.get('name') ?? '' };
}

const query = (r: Route) =>
  r.view === 'overview'
    ? 'view=overview'
    : `view=${r.view}&namespace=${encodeURIComponent(r.namespace)}&name=${encodeURIComponent(r.name)}`;

export class DashboardServer {
  private readonly server: Server;
  private readonly assets = loadAssets();
  private readonly streams = new Set<ServerResponse>();
  private readonly now: () => number;

  constructor(private readonly opts: DashboardServerOptions) {
    this.now = opts.now ?? Date.now;
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        opts.log.error({ err, url: req.url }, 'Request failed');
        if (!res.headersSent)
          this.send(res, 500, 'text/plain; charset=utf-8', 'Internal error; see the dashboard log.');
        else res.end();
      });
    });
  }

  async listen(port: number, host: string): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve());
    });
    const a = this.server.address() as AddressInfo;
    const h = a.family === 'IPv6' ? `[${a.address}]` : a.address;
    return `http://${h === '0.0.0.0' || h === '[::]' ? '127.0.0.1' : h}:${a.port}/`;
  }

  async close(): Promise<void> {
    for (const s of this.streams) s.end();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private memo = { tick: -1, views: new Map<string, Promise<ViewPayload | undefined>>() };

  /** The payload of a page, or undefined when the resource does not exist; built once per tick. */
  view(r: Route): Promise<ViewPayload | undefined> {
    const tick = this.opts.collector.lastTick;
    if (this.memo.tick !== tick) this.memo = { tick, views: new Map() };
    const k = query(r);
    let p = this.memo.views.get(k);
    if (!p) {
      p = this.build(r);
      this.memo.views.set(k, p);
      p.catch(() => this.memo.views.delete(k));
    }
    return p;
  }

  private async build(r: Route): Promise<ViewPayload | undefined> {
    const c = this.opts.collector;
    const now = this.now();
    switch (r.view) {
      case 'overview':
        return overviewView(c);
      case 'pipeline': {
        const pl = c.get('pipelines', r.namespace, r.name) as Pipeline | undefined;
        return pl && pipelineView(c, pl, await this.opts.reads.pipeline(pl, now), now);
      }
      case 'eventsource': {
        const es = c.get('eventsources', r.namespace, r.name) as EventSource | undefined;
        return es && eventSourceView(c, es, await this.opts.reads.eventSource(es, now), now);
      }
      case 'sink': {
        const sink = c.get('sinks', r.namespace, r.name) as Sink | undefined;
        return (
          sink &&
          sinkView(
            c,
            sink,
            await this.opts.reads.kubeEvents('Sink', r.namespace, r.name, now).catch(() => []),
            now,
          )
        );
      }
    }
  }

  private send(res: ServerResponse, status: number, type: string, body: string | Buffer): void {
    res.writeHead(status, { ...securityHeaders, 'content-type': type });
    res.end(body);
  }

  private json(res: ServerResponse, status: number, value: unknown): void {
    this.send(res, status, 'application/json; charset=utf-8', JSON.stringify(value));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, {
        ...securityHeaders,
        allow: 'GET, HEAD',
        'content-type': 'text/plain; charset=utf-8',
      });
      res.end('The dashboard is read-only: GET and HEAD only.');
      return;
    }
    const url = new URL(req.url ?? '/', 'http://dashboard');
    const asset = this.assets.get(url.pathname);
    if (asset) return this.send(res, 200, asset.type, asset.body);
    if (url.pathname === '/healthz') return this.send(res, 200, 'text/plain; charset=utf-8', 'ok');
    if (url.pathname === '/api/view' || url.pathname === '/api/stream') {
      const r = routeFromQuery(url.searchParams);
      if (!r) return this.json(res, 400, { error: 'view must be overview, pipeline, eventsource or sink' });
      if (url.pathname === '/api/view') {
        const p = await this.view(r);
        return p
          ? this.json(res, 200, p)
          : this.json(res, 404, { error: `no ${r.view} ${r.namespace}/${r.name}` });
      }
      return this.stream(req, res, r);
    }
    const numbers = /^\/api\/pipelines\/([^/]+)\/([^/]+)$/.exec(url.pathname);
    if (numbers) {
      const [ns, name] = [decodeURIComponent(numbers[1]!), decodeURIComponent(numbers[2]!)];
      const pl = this.opts.collector.get('pipelines', ns, name) as Pipeline | undefined;
      if (!pl) return this.json(res, 404, { error: `no Pipeline ${ns}/${name}` });
      const now = this.now();
      return this.json(
        res,
        200,
        pipelineNumbers(this.opts.collector, pl, await this.opts.reads.pipeline(pl, now)),
      );
    }
    const r = routeOf(url.pathname);
    const p = r && (await this.view(r));
    if (!r || !p) {
      return this.send(
        res,
        404,
        'text/html; charset=utf-8',
        renderNotFound(
          r ? `No ${r.view} ${r.namespace}/${r.name} is watched.` : `Nothing at ${url.pathname}.`,
        ),
      );
    }
    return this.send(res, 200, 'text/html; charset=utf-8', renderPage(r.view, p, `/api/stream?${query(r)}`));
  }

  /** Server-sent events: the page's payload after every collector tick. */
  private stream(req: IncomingMessage, res: ServerResponse, r: Route): void {
    res.writeHead(200, {
      ...securityHeaders,
      'content-type': 'text/event-stream; charset=utf-8',
      connection: 'keep-alive',
    });
    res.write('retry: 2000\n\n');
    this.streams.add(res);
    let busy = false;
    let last: ViewPayload | undefined;
    const push = async () => {
      if (busy) return;
      busy = true;
      try {
        const p = await this.view(r);
        if (!p) {
          res.write('event: gone\ndata: {}\n\n');
          return;
        }
        // Only what changed since this page's last update: at a thousand Pipelines the overview's
        // graph and tables are megabytes that rarely change.
        res.write(`data: ${JSON.stringify(changedSince(last, p))}\n\n`);
        last = p;
      } catch (err) {
        this.opts.log.warn({ err, view: r.view }, 'Could not build a live update');
      } finally {
        busy = false;
      }
    };
    const off = this.opts.collector.onTick(() => void push());
    void push();
    req.on('close', () => {
      off();
      this.streams.delete(res);
    });
  }
}
