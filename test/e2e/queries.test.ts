// A Pipeline with a windowed query on the real stack, with the operator as its own process and the
// local kubelet running the ingest, processor and query-worker pods it creates: orders posted to
// the HTTP ingest land in ClickHouse and Cassandra as exactly the rows `eventrunner test` computes
// offline for the same events — with one query worker SIGKILLed mid-run, which the Pipeline tells
// as an owner change. The status shows the partitions owned, and deleting the Pipeline removes
// its shuffle stream and state bucket.
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import cassandra from 'cassandra-driver';
import { stringify } from 'yaml';
import { sendEvents, startJourney, waitAllReady, type Journey } from '../../hack/journey.js';
import type { Pipeline } from '../../api/generated/types.js';
import { cassandraEnv, clickhouseEnv, kubeEnv, natsEnv } from '../stack/context.js';
import type { StackEnv } from '../stack/env.js';
import { repoRoot } from '../stack/paths.js';
import { builtCli } from '../support/built-cli.js';

const suffix = randomUUID().slice(0, 6);
const ns = `queries-${suffix}`;
const database = `e2e_q_${suffix}`;
const keyspace = `e2e_q_${suffix}`;

const SQL = `SELECT data.country AS country, count(*) AS orders, sum(data.amount) AS revenue,
       window_start, window_end
FROM orders
WHERE type = 'com.shop.order.created'
WINDOW TUMBLING (SIZE 2 SECONDS, GRACE PERIOD 1 SECOND)
GROUP BY data.country
EMIT FINAL`;

function pipeline(): Pipeline {
  return {
    apiVersion: 'eventrunner.io/v1alpha1',
    kind: 'Pipeline',
    metadata: { name: 'per-country', namespace: ns },
    spec: {
      sources: [{ eventSource: 'shop', types: ['com.shop.order.*'], as: 'orders' }],
      rules:
        'rule DropLoadTest "load tests are not counted" { when event.source.HasPrefix("/loadtest/") then Drop(); }',
      outputs: [
        { name: 'raw', sink: 'raw-ch' },
        { name: 'counts', sink: 'counts-ch' },
        { name: 'counts-cql', sink: 'counts-cql' },
      ],
      defaultOutputs: ['raw'],
      queries: [
        {
          name: 'per-country',
          partitions: 3,
          outputs: ['counts', 'counts-cql'],
          // An idle partition's watermark follows the wall clock (DESIGN, Time): the events' times
          // are set before the offline run and the sends, so any pause longer than this in getting
          // them in (a loaded machine, a POST sent again) would make them late. 3 s did, twice.
          idleTimeout: '30s',
          sql: SQL,
        },
      ],
      queryWorkers: { replicas: 2 },
      replicas: 1,
    } as unknown as Pipeline['spec'],
  };
}

const columns = [{ name: 'orders', type: 'bigint', from: '/data/orders' }];
const sinks = (stack: Required<Pick<StackEnv, 'clickhouse' | 'cassandra'>>) => [
  ...['raw', 'counts'].map((t) => ({
    apiVersion: 'eventrunner.io/v1alpha1',
    kind: 'Sink',
    metadata: { name: `${t}-ch` },
    spec: {
      clickhouse: {
        url: stack.clickhouse.url,
        database,
        table: t,
        manageSchema: true,
        batch: { maxRows: 1000, maxDelay: '100ms' },
      },
      columns: t === 'raw' ? [] : columns,
    },
  })),
  {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'cql' },
    stringData: { username: stack.cassandra.username, password: stack.cassandra.password },
  },
  {
    apiVersion: 'eventrunner.io/v1alpha1',
    kind: 'Sink',
    metadata: { name: 'counts-cql' },
    spec: {
      scylla: {
        contactPoints: [stack.cassandra.contactPoint],
        localDataCenter: stack.cassandra.localDataCenter,
        keyspace,
        table: 'counts',
        consistency: 'LOCAL_ONE',
        credentialsSecretRef: { name: 'cql' },
        manageSchema: true,
        replicationFactor: 1,
      },
      columns,
    },
  },
];

