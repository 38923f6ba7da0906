// The demo's journey as a test, on the real stack with the operator as its own process and the
// local kubelet running the ingest and processor pods it creates: quickstart applied with kubectl,
// orders sent through the HTTP ingest, rows in both sinks and Ready on every resource; then a rules
// change applied with kubectl rolls the processors and new events follow the new rules.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppsV1Api } from '@kubernetes/client-node';
import { compileRules } from '../../runtime/rules/index.js';
import { cassandraEnv, clickhouseEnv, kubeEnv, natsEnv } from '../stack/context.js';
import type { StackEnv } from '../stack/env.js';
import {
  localQuickstart,
  readResults,
  sampleOrders,
  sendEvents,
  startJourney,
  waitAllReady,
  type Journey,
  type JourneyCounts,
} from '../../hack/journey.js';

const none: JourneyCounts = { cassandraRows: 0, clickhouseRows: 0, deadLetters: [], consumerPending: 0 };

describe('the quickstart journey', () => {
  let stack: Required<StackEnv>;
  let journey: Journey;
  let manifests: string;

  beforeAll(async () => {
    stack = {
      kube: kubeEnv(),
      nats: natsEnv(),
      cassandra: cassandraEnv(),
      clickhouse: clickhouseEnv(),
    };
    journey = await startJourney(stack, 'journey');
    manifests = localQuickstart(stack);
  });
  afterAll(async () => {
    await journey?.stop();
  });

  /** What the Pipeline's rules say should happen to these orders, computed offline. */
  function expected(orders: object[], rules: string) {
    const compiled = compileRules(rules, {
      outputs: ['store', 'analytics'],
      defaultOutputs: ['store', 'analytics'],
    });
    const tally = { store: 0, analytics: 0, dropped: 0, deadletter: 0 };
    for (const o of orders) {
      const r = compiled.evaluate(structuredClone(o) as never);
      if (r.outcome === 'dropped') tally.dropped++;
      else if (r.outcome === 'deadletter') tally.deadletter++;
      else for (const route of r.routes) tally[route as 'store' | 'analytics']++;
    }
    return tally;
  }

  /** Waits until the stream is drained and the sinks and dead letters show what the rules say. */
  async function drained(start: JourneyCounts, want: ReturnType<typeof expected>) {
    const deadline = Date.now() + 90_000;
    for (;;) {
      const r = await readResults(stack, 'journey');
      const done =
        r.consumerPending === 0 &&
        r.cassandraRows - start.cassandraRows >= want.store &&
        r.clickhouseRows - start.clickhouseRows >= want.analytics &&
        r.deadLetters.length - start.deadLetters.length >= want.deadletter;
      if (done || Date.now() > deadline) return r;
      await new Promise((res) => setTimeout(res, 500));
    }
  }

  it('runs the quickstart end to end: every resource Ready, rows in both sinks, dead letters with reasons', async () => {
    const applied = journey.kubectl('apply', '-f', manifests);
    expect(applied).toMatch(/pipeline.eventrunner.io\/orders created/);
    await waitAllReady(journey, 150_000);

    const orders = sampleOrders(60, 'e2e1');
    const statuses = await sendEvents(journey, 'shop', 'change-me-checkout-token', orders);
    expect(statuses.every((s) => s === 202 || s === 200 || s === 201)).toBe(true);
    const rules = readFileSync(join(manifests, 'pipeline.yaml'), 'utf8');
    const want = expected(
      orders,
      /rules: \|\n([\s\S]*?)\n {2}outputs:/.exec(rules)![1]!.replace(/^ {4}/gm, ''),
    );
    const got = await drained(none, want);
    expect(got.consumerPending).toBe(0);
    expect(got.cassandraRows).toBe(want.store);
    expect(got.clickhouseRows).toBe(want.analytics);
    expect(got.deadLetters).toHaveLength(want.deadletter);
    expect(new Set(got.deadLetters.map((d) => d.reason))).toEqual(new Set(['negative order amount']));

    const table = journey.kubectl('get', 'pipelines');
    expect(table).toMatch(/orders\s+True\s+2/);
  });

  it('rolls the processors on a rules change applied with kubectl, and new events follow the new rules', async () => {
    const apps = journey.kc.makeApiClient(AppsV1Api);
    const before = await apps.readNamespacedDeployment({ name: 'orders-processor', namespace: 'journey' });
    const hash = (d: typeof before) => d.spec?.template.metadata?.annotations?.['eventrunner.io/config-hash'];
    // New rule: orders from NL are dropped from now on.
    const file = join(manifests, 'pipeline.yaml');
    const text = readFileSync(file, 'utf8').replace(
      '  rules: |\n',
      '  rules: |\n    rule NoNL "orders from NL are no longer accepted" salience 200 {\n      when event.data.country == "NL"\n      then Drop();\n    }\n\n',
    );
    writeFileSync(file, text);
    expect(journey.kubectl('apply', '-f', file)).toMatch(/pipeline.eventrunner.io\/orders configured/);
    await expect
      .poll(
        async () =>
          hash(await apps.readNamespacedDeployment({ name: 'orders-processor', namespace: 'journey' })),
        {
          timeout: 30_000,
        },
      )
      .not.toBe(hash(before));
    await waitAllReady(journey, 120_000);

    const start = await readResults(stack, 'journey');
    const orders = sampleOrders(40, 'e2e2');
    await sendEvents(journey, 'shop', 'change-me-checkout-token', orders);
    const want = expected(
      orders,
      /rules: \|\n([\s\S]*?)\n {2}outputs:/.exec(text)![1]!.replace(/^ {4}/gm, ''),
    );
    const got = await drained(start, want);
    expect(got.cassandraRows - start.cassandraRows).toBe(want.store);
    expect(got.clickhouseRows - start.clickhouseRows).toBe(want.analytics);
    expect(want.dropped).toBeGreaterThan(0);
  });
});
