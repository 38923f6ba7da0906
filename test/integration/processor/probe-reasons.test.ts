// Why a probe fails, against the stack's real Cassandra (PasswordAuthenticator on) and ClickHouse:
// every cause a Sink's Ready reason names comes from the drivers' error classes and codes, and
// each is produced here by the server itself: wrong credentials, a missing table, a table whose
// columns differ, a certificate from a CA the Sink does not trust, and a closed port. A table not
// keyed by the event id passes with a warning.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import cassandra from 'cassandra-driver';
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { SinkProbeErrorCode } from '../../../runtime/sinks/errors.js';
import { ensureSchema, probeSink } from '../../../runtime/sinks/probe.js';
import type { ColumnSpec, SinkCredentials, SinkSpec } from '../../../runtime/sinks/types.js';
import { cassandraEnv, clickhouseEnv } from '../../stack/context.js';
import { makeCa } from '../../stack/tls.js';

const amountAs = (type: ColumnSpec['type']): ColumnSpec[] => [{ name: 'amount', type, from: '/data/amount' }];

/** A port on 127.0.0.1 that nothing listens on: bound by the OS, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** PEM of a CA that signed nothing the stack serves. */
let otherCa: string;
beforeAll(() => {
  otherCa = readFileSync(makeCa(mkdtempSync(join(tmpdir(), 'eventrunner-probe-ca-')), 'other'), 'utf8');
});