/** Orders from now on, 40 ms of event time apart: five countries, a few load tests and refunds. */
function orders(n: number, start: number) {
  const countries = ['DE', 'FR', 'NL', 'IT', 'ES'];
  return Array.from({ length: n }, (_, i) => ({
    specversion: '1.0',
    id: `q-${suffix}-${i}`,
    type: i % 11 === 10 ? 'com.shop.order.refunded' : 'com.shop.order.created',
    source: i % 13 === 12 ? '/loadtest/k6' : '/checkout',
    subject: String(5000 + i),
    time: new Date(start + i * 40).toISOString(),
    datacontenttype: 'application/json',
    data: { amount: 10 + (i % 97), currency: 'EUR', country: countries[(i * 7) % 5] },
  }));
}

/** `eventrunner test` on the Pipeline and the events: each result row, id → data. */
function offlineRows(dir: string, events: object[]): Map<string, unknown> {
  writeFileSync(join(dir, 'pipeline.yaml'), stringify(pipeline()));
  writeFileSync(join(dir, 'events.jsonl'), events.map((e) => JSON.stringify(e)).join('\n'));
  const r = spawnSync(
    process.execPath,
    [builtCli(), 'test', '-f', join(dir, 'pipeline.yaml'), '--events', join(dir, 'events.jsonl')],
    { cwd: repoRoot, encoding: 'utf8', timeout: 120_000 },
  );
  if (r.error) throw new Error(`eventrunner test did not finish: ${r.error.message}`);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  const lines = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { query?: string; outcome?: string; id: string; data?: unknown });
  expect(lines.filter((l) => l.query && l.outcome)).toEqual([]);
  return new Map(lines.filter((l) => l.query).map((l) => [l.id, l.data]));
}

