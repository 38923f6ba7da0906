// Proof that the test stack's Cassandra speaks CQL: keyspace and table created, rows inserted with
// a prepared statement, read back, and an upsert on the same key leaves one row.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import cassandra from 'cassandra-driver';
import { cassandraEnv } from '../../stack/context.js';

describe('Cassandra from the test stack', () => {
  let client: cassandra.Client;
  beforeAll(async () => {
    const env = cassandraEnv();
    client = new cassandra.Client({
      contactPoints: [env.contactPoint],
      localDataCenter: env.localDataCenter,
      credentials: { username: env.username, password: env.password },
    });
    await client.connect();
  });
  afterAll(async () => {
    await client?.shutdown();
  });

  it('creates a keyspace and table, inserts, upserts and selects', async () => {
    const version = (await client.execute('SELECT release_version FROM system.local'))
      .first()
      ?.get(0) as string;
    expect(version).toMatch(/^5\.0\./);
    await client.execute(
      "CREATE KEYSPACE IF NOT EXISTS proof WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}",
    );
    await client.execute(
      'CREATE TABLE IF NOT EXISTS proof.events (id text PRIMARY KEY, type text, amount double)',
    );
    const insert = 'INSERT INTO proof.events (id, type, amount) VALUES (?, ?, ?)';
    for (let i = 0; i < 5; i++) {
      await client.execute(insert, [`e-${i}`, 'order', i * 1.5], { prepare: true });
    }
    await client.execute(insert, ['e-0', 'order', 99], { prepare: true });
    const rs = await client.execute('SELECT id, amount FROM proof.events');
    const rows = new Map(rs.rows.map((r) => [r.get('id') as string, r.get('amount') as number]));
    expect(rows.size).toBe(5);
    expect(rows.get('e-0')).toBe(99);
    expect(rows.get('e-4')).toBe(6);
  });

  it('rejects wrong credentials', async () => {
    const env = cassandraEnv();
    const bad = new cassandra.Client({
      contactPoints: [env.contactPoint],
      localDataCenter: env.localDataCenter,
      credentials: { username: env.username, password: 'wrong' },
    });
    await expect(bad.connect()).rejects.toThrow(/[Aa]uthentication|credentials|password/);
    await bad.shutdown();
  });
});