describe('probe of a Cassandra Sink', () => {
  const env = () => cassandraEnv();
  const keyspace = `probe_${randomUUID().slice(0, 8)}`;
  const login = (): SinkCredentials => ({ username: env().username, password: env().password });
  const spec = (
    table: string,
    extra: Partial<NonNullable<SinkSpec['scylla']>> = {},
    columns = amountAs('double'),
  ): SinkSpec => ({
    scylla: {
      contactPoints: [env().contactPoint],
      localDataCenter: env().localDataCenter,
      keyspace,
      table,
      consistency: 'LOCAL_ONE',
      manageSchema: false,
      replicationFactor: 1,
      ...extra,
    },
    columns,
  });

  beforeAll(async () => {
    await ensureSchema(spec('orders'), login());
    // The same table name with amount as text: what an earlier version of the Sink created.
    await ensureSchema(spec('legacy', {}, amountAs('text')), login());
  });
  afterAll(async () => {
    const cql = new cassandra.Client({
      contactPoints: [env().contactPoint],
      localDataCenter: env().localDataCenter,
      credentials: { username: env().username, password: env().password },
    });
    await cql.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`).catch(() => undefined);
    await cql.shutdown();
  });

  it('passes with the right credentials, table and columns', async () => {
    const probe = await probeSink(spec('orders'), login());
    expect(probe).toMatchObject({ ok: true, reason: 'Reachable', target: `${keyspace}.orders` });
    expect(probe.code).toBeUndefined();
    expect(probe.warning).toBeUndefined();
  });

  it('passes with a warning for a table whose primary key leaves out the id', async () => {
    // The Sink's columns, keyed by source: events from one source would overwrite one another.
    const cql = new cassandra.Client({
      contactPoints: [env().contactPoint],
      localDataCenter: env().localDataCenter,
      credentials: { username: env().username, password: env().password },
    });
    try {
      const rs = await cql.execute(
        'SELECT column_name, type FROM system_schema.columns WHERE keyspace_name = ? AND table_name = ?',
        [keyspace, 'orders'],
      );
      const cols = rs.rows.map((r) => `"${String(r.get('column_name'))}" ${String(r.get('type'))}`);
      await cql.execute(`CREATE TABLE ${keyspace}.by_source (${cols.join(', ')}, PRIMARY KEY ("source"))`);
    } finally {
      await cql.shutdown();
    }
    const probe = await probeSink(spec('by_source'), login());
    expect(probe).toMatchObject({ ok: true, reason: 'Reachable' });
    expect(probe.warning).toBe(
      'primary key (source) does not include id: events with equal keys overwrite one another; a primary key with id (as manageSchema creates) keeps each event once',
    );
  });

  it('says AuthenticationFailed for a wrong password and for no credentials at all', async () => {
    const wrong = await probeSink(spec('orders'), { username: env().username, password: 'not-the-password' });
    expect(wrong).toMatchObject({ ok: false, code: SinkProbeErrorCode.AuthenticationFailed });
    expect(wrong.message).toMatch(/and\/or password are incorrect/);
    expect(wrong.message).not.toContain('not-the-password');
    const none = await probeSink(spec('orders'));
    expect(none).toMatchObject({ ok: false, code: SinkProbeErrorCode.AuthenticationFailed });
  });

  it('says TableNotFound for a missing table or keyspace when manageSchema is off', async () => {
    const table = await probeSink(spec('absent'), login());
    expect(table).toMatchObject({
      ok: false,
      reason: 'Misconfigured',
      code: SinkProbeErrorCode.TableNotFound,
    });
    expect(table.message).toBe(`table ${keyspace}.absent does not exist (set manageSchema to create it)`);
    const ks = await probeSink(
      { ...spec('orders'), scylla: { ...spec('orders').scylla!, keyspace: `${keyspace}_absent` } },
      login(),
    );
    expect(ks).toMatchObject({ ok: false, code: SinkProbeErrorCode.TableNotFound });
  });

  it('says SchemaMismatch for a table whose column has another type', async () => {
    const probe = await probeSink(spec('legacy'), login());
    expect(probe).toMatchObject({ ok: false, code: SinkProbeErrorCode.SchemaMismatch });
    expect(probe.message).toBe(`table ${keyspace}.legacy: column amount is text, want double`);
  });

  it('says TLSFailed when a CA the Sink trusts did not sign the server certificate', async () => {
    const probe = await probeSink(
      spec('orders', { contactPoints: [env().tlsContactPoint], tls: { enabled: true } }),
      { ...login(), ca: otherCa },
    );
    expect(probe).toMatchObject({ ok: false, code: SinkProbeErrorCode.TlsFailed });
    expect(probe.message).toMatch(/TLS certificate problem: .*spec\.scylla\.tls\.caSecretRef/);
  });

  it('says ConnectionFailed for a closed port', async () => {
    const port = await closedPort();
    const probe = await probeSink(spec('orders', { contactPoints: [`127.0.0.1:${port}`] }), login());
    expect(probe).toMatchObject({
      ok: false,
      reason: 'Unreachable',
      code: SinkProbeErrorCode.ConnectionFailed,
    });
    expect(probe.message).toContain(`127.0.0.1:${port}: connect ECONNREFUSED`);
  });

  it('says InvalidSpec for TLS settings that contradict each other', async () => {
    const probe = await probeSink(spec('orders'), { ...login(), ca: otherCa });
    expect(probe).toMatchObject({ ok: false, code: SinkProbeErrorCode.InvalidSpec });
    expect(probe.message).toMatch(/spec\.scylla\.tls\.enabled is false, but tls\.caSecretRef is set/);
  });
});

describe('probe of a ClickHouse Sink', () => {
  const env = () => clickhouseEnv();
  const database = `probe_${randomUUID().slice(0, 8)}`;
  const spec = (
    table: string,
    extra: Partial<NonNullable<SinkSpec['clickhouse']>> = {},
    columns = amountAs('double'),
  ): SinkSpec => ({
    clickhouse: { url: env().url, database, table, manageSchema: false, ...extra },
    columns,
  });
  let ch: ClickHouseClient;

  beforeAll(async () => {
    ch = createClient({ url: env().url });
    await ensureSchema(spec('orders'));
    await ensureSchema(spec('legacy', {}, amountAs('text')));
  });
  afterAll(async () => {
    await ch?.command({ query: `DROP DATABASE IF EXISTS ${database}` }).catch(() => undefined);
    await ch?.close();
  });

  it('passes for the table it created', async () => {
    const probe = await probeSink(spec('orders'));
    expect(probe).toMatchObject({ ok: true, serverVersion: env().version });
    expect(probe.code).toBeUndefined();
    expect(probe.warning).toBeUndefined();
  });

  it('passes with a warning for a table that keeps every write (a plain MergeTree)', async () => {
    await ch.command({
      query: `CREATE TABLE ${database}.plain AS ${database}.orders ENGINE = MergeTree() ORDER BY id`,
    });
    const probe = await probeSink(spec('plain'));
    expect(probe).toMatchObject({ ok: true, reason: 'Reachable' });
    expect(probe.warning).toBe(
      'engine MergeTree keeps every write: a redelivered event becomes a second row; ReplacingMergeTree ORDER BY id (as manageSchema creates) folds them',
    );
  });

  it('says AuthenticationFailed for a wrong password of default and for a user that does not exist', async () => {
    const wrong = await probeSink(spec('orders'), { username: 'default', password: 'not-the-password' });
    expect(wrong).toMatchObject({ ok: false, code: SinkProbeErrorCode.AuthenticationFailed });
    expect(wrong.message).not.toContain('not-the-password');
    expect(wrong.message).toMatch(/Wrong password for user default|default: Authentication failed/);
    expect(wrong.message).not.toMatch(/\n$/);
    const nobody = await probeSink(spec('orders'), { username: 'nobody', password: 'x' });
    expect(nobody).toMatchObject({ ok: false, code: SinkProbeErrorCode.AuthenticationFailed });
  });

  it('says TableNotFound for a missing table or database when manageSchema is off', async () => {
    const table = await probeSink(spec('absent'));
    expect(table).toMatchObject({
      ok: false,
      reason: 'Misconfigured',
      code: SinkProbeErrorCode.TableNotFound,
    });
    expect(table.message).toBe(`table ${database}.absent does not exist (set manageSchema to create it)`);
    const db = await probeSink(spec('orders', { database: `${database}_absent` }));
    expect(db).toMatchObject({ ok: false, code: SinkProbeErrorCode.TableNotFound });
  });

  it('says SchemaMismatch for a table whose column has another type', async () => {
    const probe = await probeSink(spec('legacy'));
    expect(probe).toMatchObject({ ok: false, code: SinkProbeErrorCode.SchemaMismatch });
    expect(probe.message).toBe(
      `table ${database}.legacy: column amount is Nullable(String), want Nullable(Float64)`,
    );
  });

  it('says TLSFailed when a CA the Sink trusts did not sign the server certificate', async () => {
    const probe = await probeSink(spec('orders', { url: env().httpsUrl, tls: { enabled: true } }), {
      ca: otherCa,
    });
    expect(probe).toMatchObject({ ok: false, code: SinkProbeErrorCode.TlsFailed });
    expect(probe.message).toMatch(/TLS certificate problem: .*spec\.clickhouse\.tls\.caSecretRef/);
  });

  it('says ConnectionFailed for a closed port', async () => {
    const port = await closedPort();
    const probe = await probeSink(spec('orders', { url: `http://127.0.0.1:${port}` }));
    expect(probe).toMatchObject({
      ok: false,
      reason: 'Unreachable',
      code: SinkProbeErrorCode.ConnectionFailed,
    });
    expect(probe.message).toMatch(new RegExp(`ECONNREFUSED 127\\.0\\.0\\.1:${port}`));
  });
});
