// A sink taken away mid-run (its server stopped): events routed to it are neither acked nor lost,
// the rest keep flowing, and once the server is back the run completes with every row written
// once. With the outage outlasting maxDeliver, the events end in the dead-letter stream instead.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import cassandra from 'cassandra-driver';
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { cassandraEnv, natsEnv } from '../../stack/context.js';
import { startClickHouse, type ClickHouseServer } from '../../stack/clickhouse.js';
import { assertInvariant, consumerState, readOutcome, settled } from './checks.js';
import { expected, processConfig, shopEvents, type Targets } from './fixtures.js';
import {
  metric,
  names,
  natsSetup,
  publish,
  readDeadLetters,
  secretFiles,
  startProcess,
  stopProcess,
  waitFor,
  writeConfig,
} from './support.js';

describe('a sink outage', () => {
  const keyspace = `outage_${randomUUID().slice(0, 8)}`;
  let server: ClickHouseServer;
  let cql: cassandra.Client;
  let ch: ClickHouseClient;
  let nc: NatsConnection;
  let targets: Targets;

  beforeAll(async () => {
    server = await startClickHouse('clickhouse-outage');
    const c = cassandraEnv();
    cql = new cassandra.Client({
      contactPoints: [c.contactPoint],
      localDataCenter: c.localDataCenter,
      credentials: { username: c.username, password: c.password },
    });
    await cql.connect();
    ch = createClient({ url: server.url });
    nc = await connect({ servers: natsEnv().url });
    const secret = secretFiles({ username: c.username, password: c.password });
    targets = {
      nats: natsEnv().url,
      cassandra: {
        contactPoint: c.contactPoint,
        localDataCenter: c.localDataCenter,
        keyspace,
        table: 'orders',
        usernameFile: secret.username!,
        passwordFile: secret.password!,
      },
      clickhouse: { url: server.url, database: 'outage', table: 'orders' },
    };
  });
  afterAll(async () => {
    await cql?.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`).catch(() => undefined);
    await cql?.shutdown();
    await ch?.close();
    await nc?.close();
    await server?.stop();
  });

  it('holds events for a stopped ClickHouse without acking them and completes once it is back', async () => {
    const n = names('out');
    const { nc: admin } = await natsSetup(natsEnv().url, n, { maxDeliver: 1000 });
    const config = writeConfig(processConfig(targets, n, { maxDeliver: 1000, backoff: ['300ms'] }));
    const where = {
      keyspace,
      table: 'orders',
      database: 'outage',
      chTable: 'orders',
      dlqStream: n.dlqStream,
    };
    const before = shopEvents(600, { poison: true });
    await publish(
      admin,
      n.prefix,
      before.map((e) => e.event),
    );
    const proc = await startProcess(config);
    try {
      await waitFor(
        async () => settled(await readOutcome(cql, ch, nc, where), expected(before)),
        60_000,
        'first events written',
      );

      await server.pause();
      const during = shopEvents(600, { poison: true });
      const seqs = await publish(
        admin,
        n.prefix,
        during.map((e) => e.event),
      );
      const firstBoth = seqs[during.findIndex((e) => e.fate === 'both')]!;
      await waitFor(
        async () => (await metric(proc, 'eventrunner_processor_naks_total')) >= 50,
        60_000,
        'retries while ClickHouse is down',
      );
      // No early ack: the consumer's ack floor cannot pass an event ClickHouse has not taken.
      const down = await consumerState(nc, n.stream, n.consumer);
      expect(down.ackFloor).toBeLessThan(firstBoth);
      // Events for Cassandra only keep flowing meanwhile.
      const storeOnly = during.filter((e) => e.fate === 'store').map((e) => e.event.id);
      await waitFor(
        async () => {
          const rs = await cql.execute(
            `SELECT id FROM ${keyspace}.orders WHERE id IN ?`,
            [storeOnly.slice(-20)],
            { prepare: true },
          );
          return rs.rowLength === 20;
        },
        30_000,
        'store-only events written during the outage',
      );
      expect(await readDeadLetters(nc, n.dlqStream)).toHaveLength(
        expected(before).deadLettered.size + [...expected(during).deadLettered].length,
      );

      await server.resume();
      const all = [...before, ...during];
      await waitFor(
        async () => settled(await readOutcome(cql, ch, nc, where), expected(all)),
        90_000,
        'all events written after the outage',
      );
      await waitFor(
        async () => (await consumerState(nc, n.stream, n.consumer)).ackPending === 0,
        30_000,
        'all acked',
      );
      expect(await metric(proc, 'eventrunner_processor_redeliveries_total')).toBeGreaterThan(0);
      assertInvariant(all.length, await readOutcome(cql, ch, nc, where), expected(all));
    } finally {
      expect((await stopProcess(proc)).code).toBe(0);
      await admin.close();
    }
  });

  it('dead-letters events whose sink stays down past maxDeliver', async () => {
    const n = names('maxd');
    const { nc: admin } = await natsSetup(natsEnv().url, n, { maxDeliver: 3 });
    const base = processConfig({ ...targets, clickhouse: { ...targets.clickhouse, table: 'maxd' } }, n, {
      maxDeliver: 3,
      backoff: ['100ms'],
    }) as Record<string, unknown>;
    // Everything goes to ClickHouse only, so each event has exactly one fate.
    const config = writeConfig({ ...base, rules: { source: '' }, defaultOutputs: ['analytics'] });
    const proc = await startProcess(config);
    try {
      await server.pause();
      const events = shopEvents(40);
      await publish(
        admin,
        n.prefix,
        events.map((e) => e.event),
      );
      await waitFor(
        async () => (await readDeadLetters(nc, n.dlqStream)).length >= 40,
        60_000,
        'dead letters after maxDeliver',
      );
      const dl = await readDeadLetters(nc, n.dlqStream);
      expect(new Set(dl.map((d) => d.id))).toEqual(new Set(events.map((e) => e.event.id)));
      for (const d of dl)
        expect(d.reason).toMatch(
          /^delivered 3 times \(maxDeliver\); last error: output analytics: clickhouse/,
        );
      await waitFor(
        async () => (await consumerState(nc, n.stream, n.consumer)).ackPending === 0,
        30_000,
        'all terminated',
      );
      expect(await metric(proc, 'eventrunner_processor_events_in_total')).toBe(120);
    } finally {
      await server.resume();
      expect((await stopProcess(proc)).code).toBe(0);
      await admin.close();
    }
    const [row] = await (
      await ch.query({ query: 'SELECT count() AS c FROM outage.maxd FINAL', format: 'JSONEachRow' })
    ).json<{ c: string }>();
    // produced = written (0) + dropped (0) + dead-lettered (40)
    expect(Number(row?.c)).toBe(0);
  });

  it('drains and exits promptly on SIGTERM while the sink is down, acking nothing it did not write', async () => {
    const n = names('downterm');
    const { nc: admin } = await natsSetup(natsEnv().url, n, { maxDeliver: 1000 });
    const base = processConfig({ ...targets, clickhouse: { ...targets.clickhouse, table: 'downterm' } }, n, {
      maxDeliver: 1000,
      backoff: ['200ms'],
      grace: '10s',
    }) as Record<string, unknown>;
    const config = writeConfig({ ...base, rules: { source: '' }, defaultOutputs: ['analytics'] });
    const proc = await startProcess(config);
    await server.pause();
    try {
      const events = shopEvents(200);
      await publish(
        admin,
        n.prefix,
        events.map((e) => e.event),
      );
      await waitFor(
        async () => (await metric(proc, 'eventrunner_processor_naks_total')) >= 200,
        60_000,
        'retries while ClickHouse is down',
      );
      const stopped = await stopProcess(proc);
      expect(stopped.code).toBe(0);
      expect(stopped.ms).toBeLessThan(15_000);
      const s = await consumerState(nc, n.stream, n.consumer);
      // Nothing was written, so nothing may have been acked: every event is still the consumer's.
      expect(s.ackFloor).toBe(0);
      expect(s.pending + s.ackPending).toBe(events.length);
      expect(await readDeadLetters(nc, n.dlqStream)).toHaveLength(0);
    } finally {
      await server.resume();
      await admin.close();
    }
  });
});
