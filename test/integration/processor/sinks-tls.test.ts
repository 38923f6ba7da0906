// Sink TLS against the stack's real TLS endpoints: Cassandra's TLS-only native port and
// ClickHouse's https_port, both with a certificate signed by the CA of this stack start. Rows are
// written over TLS and read back over the plaintext endpoints; a CA that did not sign the server
// certificate, system roots, skip-verify and plaintext/TLS mix-ups each end as the user would expect.
import { mkdtempSync, readFileSync } from 'node:fs';
import { get } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ensureSchema,
  isSinkConfigError,
  openSink,
  probeSink,
  readCredentials,
  type CredentialFiles,
  type SinkCredentials,
  type SinkEvent,
  type SinkSpec,
} from '../../../runtime/sinks/index.js';
import { cassandraEnv, clickhouseEnv, natsEnv } from '../../stack/context.js';
import { HandshakeTimeoutAgent } from '../../../runtime/sinks/tls.js';
import { makeCa } from '../../stack/tls.js';
import { cassandraIds, clickhouseIds } from './checks.js';
import { processConfig, shopEvents, expected } from './fixtures.js';
import { useStackTargets } from './stack-targets.js';
import {
  names,
  natsSetup,
  publish,
  secretFiles,
  startProcess,
  stopProcess,
  waitFor,
  writeConfig,
} from './support.js';

const stack = useStackTargets('tls');

/** PEM of a CA that signed nothing the stack serves. */
let otherCa: string;
beforeAll(() => {
  otherCa = readFileSync(makeCa(mkdtempSync(join(tmpdir(), 'eventrunner-other-ca-')), 'other'), 'utf8');
});

function events(n: number, prefix: string): SinkEvent[] {
  return Array.from({ length: n }, (_, i) => ({
    specversion: '1.0',
    id: `${prefix}-${i}`,
    type: 'com.shop.order.created',
    source: '/shop',
    time: '2024-03-01T10:00:00Z',
    data: { amount: i },
  }));
}

/** Opens the sink, writes `n` events through it and checks every one was accepted. */
async function writeAll(spec: SinkSpec, credentials: SinkCredentials | undefined, n: number, prefix: string) {
  const sink = await openSink(spec, credentials);
  try {
    expect(await sink.write(events(n, prefix))).toEqual(new Array(n).fill(undefined));
  } finally {
    await sink.close();
  }
}

const untrusted = (field: string) =>
  new RegExp(
    `TLS certificate problem: the server's certificate is not signed by a CA the Sink trusts: set ${field}`,
  );

describe('Cassandra sink over TLS', () => {
  const env = () => cassandraEnv();
  const creds = (ca?: string): SinkCredentials => ({
    username: env().username,
    password: env().password,
    ...(ca !== undefined ? { ca } : {}),
  });
  const stackCa = () => readFileSync(env().caFile, 'utf8');
  const spec = (
    table: string,
    tls: NonNullable<SinkSpec['scylla']>['tls'],
    contactPoint = env().tlsContactPoint,
  ): SinkSpec => ({
    scylla: {
      contactPoints: [contactPoint],
      localDataCenter: env().localDataCenter,
      keyspace: stack.keyspace,
      table,
      consistency: 'LOCAL_ONE',
      manageSchema: true,
      replicationFactor: 1,
      tls,
    },
  });

  it('creates the schema, probes and writes on the TLS-only port, verifying against the CA bundle', async () => {
    const s = spec('verified', { enabled: true });
    expect(await ensureSchema(s, creds(stackCa()))).toContain(`created table ${stack.keyspace}.verified`);
    const probe = await probeSink(s, creds(stackCa()));
    expect(probe).toMatchObject({ ok: true, reason: 'Reachable', target: `${stack.keyspace}.verified` });
    expect(probe.serverVersion).toMatch(/^5\./);
    await writeAll(s, creds(stackCa()), 25, 'verified');
    const ids = await cassandraIds(stack.cql, stack.keyspace, 'verified');
    expect([...ids].sort()).toEqual(
      events(25, 'verified')
        .map((e) => e.id)
        .sort(),
    );
  });

  it('refuses a server certificate from another CA or the system roots, naming the field to fix', async () => {
    await ensureSchema(spec('refused', { enabled: true }), creds(stackCa()));
    for (const ca of [otherCa, undefined]) {
      const probe = await probeSink(spec('refused', { enabled: true }), creds(ca));
      expect(probe).toMatchObject({ ok: false, reason: 'Misconfigured' });
      expect(probe.message).toMatch(untrusted('spec.scylla.tls.caSecretRef'));
      const err = await openSink(spec('refused', { enabled: true }), creds(ca)).catch((e: unknown) => e);
      expect(isSinkConfigError(err)).toBe(true);
      expect((err as Error).message).toMatch(untrusted('spec.scylla.tls.caSecretRef'));
    }
    expect((await cassandraIds(stack.cql, stack.keyspace, 'refused')).size).toBe(0);
  });

  it('connects without a CA when insecureSkipVerify says so', async () => {
    const s = spec('skipverify', { enabled: true, insecureSkipVerify: true });
    await writeAll(s, creds(), 5, 'skip');
    expect((await cassandraIds(stack.cql, stack.keyspace, 'skipverify')).size).toBe(5);
    expect(await probeSink(s, creds())).toMatchObject({ ok: true, reason: 'Reachable' });
  });

  it('keeps plaintext and TLS apart: each fails on the other port, TLS settings without enabled are refused', async () => {
    // The TLS-only port resets a plaintext client; a reset is also what an outage looks like, so
    // the probe reports the server unreachable and adds what to check.
    const plainOnTls = await probeSink(spec('verified', { enabled: false }), creds());
    expect(plainOnTls).toMatchObject({ ok: false, reason: 'Unreachable' });
    expect(plainOnTls.message).toMatch(/if this port only takes TLS, set spec\.scylla\.tls\.enabled: true/);
    const tlsOnPlain = await probeSink(
      spec('verified', { enabled: true }, env().contactPoint),
      creds(stackCa()),
    );
    expect(tlsOnPlain).toMatchObject({ ok: false, reason: 'Misconfigured' });
    expect(tlsOnPlain.message).toMatch(
      /TLS handshake problem: the server did not answer with TLS: point spec\.scylla\.contactPoints at its TLS port, or set spec\.scylla\.tls\.enabled: false/,
    );
    const caWithoutTls = await probeSink(spec('verified', { enabled: false }), creds(stackCa()));
    expect(caWithoutTls).toMatchObject({ ok: false, reason: 'Misconfigured' });
    expect(caWithoutTls.message).toMatch(/spec\.scylla\.tls\.enabled is false, but tls\.caSecretRef is set/);
  });
});

