// Every query of the chart's Grafana dashboard returns data, and every metric the chart's alerts
// read exists, against a real Prometheus scraping real workloads: an ingest, the processor of a
// Pipeline with rules (dropped, dead-lettered and sink-rejected events) and the processor and
// query worker of a Pipeline with windowed queries (late events included). Prometheus discovers
// them with the labels the chart's PodMonitor gives pods (namespace, pipeline, eventsource).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jetstreamManager } from '@nats-io/jetstream';
import { parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { natsEnv, prometheusEnv } from '../../stack/context.js';
import { registerTarget } from '../../stack/prometheus.js';
import { helm } from '../../unit/chart/helm.js';
import { processConfig, shopEvents } from '../processor/fixtures.js';
import { useStackTargets } from '../processor/stack-targets.js';
import { names, natsSetup, waitFor, writeConfig, type Names } from '../processor/support.js';
import { events, setup, terminalEvents, threeQueries, type Setup } from '../queries/harness.js';
import { startWorkload, type Workload } from './workloads.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const chartDir = join(here, '../../../charts/eventrunner');
const s = useStackTargets('metrics');
const running: Workload[] = [];
let n: Names;
let q: Setup;

interface Dashboard {
  panels: { type: string; title: string; targets?: { expr: string }[] }[];
  templating: { list: { name: string; query?: string | { query: string } }[] };
}
interface Rule {
  alert: string;
  expr: string;
}

/** The dashboard's variables as a user who picked "All" sees them; $__rate_interval for a 1s scrape. */
function concrete(expr: string): string {
  return expr
    .replaceAll('$__rate_interval', '1m')
    .replaceAll('$namespace', '.*')
    .replaceAll('$pipeline', '.*')
    .replaceAll('$eventsource', '.*');
}

async function query(expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const url = `${prometheusEnv().url}/api/v1/query?query=${encodeURIComponent(expr)}`;
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  const body = (await res.json()) as {
    status: string;
    error?: string;
    data?: { result: { metric: Record<string, string>; value: [number, string] }[] };
  };
  if (body.status !== 'success') throw new Error(`${expr}: ${body.error}`);
  return body.data!.result;
}

/** The chart's PrometheusRule, rendered with the alerts on. */
function alertRules(): Rule[] {
  const r = helm([
    'template',
    'er',
    chartDir,
    '--kube-version',
    '1.36.0',
    '--set',
    'metrics.prometheusRule.enabled=true',
  ]);
  if (r.status !== 0) throw new Error(r.stderr);
  const rule = parseAllDocuments(r.stdout)
    .map((d) => d.toJS() as { kind?: string; spec?: { groups: { rules: Rule[] }[] } } | null)
    .find((o) => o?.kind === 'PrometheusRule')!;
  return rule.spec!.groups.flatMap((g) => g.rules);
}

const dashboard = JSON.parse(readFileSync(join(chartDir, 'files/dashboard.json'), 'utf8')) as Dashboard;

function scrape(w: Workload, name: string, labels: Record<string, string>): void {
  const port = w.port('Serving operations endpoint')!;
  registerTarget(prometheusEnv().targetsDir, name, `127.0.0.1:${port}`, { namespace: 'shop', ...labels });
}

beforeAll(async () => {
  // Pipeline "orders": ingest in front, rules that drop and dead-letter, Cassandra and ClickHouse.
  n = names('metrics');
  await natsSetup(natsEnv().url, n, { maxDeliver: 3 });
  const ingest = await startWorkload(
    'ingest',
    writeConfig({
      nats: { url: natsEnv().url },
      stream: { name: n.stream, subjectPrefix: n.prefix },
      http: { port: 0, host: '127.0.0.1' },
      grpc: { enabled: false },
      ops: { port: 0, host: '127.0.0.1' },
      auth: { enabled: false },
    }),
    {},
  );
  running.push(ingest);
  const processor = await startWorkload('process', writeConfig(processConfig(s.targets, n)), {});
  running.push(processor);
  // The analytics table goes away under the running processor: its writes fail, are retried
  // (redeliveries), and end in the dead-letter stream after maxDeliver attempts.
  await s.ch.command({ query: `DROP TABLE ${s.database}.orders` });
  scrape(ingest, `ingest-${n.stream}`, { eventsource: 'shop' });
  scrape(processor, `processor-${n.stream}`, { pipeline: 'orders' });

  // Pipeline "windows": windowed queries in a query worker, fed straight into its stream.
  const tag = `m${Math.random().toString(36).slice(2, 7)}`;
  q = await setup(s, tag, threeQueries());
  const qProcessor = await startWorkload('process', q.processorFile, {});
  const worker = await startWorkload('query-worker', q.workerFile('w1'), {});
  running.push(qProcessor, worker);
  scrape(qProcessor, `processor-${q.n.stream}`, { pipeline: 'windows' });
  scrape(worker, `worker-${q.n.stream}`, { pipeline: 'windows' });

  const url = `http://127.0.0.1:${ingest.port('Serving HTTP ingest')}/events`;
  const batch = shopEvents(300, { poison: true }).map((e) => e.event);
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/cloudevents-batch+json' },
    body: JSON.stringify(batch),
  });
  expect(res.status, await res.text()).toBe(200);
  // One request the ingest turns away: an event without an id.
  const bad = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/cloudevents+json' },
    body: JSON.stringify({ specversion: '1.0', source: '/shop/web', type: 'com.shop.order.created' }),
  });
  expect(bad.status).toBe(400);
  const base = Date.now() - 3_600_000;
  await q.publish(events(tag, 2000, base));
  // Far behind every partition's watermark: late.
  await q.publish(events(`${tag}late`, 3, base - 600_000));
  await q.publish(terminalEvents(tag, base + 86_400_000));
});

