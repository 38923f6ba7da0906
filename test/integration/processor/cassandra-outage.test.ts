// Cassandra stopped mid-run: events for it are retried, never acked early, and all land once it is
// back (the driver reconnects on its own); the rest of the pipeline keeps its invariant.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import cassandra from 'cassandra-driver';
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { clickhouseEnv, natsEnv } from '../../stack/context.js';
import { cassandraCredentials, startCassandra, type CassandraServer } from '../../stack/cassandra.js';
import { assertInvariant, consumerState, readOutcome, settled } from './checks.js';
import { expected, processConfig, shopEvents, type Targets } from './fixtures.js';
import {
  metric,
  names,
  natsSetup,
  publish,
  secretFiles,
  startProcess,
  stopProcess,
  waitFor,
  writeConfig,
} from './support.js';

describe('a Cassandra outage', () => {
  const database = `casout_${randomUUID().slice(0, 8)}`;
  let server: CassandraServer;
  let cql: cassandra.Client;
  let ch: ClickHouseClient;
  let nc: NatsConnection;
  let targets: Targets;

  beforeAll(async () => {
    server = await startCassandra('cassandra-outage');
    cql = new cassandra.Client({
      contactPoints: [server.contactPoint],
      localDataCenter: server.localDataCenter,
      credentials: cassandraCredentials,
      // This client lives through the outage too; have it find the restarted node quickly.
      policies: { reconnection: new cassandra.policies.reconnection.ConstantReconnectionPolicy(200) },
    });
    await cql.connect();
    ch = createClient({ url: clickhouseEnv().url });
    nc = await connect({ servers: natsEnv().url });
    const secret = secretFiles(cassandraCredentials);
    targets = {
      nats: natsEnv().url,
      cassandra: {
        contactPoint: server.contactPoint,
        localDataCenter: server.localDataCenter,
        keyspace: 'outage',
        table: 'orders',
        usernameFile: secret.username!,
        passwordFile: secret.password!,
      },
      clickhouse: { url: clickhouseEnv().url, database, table: 'orders' },
    };
  }, 240_000);
  afterAll(async () => {
    await cql?.shutdown();
    await ch?.command({ query: `DROP DATABASE IF EXISTS ${database}` }).catch(() => undefined);
    await ch?.close();
    await nc?.close();
    await server?.stop();
  });

  it('retries events for a stopped Cassandra without acking them and completes once it is back', async () => {
    const n = names('casout');
    const { nc: admin } = await natsSetup(natsEnv().url, n, { maxDeliver: 1000 });
    const config = writeConfig(processConfig(targets, n, { maxDeliver: 1000, backoff: ['500ms'] }));
    const where = {
      keyspace: 'outage',
      table: 'orders',
      database,
      chTable: 'orders',
      dlqStream: n.dlqStream,
    };
    const before = shopEvents(400, { poison: true });
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
      const during = shopEvents(400, { poison: true });
      const seqs = await publish(
        admin,
        n.prefix,
        during.map((e) => e.event),
      );
      const firstStored = seqs[during.findIndex((e) => e.fate === 'store')]!;
      await waitFor(
        async () => (await metric(proc, 'eventrunner_processor_naks_total')) >= 50,
        60_000,
        'retries while Cassandra is down',
      );
      expect((await consumerState(nc, n.stream, n.consumer)).ackFloor).toBeLessThan(firstStored);

      await server.resume();
      const all = [...before, ...during];
      // Until the test's own client has reconnected, reading fails: that is "not yet", not an error.
      const readable = async () => readOutcome(cql, ch, nc, where).catch(() => undefined);
      await waitFor(
        async () => {
          const o = await readable();
          return o !== undefined && settled(o, expected(all));
        },
        180_000,
        'all events written after the outage',
      );
      await waitFor(
        async () => (await consumerState(nc, n.stream, n.consumer)).ackPending === 0,
        60_000,
        'all acked',
      );
      let final = await readable();
      await waitFor(async () => (final ??= await readable()) !== undefined, 30_000, 'a readable outcome');
      assertInvariant(all.length, final!, expected(all));
    } catch (err) {
      // Report the failure itself, not a follow-on problem while stopping.
      await stopProcess(proc).catch(() => undefined);
      throw err;
    } finally {
      if (proc.child.exitCode === null && proc.child.signalCode === null)
        expect((await stopProcess(proc)).code).toBe(0);
      await admin.close();
    }
  }, 400_000);
});
