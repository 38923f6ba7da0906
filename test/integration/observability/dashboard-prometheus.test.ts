// The web dashboard with a Prometheus URL: an ingest and a processor run as their pods do, a real
// Prometheus scrapes them with the labels the chart's PodMonitor gives pods (namespace, pipeline,
// eventsource), and the quickstart's resources sit on a real kube-apiserver. The dashboard's JSON
// reports, per Pipeline, the counts the workloads processed and the same counts, rates and
// latency quantiles Prometheus answers for the instant the dashboard read them at, with a history
// that reaches back before the dashboard started.
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreV1Api } from '@kubernetes/client-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installCrds } from '../../../operator/install-crds.js';
import { createLogger } from '../../../runtime/common/logger.js';
import type { PipelineNumbers } from '../../../runtime/dashboard/numbers.js';
import { startDashboard, type RunningDashboard } from '../../../runtime/dashboard/run.js';
import { kubeEnv, natsEnv, prometheusEnv } from '../../stack/context.js';
import { toolPath } from '../../stack/paths.js';
import { registerTarget } from '../../stack/prometheus.js';
import { adminConfig } from '../../support/kube.js';
import { processConfig, shopEvents } from '../processor/fixtures.js';
import { useStackTargets } from '../processor/stack-targets.js';
import { names, natsSetup, waitFor, writeConfig, type Names } from '../processor/support.js';
import { startWorkload, type Workload } from './workloads.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const namespace = `dash-prom-${randomUUID().slice(0, 6)}`;
const s = useStackTargets('dashprom');
const running: Workload[] = [];
const posted = 120;
let n: Names;
let dashboard: RunningDashboard;
let started = 0;

/** Prometheus' answer for one expression at one instant: value per `by` label ('' when none). */
async function promAt(expr: string, atMs: number, by = ''): Promise<Record<string, number>> {
  const url = `${prometheusEnv().url}/api/v1/query?${new URLSearchParams({ query: expr, time: String(atMs / 1000) })}`;
  const body = (await (await fetch(url, { signal: AbortSignal.timeout(10_000) })).json()) as {
    status: string;
    error?: string;
    data: { result: { metric: Record<string, string>; value: [number, string] }[] };
  };
  if (body.status !== 'success') throw new Error(`${expr}: ${body.error}`);
  return Object.fromEntries(body.data.result.map((r) => [r.metric[by] ?? '', Number(r.value[1])]));
}

const sameCounts = (a: Record<string, number>, b: Record<string, number>) =>
  Object.keys(a).length === Object.keys(b).length && Object.entries(a).every(([k, v]) => b[k] === v);

/** Prometheus' range answer for one expression, as [seconds, value] points of its one series. */
async function promRange(expr: string, t: number[]): Promise<Map<number, number>> {
  const params = {
    query: expr,
    start: String(t[0]),
    end: String(t.at(-1)),
    step: String(t[1]! - t[0]!),
  };
  const url = `${prometheusEnv().url}/api/v1/query_range?${new URLSearchParams(params)}`;
  const body = (await (await fetch(url, { signal: AbortSignal.timeout(10_000) })).json()) as {
    data: { result: { values: [number, string][] }[] };
  };
  return new Map((body.data.result[0]?.values ?? []).map(([x, v]) => [x, Number(v)]));
}

async function numbers(): Promise<PipelineNumbers> {
  const res = await fetch(`${dashboard.url}api/pipelines/${namespace}/orders`);
  expect(res.status).toBe(200);
  return (await res.json()) as PipelineNumbers;
}

