// The operations endpoint every eventrunner process serves: /healthz (the process is alive),
// /readyz (it can do its work now — e.g. NATS connected), and Prometheus /metrics.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry, collectDefaultMetrics } from 'prom-client';

export interface ReadinessCheck {
  name: string;
  /** Returns undefined when ready, or a short reason why not. */
  check: () => string | undefined | Promise<string | undefined>;
}

export interface OpsServerOptions {
  port: number;
  host?: string;
  registry: Registry;
  readiness?: ReadinessCheck[];
}

export interface OpsServer {
  port: number;
  close(): Promise<void>;
}

/** A registry with Node's default process metrics, prefixed for eventrunner. */
export function createRegistry(component: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ component });
  collectDefaultMetrics({ register: registry, prefix: 'eventrunner_' });
  return registry;
}

async function readiness(checks: ReadinessCheck[]): Promise<string[]> {
  const failures: string[] = [];
  for (const c of checks) {
    try {
      const why = await c.check();
      if (why) failures.push(`${c.name}: ${why}`);
    } catch (err) {
      failures.push(`${c.name}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return failures;
}

export async function startOpsServer(opts: OpsServerOptions): Promise<OpsServer> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const reply = (status: number, body: string, type = 'text/plain; charset=utf-8') => {
      res.writeHead(status, { 'content-type': type });
      res.end(body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(405, 'method not allowed\n');
    if (path === '/healthz' || path === '/livez') return reply(200, 'ok\n');
    if (path === '/readyz') {
      void readiness(opts.readiness ?? []).then((failures) =>
        failures.length ? reply(503, failures.join('\n') + '\n') : reply(200, 'ok\n'),
      );
      return;
    }
    if (path === '/metrics') {
      void opts.registry.metrics().then(
        (body) => reply(200, body, opts.registry.contentType),
        (err: Error) => reply(500, err.message),
      );
      return;
    }
    reply(404, 'not found\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '0.0.0.0', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
