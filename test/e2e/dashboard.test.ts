// The dashboard on the real stack: the operator as its own process, the local kubelet running the
// quickstart's ingest and processor pods, NATS, Cassandra and ClickHouse. Its JSON is checked
// against what the sinks and streams hold; its pages are rendered in headless Chromium (Debian's,
// driven over the DevTools protocol) and checked for the graph, charts with data, dead letters
// with reasons, recent events, live updates, console errors and accessibility. Screenshots go to
// test-results/dashboard/.
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import cassandra from 'cassandra-driver';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { Browser, Page } from 'playwright-core';
import {
  localQuickstart,
  sampleOrders,
  sendEvents,
  startJourney,
  waitAllReady,
  type Journey,
} from '../../hack/journey.js';
import { kubeletTargets } from '../../hack/kubelet/targets.js';
import { createLogger } from '../../runtime/common/logger.js';
import { startDashboard, type RunningDashboard } from '../../runtime/dashboard/run.js';
import type { PipelineNumbers } from '../../runtime/dashboard/numbers.js';
import { cassandraEnv, clickhouseEnv, kubeEnv, natsEnv } from '../stack/context.js';
import type { StackEnv } from '../stack/env.js';
import { startReceiver, type Receiver } from '../support/webhook-receiver.js';
import {
  collectPageErrors,
  launchChromium,
  screenshotDir,
  seriousAccessibilityViolations,
} from '../support/browser.js';

const token = 'change-me-checkout-token';

