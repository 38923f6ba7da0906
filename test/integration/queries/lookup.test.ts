// Lookup joins in the query workers against real tables: orders joined with a 20,000-row
// customers table in the stack's Cassandra (LEFT JOIN: customers not in the table give NULLs),
// the table updated mid-run (results of orders that come after the cache TTL see the new rows),
// and a private Cassandra stopped mid-run (the worker naks the batches it cannot look up, and
// once Cassandra is back every order lands with its row). The result rows must be exactly what
// the offline engine computes with the rows the table held.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import cassandra from 'cassandra-driver';
import type { CloudEvent } from '../../../runtime/events/index.js';
import { cassandraCredentials, startCassandra, type CassandraServer } from '../../stack/cassandra.js';
import { useStackTargets } from '../processor/stack-targets.js';
import { metric, secretFiles, stopProcess, waitFor, type ProcessHandle } from '../processor/support.js';
import type { QuerySpec } from './harness.js';
import { joinSetup, offlineRows, resultRows, type Published, type TableSpec } from './joins-harness.js';
import { startCli } from './support.js';

const s = useStackTargets('qlk');
const running: ProcessHandle[] = [];
afterAll(() => {
  if (process.env.QUERIES_TEST_LOGS)
    for (const p of running)
      console.log(
        p.logs
          .filter((l) => Number(l.level) >= 40)
          .slice(-20)
          .map((l) => JSON.stringify(l))
          .join('\n'),
        p.stderr.join('').slice(-1500),
      );
  for (const p of running)
    if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
});

async function start(command: 'process' | 'query-worker', file: string): Promise<ProcessHandle> {
  const p = await startCli(command, file);
  running.push(p);
  return p;
}

const ENRICH: QuerySpec = {
  name: 'enriched',
  sql: `SELECT o.id AS order_id, o.data.amount AS amount, c.name AS name, c.tier AS tier
        FROM orders o LEFT JOIN customers AS c ON o.data.customer = c.customer_id`,
  outputs: ['results'],
  partitions: 1,
  idleTimeout: '1h',
};

const customer = (i: number) => ({ customer_id: `c${i}`, name: `customer ${i}`, tier: i % 5 });

