// The servers a processor test writes to: clients for the stack's NATS, Cassandra and ClickHouse,
// and a keyspace and database of the test file's own, dropped when it ends.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import cassandra from 'cassandra-driver';
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { cassandraEnv, clickhouseEnv, natsEnv } from '../../stack/context.js';
import type { Targets } from './fixtures.js';
import { secretFiles } from './support.js';

export interface StackTargets {
  keyspace: string;
  database: string;
  /** Set by the time the file's own beforeAll hooks run. */
  cql: cassandra.Client;
  ch: ClickHouseClient;
  nc: NatsConnection;
  targets: Targets;
}

/** Registers the hooks that open (and afterwards close and drop) the test file's targets. */
export function useStackTargets(prefix: string): StackTargets {
  const s = {
    keyspace: `${prefix}_${randomUUID().slice(0, 8)}`,
    database: `${prefix}_${randomUUID().slice(0, 8)}`,
  } as StackTargets;
  beforeAll(async () => {
    const c = cassandraEnv();
    s.cql = new cassandra.Client({
      contactPoints: [c.contactPoint],
      localDataCenter: c.localDataCenter,
      credentials: { username: c.username, password: c.password },
    });
    await s.cql.connect();
    s.ch = createClient({ url: clickhouseEnv().url });
    s.nc = await connect({ servers: natsEnv().url });
    const secret = secretFiles({ username: c.username, password: c.password });
    s.targets = {
      nats: natsEnv().url,
      cassandra: {
        contactPoint: c.contactPoint,
        localDataCenter: c.localDataCenter,
        keyspace: s.keyspace,
        table: 'orders',
        usernameFile: secret.username!,
        passwordFile: secret.password!,
      },
      clickhouse: { url: clickhouseEnv().url, database: s.database, table: 'orders' },
    };
  });
  afterAll(async () => {
    await s.cql?.execute(`DROP KEYSPACE IF EXISTS ${s.keyspace}`).catch(() => undefined);
    await s.cql?.shutdown();
    await s.ch?.command({ query: `DROP DATABASE IF EXISTS ${s.database}` }).catch(() => undefined);
    await s.ch?.close();
    await s.nc?.close();
  });
  return s;
}