describe('the dashboard on the real stack', () => {
  const suffix = randomUUID().slice(0, 6);
  const ns = `dash-${suffix}`;
  const db = `dash_${suffix}`;
  const sentinel = `secret-${randomBytes(12).toString('hex')}`;
  let stack: Required<StackEnv>;
  let journey: Journey;
  let dashboard: RunningDashboard;
  let browser: Browser;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let shots: string;
  let receiver: Receiver;

  beforeAll(async () => {
    stack = { kube: kubeEnv(), nats: natsEnv(), cassandra: cassandraEnv(), clickhouse: clickhouseEnv() };
    // First: without the provisioned Chromium (npm run tools) this fails at once, naming what to run.
    browser = await launchChromium();
    receiver = await startReceiver();
    journey = await startJourney(stack, ns);
    const dir = localQuickstart(stack);
    // Tables of their own, so the counts are this test's alone; small streams on the shared NATS.
    for (const f of readdirSync(dir)) {
      const file = join(dir, f);
      writeFileSync(
        file,
        readFileSync(file, 'utf8')
          .replace(/keyspace: shop\b/g, `keyspace: ${db}`)
          .replace(/database: analytics\b/g, `database: ${db}`)
          .replace(/maxBytes: \d+Gi/g, 'maxBytes: 64Mi'),
      );
    }
    // A Secret whose value must never reach the dashboard, referenced by a Sink it shows.
    writeFileSync(
      join(dir, 'sentinel.yaml'),
      `apiVersion: v1
kind: Secret
metadata: {name: webhook-token}
stringData: {token: ${sentinel}}
---
apiVersion: eventrunner.io/v1alpha1
kind: Sink
metadata: {name: webhook}
spec:
  http:
    url: ${receiver.url}/hook
    auth: {bearerTokenSecretRef: {name: webhook-token}}
`,
    );
    journey.kubectl('apply', '-f', dir);
    await waitAllReady(journey, 150_000);
    dashboard = await startDashboard({
      kc: journey.kc,
      namespace: ns,
      nats: { url: stack.nats.url },
      targets: kubeletTargets(journey.kubelet, ns),
      port: 0,
      host: '127.0.0.1',
      intervalMs: 1000,
      historyMs: 15 * 60_000,
      log: createLogger({ name: 'dashboard', level: 'warn' }),
      signal: new AbortController().signal,
    });
    nc = await connect({ servers: stack.nats.url });
    jsm = await jetstreamManager(nc);
    shots = screenshotDir('dashboard');
  });
  afterAll(async () => {
    await browser?.close();
    await dashboard?.stop();
    await nc?.close();
    await journey?.stop();
    await receiver?.close();
    await fetch(`${stack.clickhouse.url}/?query=${encodeURIComponent(`DROP DATABASE IF EXISTS ${db}`)}`, {
      method: 'POST',
    }).catch(() => undefined);
  });

  const numbers = async (): Promise<PipelineNumbers> =>
    (await (await fetch(`${dashboard.url}api/pipelines/${ns}/orders`)).json()) as PipelineNumbers;

  async function sinkRows(): Promise<{ cassandra: number; clickhouse: number }> {
    const cql = new cassandra.Client({
      contactPoints: [stack.cassandra.contactPoint],
      localDataCenter: stack.cassandra.localDataCenter,
      credentials: { username: stack.cassandra.username, password: stack.cassandra.password },
    });
    try {
      await cql.connect();
      const rows = (await cql.execute(`SELECT COUNT(*) FROM ${db}.orders`)).first()?.get(0);
      const ch = await fetch(
        `${stack.clickhouse.url}/?query=${encodeURIComponent(`SELECT count() FROM ${db}.orders FINAL`)}`,
      );
      return { cassandra: Number(rows ?? 0), clickhouse: Number((await ch.text()).trim()) };
    } finally {
      await cql.shutdown();
    }
  }

  it('reports what the sinks and streams hold: events routed per output, dead letters with reasons, lag', async () => {
    const orders = sampleOrders(60, `dash-${suffix}`);
    const statuses = await sendEvents(journey, 'shop', token, orders);
    expect(statuses.every((s) => s >= 200 && s < 300)).toBe(true);
    await expect
      .poll(async () => (await numbers()).totals.in, { timeout: 60_000, interval: 500 })
      .toBeGreaterThanOrEqual(orders.length);
    await expect.poll(async () => (await numbers()).consumers.shop?.pending, { timeout: 30_000 }).toBe(0);
    // The sinks hold what the dashboard says was routed to them.
    await expect
      .poll(
        async () => {
          const n = await numbers();
          const rows = await sinkRows();
          return [rows.cassandra, rows.clickhouse, n.totals.routed.store, n.totals.routed.analytics];
        },
        { timeout: 30_000, interval: 1000 },
      )
      .toSatisfy(([c, ch, store, analytics]) => c === store && ch === analytics && c! > 0 && ch! > 0);
    // The dead-letter stream holds what the dashboard lists, with the same reasons.
    const n = await numbers();
    const dlq = await jsm.streams.info(`ER_DLQ_${ns}_orders`);
    expect(n.totals.deadLettered).toBe(dlq.state.messages);
    expect(n.deadLetters).toHaveLength(dlq.state.messages);
    const last = await jsm.streams.getMessage(`ER_DLQ_${ns}_orders`, { seq: dlq.state.last_seq });
    expect(n.deadLetters![0]!.reason).toBe(last!.header!.get('eventrunner-reason'));
    expect(new Set(n.deadLetters!.map((d) => d.reason))).toEqual(new Set(['negative order amount']));
    // Lag and events by type agree with the consumer and the stream.
    const consumer = await jsm.consumers.info(`ER_${ns}_shop`, `ER_PL_${ns}_orders`);
    expect(n.consumers.shop).toEqual({ pending: consumer.num_pending, ackPending: consumer.num_ack_pending });
    const stream = await jsm.streams.info(`ER_${ns}_shop`);
    expect(Object.values(n.eventsByType!).reduce((a, b) => a + b, 0)).toBe(stream.state.messages);
  });

  it('never shows a Secret value in any page or API response', async () => {
    const secrets = [sentinel, token];
    const paths = [
      '',
      `pipelines/${ns}/orders`,
      `eventsources/${ns}/shop`,
      `sinks/${ns}/webhook`,
      `sinks/${ns}/orders-scylla`,
      `api/pipelines/${ns}/orders`,
      'api/view?view=overview',
      `api/view?view=pipeline&namespace=${ns}&name=orders`,
      `api/view?view=eventsource&namespace=${ns}&name=shop`,
      `api/view?view=sink&namespace=${ns}&name=webhook`,
    ];
    for (const p of paths) {
      const res = await fetch(`${dashboard.url}${p}`);
      expect(res.status, p).toBe(200);
      const body = await res.text();
      expect(body.length, p).toBeGreaterThan(100);
      for (const s of secrets) expect(body, `${p} shows a Secret value`).not.toContain(s);
    }
    // The live stream's first update too.
    const controller = new AbortController();
    const res = await fetch(`${dashboard.url}api/stream?view=sink&namespace=${ns}&name=webhook`, {
      signal: controller.signal,
    });
    const reader = res.body!.getReader();
    let text = '';
    while (!text.includes('\ndata: ') && !text.startsWith('data: '))
      text += new TextDecoder().decode((await reader.read()).value);
    controller.abort();
    expect(text).toContain('webhook');
    for (const s of secrets) expect(text).not.toContain(s);
    // It is read-only: anything but GET and HEAD is refused.
    expect((await fetch(`${dashboard.url}api/view?view=overview`, { method: 'POST' })).status).toBe(405);
  });

  /** Opens a page and waits for its first live update. */
  async function open(path: string): Promise<{ page: Page; errors: string[] }> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors = collectPageErrors(page);
    await page.goto(`${dashboard.url}${path}`);
    await page.waitForSelector('body[data-updates]', { timeout: 10_000 });
    return { page, errors };
  }

  /** Sends events through the ingest every 200 ms until stopped, so rates stay above zero. */
  function trickle(): () => Promise<void> {
    let on = true;
    let i = 0;
    const loop = (async () => {
      while (on) {
        await sendEvents(journey, 'shop', token, sampleOrders(1, `trickle-${suffix}-${i++}`));
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
    return async () => {
      on = false;
      await loop;
    };
  }

  it('renders the overview graph with health and events per second on its edges', async () => {
    const stop = trickle();
    try {
      const { page, errors } = await open('');
      const nodes = page.locator('svg.graph a.node');
      await expect.poll(() => nodes.count(), { timeout: 10_000 }).toBeGreaterThanOrEqual(5);
      const labels = await nodes.evaluateAll((els) =>
        els.map((e) => e.querySelector('title')?.textContent ?? ''),
      );
      expect(labels.some((l) => l.startsWith(`shop Ready, EventSource in ${ns}.`))).toBe(true);
      expect(labels.some((l) => l.startsWith(`orders Ready, Pipeline in ${ns}.`))).toBe(true);
      expect(labels.some((l) => l.startsWith(`orders-scylla Ready, Sink in ${ns}.`))).toBe(true);
      const rate = page.locator(`[id="rate-in:${ns}/orders/shop"]`);
      await expect
        .poll(async () => Number.parseFloat((await rate.textContent()) ?? ''), { timeout: 10_000 })
        .toBeGreaterThan(0);
      await expect.poll(() => page.locator('#pipelines tbody tr').count(), { timeout: 10_000 }).toBe(1);
      await page.screenshot({ path: join(shots, 'overview.png'), fullPage: true });
      expect(await seriousAccessibilityViolations(page)).toEqual([]);
      // By keyboard: Tab reaches the graph's first box (after the skip link and the header link),
      // and Enter opens its page.
      const focused = () =>
        page.evaluate(
          () =>
            (
              globalThis as unknown as {
                document: { activeElement: { getAttribute(n: string): string | null } | null };
              }
            ).document.activeElement?.getAttribute('data-node') ?? null,
        );
      for (let i = 0; i < 5 && (await focused()) === null; i++) await page.keyboard.press('Tab');
      expect(await focused()).toBe(`es:${ns}/shop`);
      await page.keyboard.press('Enter');
      await page.waitForURL(`**/eventsources/${ns}/shop`);
      expect(errors).toEqual([]);
      await page.close();
    } finally {
      await stop();
    }
  });

  it('renders a Pipeline page: charts with data, dead letters with reasons, recent events, live counters', async () => {
    const stop = trickle();
    try {
      const { page, errors } = await open(`pipelines/${ns}/orders`);
      await expect
        .poll(async () => Number((await page.getAttribute('[data-chart="rates"]', 'data-points')) ?? 0), {
          timeout: 10_000,
        })
        .toBeGreaterThan(2);
      // uPlot drew onto its canvas, and the text alternative states a rate above zero.
      expect(await page.locator('[data-chart="rates"] canvas').count()).toBe(1);
      // Any rate above zero ("In 0.9/s" is one event over a scrape interval a little over a second);
      // on failure, the whole summary as last read.
      await vi.waitFor(
        async () => {
          const summary = (await page.textContent('#chart-rates-summary')) ?? '';
          const rate = Number((/\bIn ([\d.,]+)\/s/.exec(summary)?.[1] ?? '0').replace(/,/g, ''));
          if (!(rate > 0)) throw new Error(`the rates chart's summary reads: ${summary}`);
        },
        { timeout: 15_000, interval: 100 },
      );
      const deadLetters = page.locator('#deadletters tbody tr');
      expect(await deadLetters.count()).toBeGreaterThan(0);
      expect(await deadLetters.first().textContent()).toContain('negative order amount');
      expect(await page.locator('#recent tbody tr').count()).toBeGreaterThan(0);
      expect(await page.textContent('#outputs')).toContain('orders-scylla');
      expect(await page.textContent('#conditions')).toContain('Ready');
      await page.screenshot({ path: join(shots, 'pipeline.png'), fullPage: true });
      await page.screenshot({ path: join(shots, 'pipeline-top.png') });
      expect(await seriousAccessibilityViolations(page)).toEqual([]);
      await stop();

      // One more event: the page's counter moves, through the live stream, without a reload.
      const shown = async () => Number(((await page.textContent('#pl-total-in')) ?? '').replace(/,/g, ''));
      let before = -1;
      await expect
        .poll(
          async () => {
            before = await shown();
            return (await numbers()).totals.in === before;
          },
          { timeout: 10_000 },
        )
        .toBe(true);
      const sent = Date.now();
      await sendEvents(journey, 'shop', token, sampleOrders(1, `live-${suffix}`));
      await page.waitForFunction(
        (n) =>
          Number(
            (
              globalThis as unknown as { document: { getElementById(id: string): { textContent: string } } }
            ).document
              .getElementById('pl-total-in')
              .textContent.replace(/,/g, ''),
          ) > n,
        before,
        { timeout: 2_000, polling: 50 },
      );
      const took = Date.now() - sent;
      expect(took).toBeLessThan(2_000);
      console.log(`dashboard: a new event reached the open Pipeline page in ${took} ms`);
      expect(errors).toEqual([]);
      await page.close();
    } finally {
      await stop();
    }
  });

  it('renders the EventSource and Sink pages with their figures', async () => {
    const es = await open(`eventsources/${ns}/shop`);
    await expect
      .poll(async () => (await es.page.textContent('#clients')) ?? '', { timeout: 10_000 })
      .toContain('checkout');
    expect(await es.page.textContent('#classes')).toContain('2xx');
    expect(await es.page.textContent('#bytype')).toContain('com.shop.order.created');
    expect(await es.page.locator('[data-chart="rates"] canvas').count()).toBe(1);
    await es.page.screenshot({ path: join(shots, 'eventsource.png'), fullPage: true });
    expect(await seriousAccessibilityViolations(es.page)).toEqual([]);
    expect(es.errors).toEqual([]);
    await es.page.close();

    const sink = await open(`sinks/${ns}/orders-scylla`);
    expect(await sink.page.textContent('#sink-target')).toBe(`${db}.orders`);
    expect(await sink.page.textContent('#writers')).toMatch(/orders\s*store/);
    await sink.page.screenshot({ path: join(shots, 'sink.png'), fullPage: true });
    expect(await seriousAccessibilityViolations(sink.page)).toEqual([]);
    expect(sink.errors).toEqual([]);
    await sink.page.close();
  });
});