describe('ClickHouse sink over TLS', () => {
  const env = () => clickhouseEnv();
  // The stack's default user has no password; credentials carry the CA.
  const creds = (ca?: string): SinkCredentials => ({
    username: 'default',
    password: '',
    ...(ca !== undefined ? { ca } : {}),
  });
  const stackCa = () => readFileSync(env().caFile, 'utf8');
  const spec = (
    table: string,
    tls: NonNullable<SinkSpec['clickhouse']>['tls'],
    url = env().httpsUrl,
  ): SinkSpec => ({
    clickhouse: { url, database: stack.database, table, manageSchema: true, tls },
  });

  it('creates the schema, probes and writes over https, verifying against the CA bundle', async () => {
    const s = spec('verified', { enabled: true });
    expect(await ensureSchema(s, creds(stackCa()))).toEqual([`created table ${stack.database}.verified`]);
    const probe = await probeSink(s, creds(stackCa()));
    expect(probe).toMatchObject({ ok: true, reason: 'Reachable', serverVersion: env().version });
    await writeAll(s, creds(stackCa()), 25, 'verified');
    const { ids } = await clickhouseIds(stack.ch, stack.database, 'verified');
    expect([...ids].sort()).toEqual(
      events(25, 'verified')
        .map((e) => e.id)
        .sort(),
    );
  });

  it('refuses a server certificate from another CA or the system roots, naming the field to fix', async () => {
    await ensureSchema(spec('refused', { enabled: true }), creds(stackCa()));
    // An https:// URL alone means TLS with the system roots.
    for (const [tls, ca] of [
      [{ enabled: true }, otherCa],
      [undefined, undefined],
    ] as const) {
      const probe = await probeSink(spec('refused', tls), creds(ca));
      expect(probe).toMatchObject({ ok: false, reason: 'Misconfigured' });
      expect(probe.message).toMatch(untrusted('spec.clickhouse.tls.caSecretRef'));
      const err = await openSink(spec('refused', tls), creds(ca)).catch((e: unknown) => e);
      expect(isSinkConfigError(err)).toBe(true);
      expect((err as Error).message).toMatch(untrusted('spec.clickhouse.tls.caSecretRef'));
    }
    expect((await clickhouseIds(stack.ch, stack.database, 'refused')).finalCount).toBe(0);
  });

  it('connects without a CA when insecureSkipVerify says so', async () => {
    const s = spec('skipverify', { enabled: true, insecureSkipVerify: true });
    await writeAll(s, undefined, 5, 'skip');
    expect((await clickhouseIds(stack.ch, stack.database, 'skipverify')).finalCount).toBe(5);
    expect(await probeSink(s)).toMatchObject({ ok: true, reason: 'Reachable' });
  });

  it('keeps a verified keep-alive connection open past the handshake limit', async () => {
    const agent = new HandshakeTimeoutAgent({ keepAlive: true, maxSockets: 1, ca: stackCa() }, 200);
    const ping = () =>
      new Promise<{ body: string; reused: boolean }>((resolve, reject) => {
        const req = get(`${env().httpsUrl}/ping`, { agent }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (body += c));
          res.on('end', () => resolve({ body, reused: req.reusedSocket }));
        });
        req.on('error', reject);
      });
    try {
      expect(await ping()).toEqual({ body: 'Ok.\n', reused: false });
      // Past the limit (the server keeps connections for 10 s): the timer stopped at the handshake.
      await new Promise((r) => setTimeout(r, 500));
      expect(await ping()).toEqual({ body: 'Ok.\n', reused: true });
    } finally {
      agent.destroy();
    }
  });

  it('keeps http and https apart: each fails on the other port, TLS settings on http:// are refused', async () => {
    const httpOnHttps = await probeSink(
      spec('verified', undefined, env().httpsUrl.replace('https:', 'http:')),
    );
    expect(httpOnHttps).toMatchObject({ ok: false, reason: 'Unreachable' });
    expect(httpOnHttps.message).toMatch(/if this is the server's https_port, use an https:\/\/ URL/);
    const httpsOnHttp = await probeSink(
      spec('verified', { enabled: true }, env().url.replace('http:', 'https:')),
      creds(stackCa()),
    );
    expect(httpsOnHttp).toMatchObject({ ok: false, reason: 'Misconfigured' });
    expect(httpsOnHttp.message).toMatch(
      /TLS handshake problem: the server did not answer with TLS: point spec\.clickhouse\.url at its https_port, or use http:\/\//,
    );
    const tlsOnHttp = await probeSink(spec('verified', { enabled: true }, env().url), creds(stackCa()));
    expect(tlsOnHttp).toMatchObject({ ok: false, reason: 'Misconfigured' });
    expect(tlsOnHttp.message).toMatch(
      /spec\.clickhouse\.tls\.enabled, tls\.caSecretRef ask for TLS.*use https:\/\//,
    );
  });
});

