// The sinks against the stack's real Cassandra and ClickHouse: schema management, typed columns,
// idempotent writes (a rewrite of the same events leaves the row count unchanged), rejection of
// only the invalid rows, and the probe the operator uses.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import cassandra from 'cassandra-driver';
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { murmur3String, useFastMurmur3 } from '../../../runtime/internals/murmur3.js';
import { directPathAvailable, preparedExecutor } from '../../../runtime/internals/cassandra-execute.js';
import { classifyCassandraError } from '../../../runtime/sinks/cassandra-client.js';
import type { CassandraSink } from '../../../runtime/sinks/cassandra.js';
import { cassandraEnv, clickhouseEnv } from '../../stack/context.js';
import {
  ensureSchema,
  isRowRejectedError,
  isSinkConfigError,
  openSink,
  probeSink,
  type ColumnSpec,
  type SinkEvent,
  type SinkSpec,
} from '../../../runtime/sinks/index.js';

const columns: ColumnSpec[] = [
  { name: 'amount', type: 'decimal', from: '/data/amount' },
  { name: 'qty', type: 'int', from: '/data/qty' },
  { name: 'big', type: 'bigint', from: '/data/big' },
  { name: 'paid', type: 'boolean', from: '/data/paid' },
  { name: 'placed', type: 'timestamp', from: '/data/placed' },
  { name: 'day', type: 'date', from: '/data/day' },
  { name: 'customer', type: 'uuid', from: '/data/customer' },
  { name: 'tags', type: 'json', from: '/data/tags' },
  { name: 'country', type: 'text', from: '/data/address/country' },
];

function events(n: number, prefix: string): SinkEvent[] {
  return Array.from({ length: n }, (_, i) => ({
    specversion: '1.0',
    id: `${prefix}-${i}`,
    type: 'com.shop.order.created',
    source: '/shop',
    subject: `order/${i}`,
    time: `2024-03-0${(i % 9) + 1}T10:00:00.123Z`,
    data: {
      amount: `${i}.25`,
      qty: i,
      big: '9007199254740993',
      paid: i % 2 === 0,
      placed: '2024-03-01T10:00:00Z',
      day: '2024-03-01',
      customer: '123e4567-e89b-12d3-a456-426614174000',
      tags: ['a', i],
      address: { country: i % 2 ? 'DE' : 'FR' },
    },
  }));
}