/** Result rows of `type` so far, counted by ClickHouse: cheaper to poll than reading them all. */
async function resultCount(table: string, type: string): Promise<number> {
  const rs = await s.ch
    .query({
      query: `SELECT count() AS n FROM ${s.database}.${table} FINAL WHERE type = '${type}'`,
      format: 'JSONEachRow',
    })
    .catch((err: Error) => {
      // The Sink creates the table with its first write.
      if (/UNKNOWN_TABLE|doesn't exist|does not exist/i.test(err.message)) return undefined;
      throw err;
    });
  return rs ? Number(((await rs.json()) as { n: string }[])[0]?.n ?? 0) : 0;
}

async function createCustomers(cql: cassandra.Client, keyspace: string, table: string, n: number) {
  await cql.execute(
    `CREATE KEYSPACE IF NOT EXISTS ${keyspace} WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}`,
  );
  await cql.execute(
    `CREATE TABLE IF NOT EXISTS ${keyspace}.${table} (customer_id text PRIMARY KEY, name text, tier int)`,
  );
  const rows = Array.from({ length: n }, (_, i) => customer(i));
  await cassandra.concurrent.executeConcurrent(
    cql,
    `INSERT INTO ${keyspace}.${table} (customer_id, name, tier) VALUES (?, ?, ?)`,
    rows.map((r) => [r.customer_id, r.name, r.tier]),
    { concurrencyLevel: 64, executionProfile: undefined },
  );
  return new Map(rows.map((r) => [r.customer_id, r as Record<string, unknown>]));
}

/** Orders `from`..`from+n-1`; every 10th names a customer the table does not hold. */
function orders(tag: string, from: number, n: number, customers: (i: number) => number): CloudEvent[] {
  return Array.from({ length: n }, (_, k) => {
    const i = from + k;
    return {
      specversion: '1.0',
      id: `${tag}-o${i}`,
      source: '/shop/web',
      type: 'com.shop.order.created',
      time: new Date(Date.UTC(2026, 0, 1) + i * 10).toISOString(),
      datacontenttype: 'application/json',
      data: { customer: i % 10 === 9 ? `missing-${i}` : `c${customers(i)}`, amount: i % 97 },
    };
  });
}

function tableOf(
  contactPoint: string,
  keyspace: string,
  table: string,
  cache: TableSpec['cache'],
): TableSpec {
  const secret = secretFiles(cassandraCredentials);
  return {
    name: 'customers',
    key: 'customer_id',
    cache,
    sink: {
      scylla: {
        contactPoints: [contactPoint],
        localDataCenter: 'datacenter1',
        keyspace,
        table,
        consistency: 'LOCAL_ONE',
        manageSchema: false,
      },
    },
    credentials: { usernameFile: secret.username!, passwordFile: secret.password! },
  };
}

describe('lookup joins in the query workers', () => {
  // The private Cassandra of the outage test starts with the file, beside the first test.
  let outage: Promise<CassandraServer> | undefined;
  beforeAll(() => {
    outage = startCassandra('cassandra-lookup');
    outage.catch(() => undefined);
  });
  afterAll(async () => {
    await (await outage?.catch(() => undefined))?.stop();
  });

  it('joins 20,000 table rows, and sees updated rows once the cache TTL has passed', async () => {
    const tag = `l${Math.random().toString(36).slice(2, 7)}`;
    const table = `${tag}_customers`;
    // Point reads by key: the orders name 2,000 of the customers, the rest only make the table big.
    const held = await createCustomers(s.cql, s.keyspace, table, 20_000);
    const ttlMs = 2000;
    const st = await joinSetup(s, tag, ['orders'], [ENRICH], {
      tables: [
        tableOf(s.targets.cassandra.contactPoint, s.keyspace, table, { ttl: '2s', maxEntries: 50_000 }),
      ],
    });
    const processor = await start('process', st.processorFile);
    const worker = await start('query-worker', st.workerFile('w1'));
    const type = `${st.streams.get('orders')!.consumer}.enriched`;
    const published: Published[] = [];
    const send = async (evs: CloudEvent[]) => {
      const seqs = await st.publish('orders', evs);
      evs.forEach((event, i) =>
        published.push({
          source: 'orders',
          event,
          seq: seqs[i]!,
          rows: { customers: held.get(String((event.data as { customer: string }).customer)) ?? null },
        }),
      );
    };
    const expectRows = async () => {
      const want = offlineRows(st.streams.get('orders')!.consumer, ['orders'], [ENRICH], published, [
        { name: 'customers', key: 'customer_id' },
      ]).get('enriched')!;
      await waitFor(async () => (await resultCount(st.resultTable, type)) >= want.size, 60_000, 'rows');
      expect(Object.fromEntries(await resultRows(s, st.resultTable, type))).toEqual(Object.fromEntries(want));
    };

    // 10,000 orders over 2,000 customers: most lookups are answered by the cache.
    await send(orders(tag, 0, 10_000, (i) => (i * 7) % 2000));
    await expectRows();
    // Every order's key was either answered without a read of its own or read once.
    const hits = await metric(worker, 'eventrunner_query_lookup_cache_hits_total');
    expect(hits).toBeGreaterThan(0);
    expect(hits + (await metric(worker, 'eventrunner_query_lookup_reads_total'))).toBe(10_000);

    // The back office renames 500 of those customers. Entries cached before the update expire
    // within the TTL; orders after that see the new names.
    const renamed = Array.from({ length: 500 }, (_, k) => customer(k * 4));
    await cassandra.concurrent.executeConcurrent(
      s.cql,
      `UPDATE ${s.keyspace}.${table} SET name = ? WHERE customer_id = ?`,
      renamed.map((r) => [`renamed ${r.customer_id}`, r.customer_id]),
    );
    for (const r of renamed) held.set(r.customer_id, { ...r, name: `renamed ${r.customer_id}` });
    const updatedAt = Date.now();
    // Waiting out the TTL is what is under test, not readiness.
    await new Promise((r) => setTimeout(r, Math.max(0, updatedAt + ttlMs + 200 - Date.now())));
    await send(orders(tag, 10_000, 5_000, (i) => (i * 7) % 2000));
    await expectRows();
    const late = published
      .slice(10_000)
      .filter((p) => /^c\d+$/.test(String((p.event.data as { customer: string }).customer)));
    expect(
      late.some((p) => String((p.rows!.customers as { name: string } | null)?.name).startsWith('renamed')),
    ).toBe(true);
    for (const p of [processor, worker]) expect((await stopProcess(p)).code).toBe(0);
  }, 180_000);

  describe('with Cassandra stopped mid-run', () => {
    let server: CassandraServer;
    let cql: cassandra.Client;
    beforeAll(async () => {
      server = await outage!;
      cql = new cassandra.Client({
        contactPoints: [server.contactPoint],
        localDataCenter: server.localDataCenter,
        credentials: cassandraCredentials,
        policies: { reconnection: new cassandra.policies.reconnection.ConstantReconnectionPolicy(200) },
      });
      await cql.connect();
    }, 240_000);
    afterAll(async () => {
      await cql?.shutdown();
    });

    it('naks the batches it cannot look up and lands every order with its row once Cassandra is back', async () => {
      const tag = `p${Math.random().toString(36).slice(2, 7)}`;
      const held = await createCustomers(cql, 'lookup', 'customers', 20_000);
      // A tiny cache with a short TTL: nearly every batch reads Cassandra.
      const st = await joinSetup(s, tag, ['orders'], [ENRICH], {
        tables: [tableOf(server.contactPoint, 'lookup', 'customers', { ttl: '500ms', maxEntries: 10 })],
      });
      const processor = await start('process', st.processorFile);
      const worker = await start('query-worker', st.workerFile('w1'));
      const type = `${st.streams.get('orders')!.consumer}.enriched`;
      const evs = orders(tag, 0, 6_000, (i) => (i * 13) % 20_000);
      const seqs = await st.publish('orders', evs.slice(0, 2000));
      await waitFor(async () => (await resultCount(st.resultTable, type)) >= 1800, 60_000, 'first rows');
      await server.pause();
      seqs.push(...(await st.publish('orders', evs.slice(2000))));
      await waitFor(
        async () => (await metric(worker, 'eventrunner_query_lookup_failures_total')) >= 2,
        60_000,
        'lookups failing',
      );
      expect(
        worker.logs.some((l) => l.msg === 'Reading lookup rows failed; batch nak’ed for redelivery'),
      ).toBe(true);
      // Nothing after the failure went in without its row.
      expect(await resultCount(st.resultTable, type)).toBeLessThan(evs.length);
      await server.resume();
      const published = evs.map((event, i): Published => ({
        source: 'orders',
        event,
        seq: seqs[i]!,
        rows: { customers: held.get(String((event.data as { customer: string }).customer)) ?? null },
      }));
      const want = offlineRows(st.streams.get('orders')!.consumer, ['orders'], [ENRICH], published, [
        { name: 'customers', key: 'customer_id' },
      ]).get('enriched')!;
      expect(want.size).toBe(evs.length);
      await waitFor(async () => (await resultCount(st.resultTable, type)) >= want.size, 90_000, 'every row');
      expect(Object.fromEntries(await resultRows(s, st.resultTable, type))).toEqual(Object.fromEntries(want));
      for (const p of [processor, worker]) expect((await stopProcess(p)).code).toBe(0);
    }, 240_000);
  });
});