describe('eventrunner process with TLS sinks', () => {
  it('writes every routed event over TLS with the CA files of its config', async () => {
    const n = names('tls');
    const { nc } = await natsSetup(natsEnv().url, n, { maxDeliver: 5 });
    const c = cassandraEnv();
    const secret = secretFiles({ username: c.username, password: c.password, chuser: 'default', chpass: '' });
    const config = processConfig(
      {
        ...stack.targets,
        cassandra: { ...stack.targets.cassandra, contactPoint: c.tlsContactPoint, table: 'e2e' },
        clickhouse: { ...stack.targets.clickhouse, url: clickhouseEnv().httpsUrl, table: 'e2e' },
      },
      n,
    ) as { outputs: { sink: SinkSpec; credentials?: CredentialFiles }[] };
    const [store, analytics] = config.outputs;
    store!.sink.scylla!.tls = { enabled: true };
    store!.credentials = { ...store!.credentials!, caFile: c.caFile };
    analytics!.sink.clickhouse!.tls = { enabled: true };
    analytics!.credentials = {
      usernameFile: secret.chuser!,
      passwordFile: secret.chpass!,
      caFile: clickhouseEnv().caFile,
    };
    // The processor reads the same files; check they load as the sinks need them.
    expect((await readCredentials(store!.credentials)).ca).toMatch(/BEGIN CERTIFICATE/);

    const shop = shopEvents(60);
    const want = expected(shop);
    const proc = await startProcess(writeConfig(config));
    try {
      await publish(
        nc,
        n.prefix,
        shop.map((e) => e.event),
      );
      await waitFor(
        async () => {
          const [rowsStore, rowsAnalytics] = await Promise.all([
            cassandraIds(stack.cql, stack.keyspace, 'e2e').catch(() => new Set<string>()),
            clickhouseIds(stack.ch, stack.database, 'e2e').catch(() => ({ ids: new Set<string>() })),
          ]);
          return rowsStore.size === want.store.size && rowsAnalytics.ids.size === want.analytics.size;
        },
        60_000,
        'every routed event in both TLS sinks',
      );
      expect(await cassandraIds(stack.cql, stack.keyspace, 'e2e')).toEqual(want.store);
      expect((await clickhouseIds(stack.ch, stack.database, 'e2e')).ids).toEqual(want.analytics);
      expect(proc.logs.filter((l) => l.msg === 'Opened sink')).toHaveLength(2);
    } finally {
      const { code } = await stopProcess(proc);
      expect(code).toBe(0);
      await nc.close();
    }
  });
});