afterAll(async () => {
  await Promise.all(running.map((w) => w.stop()));
  const jsm = await jetstreamManager(s.nc);
  for (const stream of [n?.stream, n?.dlqStream, q?.n.stream, q?.n.dlqStream, q?.shuffle.stream])
    if (stream) await jsm.streams.delete(stream).catch(() => undefined);
});

describe('metrics in Prometheus', () => {
  it('returns data for every query of the Grafana dashboard', async () => {
    const exprs = dashboard.panels.flatMap((p) =>
      (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })),
    );
    expect(exprs.length).toBeGreaterThan(20);
    const missing = new Set(exprs.map((e) => e.expr));
    // Rates need two scrapes, late events and watermarks the query worker's progress: poll.
    await waitFor(
      async () => {
        for (const e of [...missing]) if ((await query(concrete(e))).length > 0) missing.delete(e);
        return missing.size === 0;
      },
      90_000,
      'dashboard queries to return data',
    ).catch((err: Error) => {
      throw new Error(`${err.message}; still empty:\n${[...missing].join('\n')}`);
    });
    // The variables list what the workloads are labelled with.
    for (const v of dashboard.templating.list.filter((x) => typeof x.query === 'object')) {
      const m = /^label_values\((.*), (\w+)\)$/.exec((v.query as { query: string }).query)!;
      const values = (await query(concrete(m[1]!))).map((r) => r.metric[m[2]!]);
      expect(values.length, v.name).toBeGreaterThan(0);
      expect(values.every(Boolean), v.name).toBe(true);
    }
  }, 150_000);

  it('counts the failed writes, retries and dead letters of the broken output', async () => {
    const value = async (expr: string) => Number((await query(expr))[0]?.value[1] ?? 0);
    await waitFor(
      async () =>
        (await value(
          'sum(eventrunner_sink_errors_total{pipeline="orders",output="analytics",kind!="rejected"})',
        )) > 0 &&
        (await value('sum(eventrunner_processor_redeliveries_total{pipeline="orders"})')) > 0 &&
        (await value(
          'sum(eventrunner_processor_events_deadlettered_total{pipeline="orders",cause="max_deliver"})',
        )) > 0 &&
        (await value('sum(eventrunner_ingest_events_rejected_total{eventsource="shop",reason="invalid"})')) >
          0,
      60_000,
      'sink errors, redeliveries, max_deliver dead letters and rejections in Prometheus',
    );
  }, 90_000);

  it('has every metric and grouping label each alert reads', async () => {
    const rules = alertRules();
    expect(rules).toHaveLength(6);
    for (const rule of rules) {
      const metrics = [...new Set(rule.expr.match(/\beventrunner_[a-z_]+/g) ?? [])];
      // kube-state-metrics' series (EventrunnerNoReadyReplicas) are promtool-tested only.
      if (rule.alert === 'EventrunnerNoReadyReplicas') {
        expect(metrics).toEqual([]);
        continue;
      }
      expect(metrics.length, rule.alert).toBeGreaterThan(0);
      const groupings = [...rule.expr.matchAll(/by \(([^)]*)\)/g)].flatMap((m) => m[1]!.split(/,\s*/));
      for (const metric of metrics) {
        let series: { metric: Record<string, string> }[] = [];
        await waitFor(
          async () => (series = await query(metric)).length > 0,
          60_000,
          `${rule.alert}: ${metric}`,
        );
        for (const label of groupings)
          expect(
            series.some((x) => x.metric[label]),
            `${rule.alert}: ${metric} has no ${label} label`,
          ).toBe(true);
      }
    }
  }, 120_000);
});
