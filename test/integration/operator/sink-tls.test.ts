// A Sink's tls.caSecretRef through the operator, against the real kube-apiserver and the stack's
// TLS endpoints (ClickHouse's https_port, Cassandra's TLS-only native port): the probe trusts the
// CA from the Secret, says which Secret or certificate is wrong, and the processor Deployment
// mounts the CA key, points its config at it and rolls when the CA or the credentials are rotated.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppsV1Api, CoreV1Api, CustomObjectsApi, type V1Deployment } from '@kubernetes/client-node';
import { parse as parseYaml } from 'yaml';
import type { Sink } from '../../../api/generated/types.js';
import type { Operator } from '../../../operator/manager.js';
import { checkConfig } from '../../../runtime/process/config.js';
import { cassandraEnv, clickhouseEnv, kubeEnv, natsEnv } from '../../stack/context.js';
import { makeCa } from '../../stack/tls.js';
import { adminConfig } from '../../support/kube.js';
import {
  createNamespace,
  eventually,
  installCrds,
  startTestOperator,
  testOptions,
} from '../../support/operator.js';

const ns = `op-tls-${Date.now().toString(36)}`;
const group = 'eventrunner.io';
const version = 'v1alpha1';

type Condition = { type: string; status: string; reason: string; message: string };

