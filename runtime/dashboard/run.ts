// Starts the dashboard: the collector (watches, and scrapes or queries Prometheus), a read-only JetStream manager when a
// NATS URL is given, and the HTTP server. `eventrunner dashboard`, the chart's Deployment and the
// demo all start it through here.
import type { KubeConfig } from '@kubernetes/client-node';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { connectNats, type NatsSettings } from '../common/nats.js';
import type { Logger } from '../common/logger.js';
import { Collector } from './collector.js';
import { PrometheusSource } from './prometheus-source.js';
import { DetailReads } from './reads.js';
import { DashboardServer } from './server.js';
import { apiServerTargets, type TargetLister } from './targets.js';

export interface DashboardOptions {
  kc: KubeConfig;
  /** One namespace, or every namespace when undefined. */
  namespace?: string;
  nats?: NatsSettings;
  /** Where the pods' metrics come from; by default every operator pod through the API server. */
  targets?: TargetLister;
  /** Read every metric (rates, latency, history) from this Prometheus instead of scraping. */
  prometheusUrl?: string;
  port: number;
  host: string;
  intervalMs: number;
  historyMs: number;
  log: Logger;
  signal: AbortSignal;
}

export interface RunningDashboard {
  url: string;
  collector: Collector;
  stop(): Promise<void>;
}

export async function startDashboard(o: DashboardOptions): Promise<RunningDashboard> {
  let nc: NatsConnection | undefined;
  let jsm: JetStreamManager | undefined;
  if (o.nats) {
    nc = await connectNats(o.nats, { name: 'eventrunner-dashboard', log: o.log, signal: o.signal });
    if (nc) jsm = await jetstreamManager(nc, { checkAPI: false });
  }
  const collector = new Collector({
    kc: o.kc,
    ...(o.namespace ? { namespace: o.namespace } : {}),
    targets: o.targets ?? apiServerTargets(o.kc, o.namespace),
    ...(o.prometheusUrl
      ? {
          prometheus: new PrometheusSource({
            url: o.prometheusUrl,
            ...(o.namespace ? { namespace: o.namespace } : {}),
            historyMs: o.historyMs,
            // 180 points over 15 minutes; the history is re-read once per step.
            stepMs: Math.max(o.intervalMs, Math.ceil(o.historyMs / 180 / 1000) * 1000),
            timeoutMs: Math.max(o.intervalMs * 2, 5000),
          }),
        }
      : {}),
    intervalMs: o.intervalMs,
    historyMs: o.historyMs,
    log: o.log,
  });
  await collector.start();
  const server = new DashboardServer({
    collector,
    reads: new DetailReads(o.kc, jsm, Math.max(250, o.intervalMs - 100)),
    log: o.log,
  });
  let url: string;
  try {
    url = await server.listen(o.port, o.host);
  } catch (err) {
    await collector.stop();
    await nc?.close();
    throw err;
  }
  return {
    url,
    collector,
    async stop() {
      await server.close();
      await collector.stop();
      await nc?.close();
    },
  };
}
