// A Sink's Ready reason through the operator, against the real kube-apiserver, Cassandra and
// ClickHouse: each way a probe fails shows as Ready=False with the reason a user alerts on, and the
// ones a user must fix are announced with a Warning Event.
import { randomUUID } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import type { Sink } from '../../../api/generated/types.js';
import type { Operator } from '../../../operator/manager.js';
import { ensureSchema } from '../../../runtime/sinks/probe.js';
import { cassandraEnv, clickhouseEnv, kubeEnv, natsEnv } from '../../stack/context.js';
import { adminConfig } from '../../support/kube.js';
import {
  createNamespace,
  eventually,
  installCrds,
  startTestOperator,
  testOptions,
} from '../../support/operator.js';

const suffix = randomUUID().slice(0, 8);
const ns = `op-reasons-${suffix}`;
const database = `op_reasons_${suffix}`;
const group = 'eventrunner.io';
const version = 'v1alpha1';
const amount = (type: string) => [{ name: 'amount', type, from: '/data/amount' }];

type Condition = { type: string; status: string; reason: string; message: string };

describe('Sink Ready reasons through the operator', () => {
  let custom: CustomObjectsApi;
  let core: CoreV1Api;
  let operator: Operator;

  const sink = (name: string, spec: object) =>
    custom.createNamespacedCustomObject({
      group,
      version,
      namespace: ns,
      plural: 'sinks',
      body: { apiVersion: `${group}/${version}`, kind: 'Sink', metadata: { name }, spec },
    });
  const ready = (name: string) =>
    eventually(
      `Sink ${name} Ready`,
      async () => {
        const s = (await custom.getNamespacedCustomObject({
          group,
          version,
          namespace: ns,
          plural: 'sinks',
          name,
        })) as Sink;
        const c = s.status?.conditions?.find((c) => c.type === 'Ready') as Condition | undefined;
        return c && c.status !== 'Unknown' ? c : undefined;
      },
      60_000,
    );
  const clickhouse = (table: string, extra: object = {}) => ({
    url: clickhouseEnv().url,
    database,
    table,
    manageSchema: false,
    ...extra,
  });

  beforeAll(async () => {
    const kc = adminConfig(kubeEnv().kubeconfig);
    await installCrds(kc);
    await createNamespace(kc, ns);
    custom = kc.makeApiClient(CustomObjectsApi);
    core = kc.makeApiClient(CoreV1Api);
    // A table made by an earlier version of the Sink, with amount as text.
    await ensureSchema({
      clickhouse: { url: clickhouseEnv().url, database, table: 'legacy' },
      columns: [{ name: 'amount', type: 'text', from: '/data/amount' }],
    });
    operator = await startTestOperator(
      kc,
      testOptions(natsEnv().url, {
        watchNamespace: ns,
        resyncMs: 2000,
        logLevel: process.env.OPERATOR_LOG ?? 'warn',
      }),
    );
  });

  afterAll(async () => {
    await operator?.stop();
    await fetch(`${clickhouseEnv().url}/`, {
      method: 'POST',
      body: `DROP DATABASE IF EXISTS ${database}`,
    }).catch(() => undefined);
  });

  it('says AuthenticationFailed for credentials the server refuses, with a Warning Event', async () => {
    const cql = cassandraEnv();
    await core.createNamespacedSecret({
      namespace: ns,
      body: { metadata: { name: 'wrong' }, stringData: { username: cql.username, password: 'not-it' } },
    });
    await core.createNamespacedSecret({
      namespace: ns,
      body: { metadata: { name: 'ch-wrong' }, stringData: { username: 'default', password: 'not-it' } },
    });
    const ref = (name: string) => ({ name, usernameKey: 'username', passwordKey: 'password' });
    await sink('cql-auth', {
      scylla: {
        contactPoints: [cql.contactPoint],
        localDataCenter: cql.localDataCenter,
        keyspace: database,
        table: 'orders',
        consistency: 'ONE',
        credentialsSecretRef: ref('wrong'),
        manageSchema: true,
      },
    });
    await sink('ch-auth', { clickhouse: clickhouse('orders', { credentialsSecretRef: ref('ch-wrong') }) });
    for (const name of ['cql-auth', 'ch-auth'])
      expect(await ready(name)).toMatchObject({ status: 'False', reason: 'AuthenticationFailed' });
    const events = await eventually('Warning Event for ch-auth', async () => {
      const list = await core.listNamespacedEvent({
        namespace: ns,
        fieldSelector: 'involvedObject.name=ch-auth',
      });
      return list.items.length ? list.items : undefined;
    });
    expect(events.map((e) => [e.type, e.reason])).toContainEqual(['Warning', 'AuthenticationFailed']);
  });

  it('says TableNotFound and SchemaMismatch for the table manageSchema leaves alone', async () => {
    await sink('ch-missing', { clickhouse: clickhouse('absent'), columns: amount('double') });
    await sink('ch-legacy', { clickhouse: clickhouse('legacy'), columns: amount('double') });
    expect(await ready('ch-missing')).toMatchObject({
      status: 'False',
      reason: 'TableNotFound',
      message: `table ${database}.absent does not exist (set manageSchema to create it)`,
    });
    expect(await ready('ch-legacy')).toMatchObject({
      status: 'False',
      reason: 'SchemaMismatch',
      message: `table ${database}.legacy: column amount is Nullable(String), want Nullable(Float64)`,
    });
  });

  it('says ConnectionFailed for a closed port', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    await sink('ch-down', { clickhouse: clickhouse('orders', { url: `http://127.0.0.1:${port}` }) });
    const c = await ready('ch-down');
    expect(c).toMatchObject({ status: 'False', reason: 'ConnectionFailed' });
    expect(c.message).toContain(`ECONNREFUSED 127.0.0.1:${port}`);
  });
});