describe('operator with TLS Sinks', () => {
  let custom: CustomObjectsApi;
  let apps: AppsV1Api;
  let core: CoreV1Api;
  let operator: Operator;
  /** PEM of a CA that signed nothing the stack serves. */
  let otherCa: string;

  const create = (plural: string, kind: string, name: string, spec: object) =>
    custom.createNamespacedCustomObject({
      group,
      version,
      namespace: ns,
      plural,
      body: { apiVersion: `${group}/${version}`, kind, metadata: { name }, spec },
    });
  const secret = (name: string, data: Record<string, string>) =>
    core.createNamespacedSecret({ namespace: ns, body: { metadata: { name }, stringData: data } });
  const clickhouseSink = (name: string, caSecretRef?: object) =>
    create('sinks', 'Sink', name, {
      clickhouse: {
        url: clickhouseEnv().httpsUrl,
        database: 'op_tls',
        table: name.replace(/-/g, '_'),
        manageSchema: true,
        tls: { enabled: true, ...(caSecretRef ? { caSecretRef } : {}) },
      },
    });
  /** The Sink's Ready condition once `done` accepts it. */
  const ready = (name: string, done: (c: Condition) => boolean, timeoutMs = 30_000) =>
    eventually(
      `Sink ${name} Ready`,
      async () => {
        const sink = (await custom.getNamespacedCustomObject({
          group,
          version,
          namespace: ns,
          plural: 'sinks',
          name,
        })) as Sink;
        const c = sink.status?.conditions?.find((c) => c.type === 'Ready') as Condition | undefined;
        return c && done(c) ? c : undefined;
      },
      timeoutMs,
    );
  const hash = (d: V1Deployment) => d.spec?.template.metadata?.annotations?.['eventrunner.io/config-hash'];
  const processor = () => apps.readNamespacedDeployment({ name: 'events-processor', namespace: ns });

  beforeAll(async () => {
    const kc = adminConfig(kubeEnv().kubeconfig);
    await installCrds(kc);
    await createNamespace(kc, ns);
    custom = kc.makeApiClient(CustomObjectsApi);
    apps = kc.makeApiClient(AppsV1Api);
    core = kc.makeApiClient(CoreV1Api);
    otherCa = readFileSync(makeCa(mkdtempSync(join(tmpdir(), 'eventrunner-other-ca-')), 'other'), 'utf8');
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
  });

  it('probes ClickHouse over https trusting the CA from the Secret, without credentials', async () => {
    await secret('ch-ca', { 'ca.crt': readFileSync(clickhouseEnv().caFile, 'utf8') });
    await clickhouseSink('events-ch', { name: 'ch-ca' });
    const c = await ready('events-ch', (c) => c.status !== 'Unknown');
    expect(c).toMatchObject({ status: 'True', reason: 'ProbeSucceeded' });
    const exists = await fetch(
      `${clickhouseEnv().url}/?query=${encodeURIComponent('EXISTS TABLE op_tls.events_ch')}`,
    );
    expect((await exists.text()).trim()).toBe('1');
  });

  it('probes Cassandra on its TLS port with credentials and a CA under a key of its own', async () => {
    const cql = cassandraEnv();
    await secret('cql', { username: cql.username, password: cql.password });
    await secret('cql-ca', { 'bundle.pem': readFileSync(cql.caFile, 'utf8') });
    await create('sinks', 'Sink', 'events-cql', {
      scylla: {
        contactPoints: [cql.tlsContactPoint],
        localDataCenter: cql.localDataCenter,
        keyspace: 'op_tls',
        table: 'events',
        consistency: 'ONE',
        credentialsSecretRef: { name: 'cql', usernameKey: 'username', passwordKey: 'password' },
        manageSchema: true,
        tls: { enabled: true, caSecretRef: { name: 'cql-ca', key: 'bundle.pem' } },
      },
    });
    const c = await ready('events-cql', (c) => c.status !== 'Unknown', 60_000);
    expect(c).toMatchObject({ status: 'True', reason: 'ProbeSucceeded' });
  });

  it('names the certificate problem when the Secret holds a CA that did not sign the server', async () => {
    await secret('other-ca', { 'ca.crt': otherCa });
    await clickhouseSink('wrong-ca', { name: 'other-ca' });
    const c = await ready('wrong-ca', (c) => c.status !== 'Unknown');
    expect(c).toMatchObject({ status: 'False', reason: 'TLSFailed' });
    expect(c.message).toMatch(
      /TLS certificate problem: the server's certificate is not signed by a CA the Sink trusts: set spec\.clickhouse\.tls\.caSecretRef/,
    );
  });

  it('names the missing Secret and key, and recovers once the Secret exists', async () => {
    await clickhouseSink('late-ca', { name: 'late-ca', key: 'chain.pem' });
    const missing = await ready('late-ca', (c) => c.status !== 'Unknown');
    expect(missing).toMatchObject({ status: 'False', reason: 'SecretNotFound' });
    expect(missing.message).toMatch(
      /^Secret late-ca with the CA bundle \(key chain\.pem\) of spec\.clickhouse\.tls\.caSecretRef does not exist/,
    );

    await secret('late-ca', { 'ca.crt': readFileSync(clickhouseEnv().caFile, 'utf8') });
    const noKey = await ready('late-ca', (c) => c.message !== missing.message);
    expect(noKey).toMatchObject({ status: 'False', reason: 'SecretNotFound' });
    expect(noKey.message).toMatch(/Secret late-ca has no key chain\.pem/);

    await core.patchNamespacedSecret({
      name: 'late-ca',
      namespace: ns,
      body: [
        { op: 'add', path: '/data/chain.pem', value: Buffer.from('not a certificate').toString('base64') },
      ],
    });
    const notPem = await ready('late-ca', (c) => c.message !== noKey.message);
    expect(notPem).toMatchObject({ status: 'False', reason: 'TLSFailed' });
    expect(notPem.message).toMatch(/key chain\.pem of Secret late-ca .* holds no PEM certificate/);

    await core.patchNamespacedSecret({
      name: 'late-ca',
      namespace: ns,
      body: [
        {
          op: 'replace',
          path: '/data/chain.pem',
          value: readFileSync(clickhouseEnv().caFile).toString('base64'),
        },
      ],
    });
    expect(await ready('late-ca', (c) => c.status === 'True')).toMatchObject({ reason: 'ProbeSucceeded' });
  });

  it('mounts the CA into the processors, points caFile at it and rolls them when the CA or credentials rotate', async () => {
    await create('eventsources', 'EventSource', 'events', { ingest: { auth: { enabled: false } } });
    await create('pipelines', 'Pipeline', 'events', {
      sources: [{ eventSource: 'events' }],
      rules: 'rule All "everything" { when true then Route("analytics"); Route("store"); }',
      outputs: [
        { name: 'analytics', sink: 'events-ch' },
        { name: 'store', sink: 'events-cql' },
      ],
      replicas: 1,
    });
    const d = await eventually('processor Deployment', processor);
    const pod = d.spec!.template.spec!;
    const volumes = pod.volumes!.map((v) => [
      v.name,
      v.secret?.secretName,
      v.secret?.items?.map((i) => `${i.key}→${i.path}`),
    ]);
    expect(volumes).toEqual(
      expect.arrayContaining([
        ['ca-events-ch', 'ch-ca', ['ca.crt→ca.crt']],
        ['ca-events-cql', 'cql-ca', ['bundle.pem→ca.crt']],
      ]),
    );
    const mounts = pod.containers[0]!.volumeMounts!.map((m) => [m.name, m.mountPath, m.readOnly]);
    expect(mounts).toEqual(
      expect.arrayContaining([
        ['ca-events-ch', '/etc/eventrunner/tls/events-ch', true],
        ['ca-events-cql', '/etc/eventrunner/tls/events-cql', true],
      ]),
    );
    const cm = await core.readNamespacedConfigMap({ name: 'events-processor-config', namespace: ns });
    const config = checkConfig(parseYaml(cm.data!['config.yaml']!), 'config.yaml');
    expect(config.outputs.map((o) => [o.name, o.credentials])).toEqual([
      ['analytics', { caFile: '/etc/eventrunner/tls/events-ch/ca.crt' }],
      [
        'store',
        {
          usernameFile: '/etc/eventrunner/sinks/events-cql/username',
          passwordFile: '/etc/eventrunner/sinks/events-cql/password',
          caFile: '/etc/eventrunner/tls/events-cql/ca.crt',
        },
      ],
    ]);

    // A Secret edit that leaves the CA as it was rolls nothing (two resyncs later, the same hash).
    await core.patchNamespacedSecret({
      name: 'ch-ca',
      namespace: ns,
      body: [{ op: 'add', path: '/metadata/labels', value: { team: 'analytics' } }],
    });
    await new Promise((r) => setTimeout(r, 5000));
    expect(hash(await processor())).toBe(hash(d));

    // Rotation: the bundle gains the next CA. The probe still passes, and the processors roll.
    const rotated = `${readFileSync(clickhouseEnv().caFile, 'utf8')}${otherCa}`;
    await core.patchNamespacedSecret({
      name: 'ch-ca',
      namespace: ns,
      body: [{ op: 'replace', path: '/data/ca.crt', value: Buffer.from(rotated).toString('base64') }],
    });
    const rolled = await eventually('rollout after CA rotation', async () => {
      const now = await processor();
      return hash(now) !== hash(d) ? now : undefined;
    });
    expect(rolled.spec?.template.spec?.volumes).toEqual(pod.volumes);
    expect(await ready('events-ch', (c) => c.status === 'True')).toMatchObject({ reason: 'ProbeSucceeded' });

    // Rotated credentials roll the processors too: the password written again as a file would be
    // (with a final newline, which readers strip), so the probe keeps passing.
    await core.patchNamespacedSecret({
      name: 'cql',
      namespace: ns,
      body: [
        {
          op: 'replace',
          path: '/data/password',
          value: Buffer.from(`${cassandraEnv().password}\n`).toString('base64'),
        },
      ],
    });
    await eventually('rollout after credentials rotation', async () => {
      const now = await processor();
      return hash(now) !== hash(rolled) ? now : undefined;
    });
    expect(await ready('events-cql', (c) => c.status === 'True')).toMatchObject({ reason: 'ProbeSucceeded' });
  });
});