describe('Cassandra sink', () => {
  const env = () => cassandraEnv();
  const creds = () => ({ username: env().username, password: env().password });
  const keyspace = `sinks_${randomUUID().slice(0, 8)}`;
  const spec = (table: string, extra: Partial<NonNullable<SinkSpec['scylla']>> = {}): SinkSpec => ({
    scylla: {
      contactPoints: [env().contactPoint],
      localDataCenter: env().localDataCenter,
      keyspace,
      table,
      consistency: 'LOCAL_QUORUM',
      manageSchema: true,
      replicationFactor: 1,
      ...extra,
    },
    columns,
  });
  let cql: cassandra.Client;
  beforeAll(async () => {
    cql = new cassandra.Client({
      contactPoints: [env().contactPoint],
      localDataCenter: env().localDataCenter,
      credentials: creds(),
    });
    await cql.connect();
  });
  afterAll(async () => {
    await cql?.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`).catch(() => undefined);
    await cql?.shutdown();
  });

  it('creates the schema once, probes it, and reports a missing one', async () => {
    const missing = await probeSink(spec('orders'), creds());
    expect(missing).toMatchObject({ ok: false, reason: 'Misconfigured' });
    expect(missing.message).toMatch(/does not exist/);
    expect(await ensureSchema(spec('orders'), creds())).toEqual([
      `created keyspace ${keyspace}`,
      `created table ${keyspace}.orders`,
    ]);
    expect(await ensureSchema(spec('orders'), creds())).toEqual([]);
    const ok = await probeSink(spec('orders'), creds());
    expect(ok).toMatchObject({ ok: true, reason: 'Reachable', target: `${keyspace}.orders` });
    expect(ok.serverVersion).toMatch(/^5\./);
    const more = {
      ...spec('orders'),
      columns: [...columns, { name: 'note', type: 'text' as const, from: '/data/note' }],
    };
    expect(await ensureSchema(more, creds())).toEqual(['added column note text']);
  });

  it('routes by the token the server computes for the id', async () => {
    const sink = await openSink(spec('tokens'), creds(), { concurrency: 8 });
    try {
      expect(await sink.write(events(40, 't'))).toEqual(new Array(40).fill(undefined));
    } finally {
      await sink.close();
    }
    const rs = await cql.execute(`SELECT id, token(id) AS t FROM ${keyspace}.tokens`);
    expect(rs.rowLength).toBe(40);
    for (const row of rs.rows)
      expect(murmur3String(Buffer.from(row.get('id') as string))).toBe(row.get('t').toString());
    // And the sink's client hashes with it: the driver's tokenizer is the one replaced.
    const client = new cassandra.Client({
      contactPoints: [env().contactPoint],
      localDataCenter: env().localDataCenter,
      credentials: creds(),
    });
    try {
      await client.connect();
      expect(useFastMurmur3(client)).toBe(true);
      const id = Buffer.from('t-1');
      expect(client.getReplicas(keyspace, id)).toHaveLength(1);
    } finally {
      await client.shutdown();
    }
  });

  it('rejects wrong credentials and an unreachable server in the probe', async () => {
    const bad = await probeSink(spec('orders'), { username: env().username, password: 'wrong' });
    expect(bad).toMatchObject({ ok: false, reason: 'Misconfigured' });
    expect(bad.message).not.toContain('wrong');
    const down = await probeSink(
      { ...spec('orders'), scylla: { ...spec('orders').scylla!, contactPoints: ['127.0.0.1:1'] } },
      creds(),
    );
    expect(down).toMatchObject({ ok: false, reason: 'Unreachable' });
    // What each host answered, on one line: no stack trace in a Sink's status.
    expect(down.message).toMatch(/127\.0\.0\.1:1: .*ECONNREFUSED/);
    expect(down.message).not.toContain('\n');
  });

  it('upserts typed rows idempotently and rejects only invalid ones', async () => {
    const sink = await openSink(spec('typed', { ttl: '1h' }), creds(), { concurrency: 16 });
    try {
      const batch = events(50, 'c');
      batch[7]!.data = { qty: 'seven' };
      batch[9]!.data = { customer: 'not-a-uuid' };
      const results = await sink.write(batch);
      const rejected = results.flatMap((r, i) => (r ? [i] : []));
      expect(rejected).toEqual([7, 9]);
      expect(results.every((r) => r === undefined || isRowRejectedError(r))).toBe(true);
      expect(results[7]?.message).toMatch(/qty/);
      // A redelivered batch writes the same rows again: no new rows.
      expect((await sink.write(batch)).filter(Boolean)).toHaveLength(2);
      const count = await cql.execute(`SELECT count(*) FROM ${keyspace}.typed`);
      expect(Number(count.first().get(0))).toBe(48);
      const row = (await cql.execute(`SELECT * FROM ${keyspace}.typed WHERE id = 'c-3'`)).first();
      expect(row.get('type')).toBe('com.shop.order.created');
      expect(row.get('subject')).toBe('order/3');
      expect((row.get('time') as Date).toISOString()).toBe('2024-03-04T10:00:00.123Z');
      expect(JSON.parse(row.get('data') as string)).toMatchObject({ qty: 3 });
      expect(row.get('amount').toString()).toBe('3.25');
      expect(row.get('qty')).toBe(3);
      expect(row.get('big').toString()).toBe('9007199254740993');
      expect(row.get('paid')).toBe(false);
      expect(row.get('day').toString()).toBe('2024-03-01');
      expect(row.get('customer').toString()).toBe('123e4567-e89b-12d3-a456-426614174000');
      expect(row.get('tags')).toBe('["a",3]');
      expect(row.get('country')).toBe('DE');
      const ttl = (await cql.execute(`SELECT TTL(data) FROM ${keyspace}.typed WHERE id = 'c-3'`))
        .first()
        .get(0);
      expect(ttl).toBeGreaterThan(3500);
    } finally {
      await sink.close();
    }
  });

  it('fails to open a sink whose table lacks a column', async () => {
    await ensureSchema(spec('narrow'), creds());
    const wider = {
      ...spec('narrow', { manageSchema: false }),
      columns: [...columns, { name: 'extra', type: 'int' as const, from: '/x' }],
    };
    const err = await openSink(wider, creds()).catch((e: unknown) => e);
    expect(isSinkConfigError(err)).toBe(true);
    expect((err as Error).message).toMatch(/column extra int is missing/);
  });

  it('sends prepared upserts on the direct path with the options, routing and errors of Client.execute', async () => {
    expect(directPathAvailable()).toBe(true);
    const sink = (await openSink(spec('direct', { ttl: '1h' }), creds(), {
      concurrency: 8,
    })) as CassandraSink;
    try {
      expect(await sink.write(events(30, 'd'))).toEqual(new Array(30).fill(undefined));
      // The first writes prepared the statement through Client.execute; the rest went direct.
      expect(sink.execute.direct).toBeGreaterThanOrEqual(30 - 8);
    } finally {
      await sink.close();
    }
    const rows = await cql.execute(
      `SELECT id, token(id) AS t, TTL(data) AS ttl, qty FROM ${keyspace}.direct`,
    );
    expect(rows.rowLength).toBe(30);
    for (const row of rows.rows) {
      expect(murmur3String(Buffer.from(row.get('id') as string))).toBe(row.get('t').toString());
      expect(row.get('ttl')).toBeGreaterThan(3500);
      expect(row.get('qty')).toBe(Number((row.get('id') as string).slice(2)));
    }

    const insert = `INSERT INTO ${keyspace}.direct (id, qty) VALUES (?, ?)`;
    const client = new cassandra.Client({
      contactPoints: [env().contactPoint],
      localDataCenter: env().localDataCenter,
      credentials: creds(),
      queryOptions: { prepare: true, isIdempotent: true },
    });
    try {
      await client.connect();
      const exec = preparedExecutor(client, insert);
      await exec(['x-1', 1]);
      await exec(['x-2', 2]);
      expect(exec.direct).toBe(1);
      // A value the column's type cannot take fails that write only, as a rejected row.
      const bad = await exec(['x-3', 'three']).then(
        () => null,
        (e: unknown) => e,
      );
      expect(exec.direct).toBe(2);
      expect(isRowRejectedError(classifyCassandraError(bad))).toBe(true);
      const got = await client.execute(
        `SELECT id, qty FROM ${keyspace}.direct WHERE id IN ('x-1', 'x-2', 'x-3')`,
      );
      expect(got.rows.map((r) => [r.get('id'), r.get('qty')]).sort()).toEqual([
        ['x-1', 1],
        ['x-2', 2],
      ]);
    } finally {
      await client.shutdown();
    }
    // Shut down: the call fails as Client.execute fails, it does not hang.
    await expect(preparedExecutor(client, insert)(['x-4', 4])).rejects.toThrow();

    // The client's default consistency is the direct path's too: TWO cannot be met with one
    // replica, and the server says so for the direct call as for the first, prepared one.
    const strict = new cassandra.Client({
      contactPoints: [env().contactPoint],
      localDataCenter: env().localDataCenter,
      credentials: creds(),
      queryOptions: { prepare: true, consistency: cassandra.types.consistencies.two },
    });
    try {
      await strict.connect();
      const exec = preparedExecutor(strict, insert);
      const errs: unknown[] = [];
      for (const id of ['y-1', 'y-2'])
        errs.push(
          await exec([id, 1]).then(
            () => null,
            (e: unknown) => e,
          ),
        );
      expect(exec.direct).toBe(1);
      // The retry policy tries the next host on Unavailable; with one host, that ends the plan.
      for (const e of errs) {
        expect(e).toBeInstanceOf(cassandra.errors.NoHostAvailableError);
        const inner = Object.values((e as { innerErrors: Record<string, unknown> }).innerErrors);
        expect(inner).toHaveLength(1);
        expect(inner[0]).toBeInstanceOf(cassandra.errors.ResponseError);
        expect((inner[0] as { code: number }).code).toBe(
          cassandra.types.responseErrorCodes.unavailableException,
        );
      }
    } finally {
      await strict.shutdown();
    }
  });
});

describe('ClickHouse sink', () => {
  const database = `sinks_${randomUUID().slice(0, 8)}`;
  const spec = (table: string, manageSchema = true): SinkSpec => ({
    clickhouse: { url: clickhouseEnv().url, database, table, manageSchema },
    columns,
  });
  let ch: ClickHouseClient;
  const rows = async <T>(query: string) => (await ch.query({ query, format: 'JSONEachRow' })).json<T>();
  beforeAll(() => {
    ch = createClient({ url: clickhouseEnv().url });
  });
  afterAll(async () => {
    await ch?.command({ query: `DROP DATABASE IF EXISTS ${database}` }).catch(() => undefined);
    await ch?.close();
  });

  it('creates a ReplacingMergeTree keyed by id for the server version', async () => {
    expect(await ensureSchema(spec('orders'))).toEqual([`created table ${database}.orders`]);
    expect(await ensureSchema(spec('orders'))).toEqual([]);
    const probe = await probeSink(spec('orders'));
    expect(probe).toMatchObject({ ok: true, serverVersion: clickhouseEnv().version });
    const [t] = await rows<{ engine: string; sorting_key: string }>(
      `SELECT engine, sorting_key FROM system.tables WHERE database = '${database}' AND name = 'orders'`,
    );
    expect(t).toEqual({ engine: 'ReplacingMergeTree', sorting_key: 'id' });
    const missing = await probeSink(spec('absent', false));
    expect(missing).toMatchObject({ ok: false, reason: 'Misconfigured' });
    const down = await probeSink({
      ...spec('orders'),
      clickhouse: { ...spec('orders').clickhouse!, url: 'http://127.0.0.1:1' },
    });
    expect(down).toMatchObject({ ok: false, reason: 'Unreachable' });
    // One line, no stack trace: it goes into the Sink's status.
    expect(down.message).toMatch(/ECONNREFUSED 127\.0\.0\.1:1/);
    expect(down.message).not.toContain('\n');
  });

  it('writes typed rows, collapses a rewritten batch by id, and isolates rows the server rejects', async () => {
    const sink = await openSink(spec('typed'));
    try {
      const batch = events(40, 'h');
      batch[5]!.data = { qty: 1.5 }; // rejected by the client-side conversion
      (batch[11]!.data as Record<string, unknown>).amount = '1e40'; // rejected by the server (Decimal overflow)
      const results = await sink.write(batch);
      expect(results.flatMap((r, i) => (r ? [i] : []))).toEqual([5, 11]);
      expect(isRowRejectedError(results[11])).toBe(true);
      expect(results[11]?.message).toMatch(/Decimal|too big/i);
      await sink.write(batch);
      const [count] = await rows<{ c: string }>(`SELECT count() AS c FROM ${database}.typed FINAL`);
      expect(Number(count?.c)).toBe(38);
      const [row] = await rows<Record<string, unknown>>(
        `SELECT id, subject, time_text, data, toString(amount) AS amount, qty, big, paid, toString(day) AS day,
                toString(customer) AS customer, tags, country, toString(placed) AS placed, toString(time) AS t
         FROM ${database}.typed FINAL WHERE id = 'h-3'`,
      );
      expect(row).toMatchObject({
        id: 'h-3',
        subject: 'order/3',
        time_text: '2024-03-04T10:00:00.123Z',
        amount: expect.stringMatching(/^3\.250*$/),
        qty: 3,
        big: '9007199254740993',
        paid: 0,
        day: '2024-03-01',
        customer: '123e4567-e89b-12d3-a456-426614174000',
        tags: '["a",3]',
        country: 'DE',
        placed: expect.stringMatching(/^2024-03-01 10:00:00/),
        t: expect.stringMatching(/^2024-03-04 10:00:00/),
      });
      expect(JSON.parse(row!.data as string)).toMatchObject({ qty: 3 });
    } finally {
      await sink.close();
    }
  });
});
