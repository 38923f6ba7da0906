// examples/outputs on the real stack, with the operator as its own process and the local kubelet
// running the ingest and processor pods it creates: orders posted to the shop EventSource's HTTP
// ingest; the gold ones reach a real webhook receiver in the test with the bearer token from the
// mounted Secret, and, chained through the alerts EventSource, a second Pipeline's ClickHouse table.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { sampleOrders, sendEvents, startJourney, waitAllReady, type Journey } from '../../hack/journey.js';
import { cassandraEnv, clickhouseEnv, kubeEnv, natsEnv } from '../stack/context.js';
import type { StackEnv } from '../stack/env.js';
import { repoRoot } from '../stack/paths.js';
import { startReceiver, type Receiver } from '../support/webhook-receiver.js';

describe('webhook and chained outputs through the operator and the local kubelet', () => {
  const database = `e2e_alerts_${randomUUID().slice(0, 8)}`;
  let stack: Required<StackEnv>;
  let journey: Journey;
  let receiver: Receiver;
  let ch: ClickHouseClient;
  let manifests: string;

  beforeAll(async () => {
    stack = { kube: kubeEnv(), nats: natsEnv(), cassandra: cassandraEnv(), clickhouse: clickhouseEnv() };
    receiver = await startReceiver();
    ch = createClient({ url: stack.clickhouse.url });
    journey = await startJourney(stack, `outputs-${randomUUID().slice(0, 6)}`);
    // The quickstart's shop EventSource (not its Pipeline and tables) and examples/outputs, pointed
    // at the receiver and the local ClickHouse.
    manifests = mkdtempSync(join(tmpdir(), 'eventrunner-outputs-'));
    // Streams reserve their maxBytes on the shared NATS, which other tests' streams share too.
    const small = (text: string) => text.replace(/maxBytes: \d+Gi/g, 'maxBytes: 64Mi');
    writeFileSync(
      join(manifests, 'shop-eventsource.yaml'),
      small(readFileSync(join(repoRoot, 'examples', 'quickstart', 'eventsource.yaml'), 'utf8')),
    );
    for (const f of ['eventsource.yaml', 'sinks.yaml', 'pipeline.yaml'])
      writeFileSync(
        join(manifests, f),
        small(readFileSync(join(repoRoot, 'examples', 'outputs', f), 'utf8'))
          .replace('https://oncall.example.com', receiver.url)
          .replace('http://clickhouse:8123', stack.clickhouse.url)
          .replace('database: shop_alerts', `database: ${database}`),
      );
  });
  afterAll(async () => {
    await journey?.stop();
    await receiver?.close();
    await ch?.command({ query: `DROP DATABASE IF EXISTS ${database}` }).catch(() => undefined);
    await ch?.close();
  });

  it(
    'notifies the webhook of every gold order and counts each as one alert downstream',
    { timeout: 300_000 },
    async () => {
      expect(journey.kubectl('apply', '-f', manifests)).toMatch(
        /pipeline.eventrunner.io\/alert-counts created/,
      );
      await waitAllReady(journey, 150_000);
      const sinks = journey.kubectl('get', 'sinks');
      expect(sinks).toMatch(/oncall-webhook\s+True\s+http\s+http:\/\/127\.0\.0\.1:\d+\/hooks\/gold-orders/);
      expect(sinks).toMatch(/alerts-stream\s+True\s+eventSource\s+EventSource alerts/);

      const orders = sampleOrders(60, `e2e-${randomUUID().slice(0, 6)}`) as {
        id: string;
        type: string;
        data: { amount: number };
      }[];
      const gold = orders
        .filter((o) => o.type === 'com.shop.order.created' && o.data.amount >= 1000)
        .map((o) => o.id);
      expect(gold.length).toBeGreaterThan(5);
      const statuses = await sendEvents(journey, 'shop', 'change-me-checkout-token', orders);
      expect(statuses.filter((s) => s !== 202 && s !== 200)).toEqual([]);

      const deadline = Date.now() + 90_000;
      let counted = 0;
      while (Date.now() < deadline) {
        const [row] = await (
          await ch.query({ query: `SELECT count() AS c FROM ${database}.gold FINAL`, format: 'JSONEachRow' })
        )
          .json<{ c: string }>()
          .catch(() => [{ c: '0' }]);
        counted = Number(row?.c);
        if (gold.every((id) => receiver.accepted().get(id)) && counted >= gold.length) break;
        await new Promise((r) => setTimeout(r, 500));
      }
      expect(new Set(gold.filter((id) => receiver.accepted().get(id)))).toEqual(new Set(gold));
      expect(counted).toBe(gold.length);
      // Only the gold orders, in binary mode, with the token the processor read from its Secret.
      expect(receiver.deliveries.every((d) => gold.includes(d.ids[0]!))).toBe(true);
      const first = receiver.attempts(gold[0]!)[0]!;
      expect(first.headers).toMatchObject({
        authorization: 'Bearer change-me-webhook-token',
        'x-team': 'shop',
        'ce-type': 'com.shop.order.created',
      });
      expect(JSON.parse(first.body.toString())).toMatchObject({ tier: 'gold' });
    },
  );
});