beforeAll(async () => {
  const kc = adminConfig(kubeEnv().kubeconfig);
  await installCrds(kc);
  await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: namespace } } });
  execFileSync(
    toolPath('kubectl'),
    ['--kubeconfig', kubeEnv().kubeconfig, '-n', namespace, 'apply', '-f', join(root, 'examples/quickstart')],
    { encoding: 'utf8' },
  );

  n = names('dashprom');
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
  const scrape = (w: Workload, name: string, labels: Record<string, string>) =>
    registerTarget(prometheusEnv().targetsDir, name, `127.0.0.1:${w.port('Serving operations endpoint')!}`, {
      namespace,
      ...labels,
    });
  scrape(ingest, `ingest-${n.stream}`, { eventsource: 'shop' });
  scrape(processor, `processor-${n.stream}`, { pipeline: 'orders' });

  // Two batches, each seen by Prometheus before the next: the counters rise between two scrapes,
  // so rate() has something to measure.
  const inTotal = `sum(eventrunner_processor_events_in_total{namespace="${namespace}",pipeline="orders"})`;
  for (const count of [posted / 2, posted]) {
    const res = await fetch(`http://127.0.0.1:${ingest.port('Serving HTTP ingest')}/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/cloudevents-batch+json' },
      body: JSON.stringify(shopEvents(posted / 2).map((e) => e.event)),
    });
    expect(res.status, await res.text()).toBe(200);
    await waitFor(
      async () => (await promAt(inTotal, Date.now()))[''] === count,
      60_000,
      `Prometheus to hold the ${count} events the processor took`,
    );
  }

  started = Date.now();
  dashboard = await startDashboard({
    kc,
    namespace,
    prometheusUrl: prometheusEnv().url,
    port: 0,
    host: '127.0.0.1',
    intervalMs: 500,
    historyMs: 15 * 60_000,
    log: createLogger({ name: 'dashboard', level: 'warn' }),
    signal: new AbortController().signal,
  });
});

afterAll(async () => {
  await dashboard?.stop();
  await Promise.all(running.map((w) => w.stop()));
  const jsm = await jetstreamManager(s.nc);
  for (const stream of [n?.stream, n?.dlqStream])
    if (stream) await jsm.streams.delete(stream).catch(() => undefined);
  await adminConfig(kubeEnv().kubeconfig)
    .makeApiClient(CoreV1Api)
    .deleteNamespace({ name: namespace })
    .catch(() => undefined);
});

describe('the dashboard reading Prometheus', () => {
  it('reports the counts, rates and latency Prometheus holds for the instant it read them at', async () => {
    const sel = `{namespace="${namespace}",pipeline="orders"}`;
    let last: unknown;
    // Prometheus may still append a scrape stamped before the dashboard's instant: poll until a
    // round's figures and Prometheus' answer for that round's instant agree.
    await waitFor(
      async () => {
        const got = await numbers();
        const at = got.at;
        const [inTotal, routed, dropped, deadLettered, inRate, outRates, p50, p99] = await Promise.all([
          promAt(`sum(eventrunner_processor_events_in_total${sel})`, at),
          promAt(`sum by (output) (eventrunner_processor_events_routed_total${sel})`, at, 'output'),
          promAt(`sum(eventrunner_processor_events_dropped_total${sel})`, at),
          promAt(`sum(eventrunner_processor_events_deadlettered_total${sel})`, at),
          promAt(`sum(rate(eventrunner_processor_events_in_total${sel}[1m]))`, at),
          promAt(`sum by (output) (rate(eventrunner_processor_events_routed_total${sel}[1m]))`, at, 'output'),
          promAt(
            `histogram_quantile(0.5, sum by (le) (increase(eventrunner_processor_processing_duration_seconds_bucket${sel}[1m])))`,
            at,
          ),
          promAt(
            `histogram_quantile(0.99, sum by (le) (increase(eventrunner_processor_processing_duration_seconds_bucket${sel}[1m])))`,
            at,
          ),
        ]);
        const close = (a: number | undefined, b: number | undefined) =>
          a !== undefined && b !== undefined && Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));
        last = { got, inTotal, routed, dropped, deadLettered, inRate, outRates, p50, p99 };
        return (
          got.pods === 1 &&
          got.totals.in === posted &&
          got.totals.in === inTotal[''] &&
          sameCounts(got.totals.routed, routed) &&
          got.totals.dropped === (dropped[''] ?? 0) &&
          got.totals.deadLettered === (deadLettered[''] ?? 0) &&
          (inRate[''] ?? 0) > 0 &&
          close(got.rates.in, inRate['']) &&
          Object.entries(outRates).every(([o, r]) => close(got.rates[`out:${o}`], r)) &&
          close(got.latency.processing?.p50, p50['']) &&
          close(got.latency.processing?.p99, p99[''])
        );
      },
      30_000,
      'the dashboard to agree with Prometheus',
    ).catch((err: Error) => {
      throw new Error(`${err.message}; last seen: ${JSON.stringify(last)}`);
    });
    // Every event went somewhere: routed to both tables or one, dropped or dead-lettered.
    const got = await numbers();
    expect(Object.keys(got.totals.routed).sort()).toEqual(['analytics', 'store']);
    expect(got.totals.routed.store).toBeGreaterThan(0);
  });

  it('draws the last 15 minutes as Prometheus answers them, from before the dashboard started', async () => {
    const sel = `{namespace="${namespace}",pipeline="orders"}`;
    let last: unknown;
    await waitFor(
      async () => {
        const res = await fetch(`${dashboard.url}api/view?view=pipeline&namespace=${namespace}&name=orders`);
        expect(res.status).toBe(200);
        const view = (await res.json()) as {
          charts: { rates: { t: number[]; series: { label: string; values: (number | null)[] }[] } };
        };
        const { t, series } = view.charts.rates;
        const values = series.find((x) => x.label === 'In')!.values;
        const prom = await promRange(`sum(rate(eventrunner_processor_events_in_total${sel}[1m]))`, t);
        last = {
          t0: t[0],
          tEnd: t.at(-1),
          points: t.length,
          nonNull: values.filter((v) => v !== null).length,
        };
        return (
          // An in-memory history could not reach back before the dashboard started.
          t[0]! * 1000 <= started - 14 * 60_000 &&
          values.some((v) => (v ?? 0) > 0) &&
          t.every((x, i) => (values[i] ?? undefined) === prom.get(x))
        );
      },
      30_000,
      "the chart to equal Prometheus' range answer",
    ).catch((err: Error) => {
      throw new Error(`${err.message}; last seen: ${JSON.stringify(last)}`);
    });
  });
});