describe('a windowed query through the operator and the local kubelet', () => {
  let stack: Parameters<typeof startJourney>[0];
  let journey: Journey;
  let ch: ClickHouseClient;
  let cql: cassandra.Client;
  let nc: NatsConnection;
  let dir: string;

  beforeAll(async () => {
    stack = {
      kube: kubeEnv(),
      nats: natsEnv(),
      cassandra: cassandraEnv(),
      clickhouse: clickhouseEnv(),
    } as typeof stack;
    ch = createClient({ url: stack.clickhouse.url });
    cql = new cassandra.Client({
      contactPoints: [stack.cassandra.contactPoint],
      localDataCenter: stack.cassandra.localDataCenter,
      credentials: { username: stack.cassandra.username, password: stack.cassandra.password },
    });
    nc = await connect({ servers: stack.nats.url });
    journey = await startJourney(stack, ns);
    dir = mkdtempSync(join(tmpdir(), 'eventrunner-queries-'));
    // The quickstart's shop EventSource, one ingest pod, a stream small enough for a shared NATS.
    writeFileSync(
      join(dir, 'eventsource.yaml'),
      readFileSync(join(repoRoot, 'examples', 'quickstart', 'eventsource.yaml'), 'utf8')
        .replace('replicas: 2', 'replicas: 1')
        .replace(/maxBytes: \d+Gi/g, 'maxBytes: 64Mi'),
    );
    writeFileSync(
      join(dir, 'sinks.yaml'),
      sinks(stack)
        .map((d) => stringify(d))
        .join('---\n'),
    );
    writeFileSync(join(dir, 'pipeline.yaml'), stringify(pipeline()));
  });
  afterAll(async () => {
    await journey?.stop();
    await ch?.command({ query: `DROP DATABASE IF EXISTS ${database}` }).catch(() => undefined);
    await ch?.close();
    await cql?.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`).catch(() => undefined);
    await cql?.shutdown();
    await nc?.close();
  });

  const rowsIn = {
    clickhouse: async () => {
      const rs = await ch.query({
        query: `SELECT id, data FROM ${database}.counts FINAL`,
        format: 'JSONEachRow',
      });
      const rows = (await rs.json()) as { id: string; data: string }[];
      return new Map(rows.map((r) => [r.id, JSON.parse(r.data) as unknown]));
    },
    cassandra: async () => {
      const rs = await cql.execute(`SELECT id, data FROM ${keyspace}.counts`, [], { fetchSize: 10000 });
      return new Map(rs.rows.map((r) => [String(r.id), JSON.parse(String(r.data)) as unknown]));
    },
  };

  it(
    'writes the offline rows, through a worker crash, and shows its partitions in the status',
    { timeout: 300_000 },
    async () => {
      // Each step's time, printed as it ends: when the test runs out of time, the last line says
      // which step did not end.
      let stepStart = Date.now();
      const step = (what: string) => {
        console.log(`windowed query e2e: ${what} in ${((Date.now() - stepStart) / 1000).toFixed(1)} s`);
        stepStart = Date.now();
      };
      journey.kubectl('apply', '-f', dir);
      await waitAllReady(journey, 150_000);
      step('every resource Ready');
      const workers = () => journey.kubelet.pods(ns, 'per-country-query-worker');
      expect(workers()).toHaveLength(2);

      const events = orders(300, Date.now());
      const want = offlineRows(mkdtempSync(join(tmpdir(), 'eventrunner-offline-')), events);
      expect(want.size).toBeGreaterThan(20);
      step('offline rows');

      const first = await sendEvents(journey, 'shop', 'change-me-checkout-token', events.slice(0, 150));
      expect(first.filter((s) => s !== 202 && s !== 200)).toEqual([]);
      step('150 events sent');
      // A crash, not a drain: its partitions wait for their leases to lapse, then move.
      expect(workers()[0]!.kill('SIGKILL')).toBe(true);
      const rest = await sendEvents(journey, 'shop', 'change-me-checkout-token', events.slice(150));
      expect(rest.filter((s) => s !== 202 && s !== 200)).toEqual([]);
      step('a worker killed, 150 more sent');

      for (const [where, read] of Object.entries(rowsIn)) {
        // The last windows close 30 s (idleTimeout) after the last event.
        const deadline = Date.now() + 150_000;
        let got = new Map<string, unknown>();
        while (Date.now() < deadline) {
          got = await read().catch(() => new Map<string, unknown>());
          if (got.size >= want.size) break;
          await new Promise((r) => setTimeout(r, 500));
        }
        expect({ where, rows: Object.fromEntries(got) }).toEqual({ where, rows: Object.fromEntries(want) });
        step(`rows in ${where}`);
      }

      const custom = journey.kc.makeApiClient(CustomObjectsApi);
      const read = async () =>
        (await custom.getNamespacedCustomObject({
          group: 'eventrunner.io',
          version: 'v1alpha1',
          namespace: ns,
          plural: 'pipelines',
          name: 'per-country',
        })) as Pipeline;
      // The status catches up on the operator's resync (10 s here).
      const deadline = Date.now() + 60_000;
      let pl = await read();
      while (
        Date.now() < deadline &&
        !(pl.status?.queries?.owned === '3/3' && pl.status.queries.items?.[0]?.lastCheckpoint)
      ) {
        await new Promise((r) => setTimeout(r, 1000));
        pl = await read();
      }
      expect(pl.status?.queries).toMatchObject({ count: 1, owned: '3/3' });
      expect(pl.status?.queries?.items?.[0]).toMatchObject({ name: 'per-country', partitions: 3, owned: 3 });
      expect(pl.status?.queryWorkers).toMatchObject({
        shuffleStream: `ER_SH_${ns}_per-country`,
        stateBucket: `ER_Q_${ns}_per-country`,
      });
      const wide = journey.kubectl('get', 'pipelines', '-o', 'wide');
      expect(wide).toMatch(/QUERIES\s+OWNED\s+WORKERS\s+WATERMARK/);
      expect(wide).toMatch(/per-country\s+True\s.*\s1\s+3\/3\s+\d\s+\S+/);

      const moved = async () =>
        (
          await journey.kc
            .makeApiClient(CoreV1Api)
            .listNamespacedEvent({ namespace: ns, fieldSelector: 'reason=PartitionOwnerChanged' })
        ).items;
      const until = Date.now() + 60_000;
      while (Date.now() < until && (await moved()).length === 0)
        await new Promise((r) => setTimeout(r, 1000));
      expect((await moved())[0]?.message).toMatch(/partitions? \(per-country\/\d.*\) moved from \S+ to \S+/);
    },
  );

  it('deletes the shuffle stream and the state bucket with the Pipeline', { timeout: 120_000 }, async () => {
    const jsm = await jetstreamManager(nc);
    const exists = (stream: string) =>
      jsm.streams.info(stream).then(
        () => true,
        () => false,
      );
    expect(await exists(`ER_SH_${ns}_per-country`)).toBe(true);
    expect(await exists(`KV_ER_Q_${ns}_per-country`)).toBe(true);
    journey.kubectl('delete', 'pipeline', 'per-country', '--wait=true', '--timeout=60s');
    expect(await exists(`ER_SH_${ns}_per-country`)).toBe(false);
    expect(await exists(`KV_ER_Q_${ns}_per-country`)).toBe(false);
    expect(await exists(`ER_DLQ_${ns}_per-country`)).toBe(false);
  });
});
