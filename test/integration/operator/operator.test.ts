// The operator against the real kube-apiserver, NATS, Cassandra and ClickHouse of the test stack:
// what it creates, what it changes (and does not), how it reports, and that an idle operator sends
// no writes — counted in the apiserver's audit log under the operator's own identity.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  type V1Deployment,
} from '@kubernetes/client-node';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { EventSource, Pipeline, Sink } from '../../../api/generated/types.js';
import type { Operator } from '../../../operator/manager.js';
import { cassandraEnv, clickhouseEnv, kubeEnv, natsEnv } from '../../stack/context.js';
import { adminConfig, auditEvents, certificateKubeconfig, writeVerbs } from '../../support/kube.js';
import {
  createNamespace,
  eventually,
  installCrds,
  startTestOperator,
  testOptions,
} from '../../support/operator.js';

const ns = `op-main-${Date.now().toString(36)}`;
const group = 'eventrunner.io';
const version = 'v1alpha1';
const operatorUser = 'eventrunner-operator-test';

const rules = `
rule Big "large orders" salience 10 {
  when event.data.amount >= 1000
  then event.data.tier = "gold"; Route("store"); Route("analytics");
}
rule Small "the rest goes to analytics only" {
  when event.data.amount < 1000
  then Route("analytics");
}`;

describe('operator', () => {
  let kc: KubeConfig;
  let custom: CustomObjectsApi;
  let apps: AppsV1Api;
  let core: CoreV1Api;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let operator: Operator;

  const get = async <T>(plural: string, name: string) =>
    (await custom.getNamespacedCustomObject({ group, version, namespace: ns, plural, name })) as T;
  const condition = (
    obj: { status?: { conditions?: { type: string; status: string; reason: string; message: string }[] } },
    type: string,
  ) => obj.status?.conditions?.find((c) => c.type === type);
  const create = (plural: string, body: object) =>
    custom.createNamespacedCustomObject({ group, version, namespace: ns, plural, body });

  /** Plays the kubelet for a Deployment: reports all its replicas ready for its current generation. */
  async function markReady(name: string): Promise<void> {
    const d = await apps.readNamespacedDeployment({ name, namespace: ns });
    const replicas = d.spec?.replicas ?? 1;
    await apps.replaceNamespacedDeploymentStatus({
      name,
      namespace: ns,
      body: {
        ...d,
        status: {
          observedGeneration: d.metadata?.generation,
          replicas,
          readyReplicas: replicas,
          updatedReplicas: replicas,
          availableReplicas: replicas,
        },
      } as V1Deployment,
    });
  }

  beforeAll(async () => {
    const admin = adminConfig(kubeEnv().kubeconfig);
    await installCrds(admin);
    await createNamespace(admin, ns);
    kc = adminConfig(certificateKubeconfig(kubeEnv(), operatorUser, ['system:masters']));
    custom = admin.makeApiClient(CustomObjectsApi);
    apps = admin.makeApiClient(AppsV1Api);
    core = admin.makeApiClient(CoreV1Api);
    nc = await connect({ servers: natsEnv().url });
    jsm = await jetstreamManager(nc);
    operator = await startTestOperator(
      kc,
      testOptions(natsEnv().url, {
        watchNamespace: ns,
        resyncMs: 1000,
        logLevel: process.env.OPERATOR_LOG ?? 'warn',
      }),
    );

    const cql = cassandraEnv();
    await core.createNamespacedSecret({
      namespace: ns,
      body: { metadata: { name: 'shop-tokens' }, stringData: { tokens: 't1\n' } },
    });
    await core.createNamespacedSecret({
      namespace: ns,
      body: { metadata: { name: 'cql' }, stringData: { username: cql.username, password: cql.password } },
    });
    await create('eventsources', {
      apiVersion: `${group}/${version}`,
      kind: 'EventSource',
      metadata: { name: 'shop' },
      spec: {
        ingest: { auth: { tokensSecretRef: { name: 'shop-tokens', key: 'tokens' } } },
        conversion: { typeFrom: '/eventType' },
      },
    });
    await create('sinks', {
      apiVersion: `${group}/${version}`,
      kind: 'Sink',
      metadata: { name: 'orders-cql' },
      spec: {
        scylla: {
          contactPoints: [cql.contactPoint],
          localDataCenter: cql.localDataCenter,
          keyspace: 'op_main',
          table: 'orders',
          consistency: 'ONE',
          credentialsSecretRef: { name: 'cql', usernameKey: 'username', passwordKey: 'password' },
          manageSchema: true,
        },
      },
    });
    await create('sinks', {
      apiVersion: `${group}/${version}`,
      kind: 'Sink',
      metadata: { name: 'orders-ch' },
      spec: {
        clickhouse: { url: clickhouseEnv().url, database: 'op_main', table: 'orders', manageSchema: true },
      },
    });
    await create('pipelines', {
      apiVersion: `${group}/${version}`,
      kind: 'Pipeline',
      metadata: { name: 'orders' },
      spec: {
        sources: [{ eventSource: 'shop', types: ['com.shop.order.*'] }],
        rules,
        outputs: [
          { name: 'store', sink: 'orders-cql' },
          { name: 'analytics', sink: 'orders-ch' },
        ],
        replicas: 2,
      },
    });
  });

  afterAll(async () => {
    await operator?.stop();
    await nc?.drain();
  });

  it('turns an EventSource into a stream, an ingest Deployment, Service and ConfigMap it owns', async () => {
    const es = await eventually('EventSource StreamReady', async () => {
      const es = await get<EventSource>('eventsources', 'shop');
      return condition(es, 'StreamReady')?.status === 'True' ? es : undefined;
    });
    const info = await jsm.streams.info(`ER_${ns}_shop`);
    expect(info.config.subjects).toEqual([`er.${ns}.shop.>`]);
    expect(es.status?.endpoints?.http).toBe(`http://shop-ingest.${ns}.svc:8080/events`);
    const d = await eventually('ingest Deployment', () =>
      apps.readNamespacedDeployment({ name: 'shop-ingest', namespace: ns }),
    );
    expect(d.metadata?.ownerReferences?.[0]).toMatchObject({
      kind: 'EventSource',
      name: 'shop',
      controller: true,
    });
    expect(d.spec?.template.spec?.containers[0]?.args).toEqual([
      'ingest',
      '--config',
      '/etc/eventrunner/config.yaml',
    ]);
    expect(d.spec?.template.spec?.containers[0]?.securityContext?.readOnlyRootFilesystem).toBe(true);
    const svc = await core.readNamespacedService({ name: 'shop-ingest', namespace: ns });
    expect(svc.spec?.ports?.map((p) => p.name)).toEqual(['http', 'grpc', 'ops']);
    const cm = await core.readNamespacedConfigMap({ name: 'shop-ingest-config', namespace: ns });
    expect(cm.data?.['config.yaml']).toContain(`subjectPrefix: er.${ns}.shop`);
    expect((await get<EventSource>('eventsources', 'shop')).metadata.finalizers).toContain(
      'eventrunner.io/jetstream',
    );
    // No kubelet has run the pods yet: the operator says so instead of claiming readiness.
    expect(condition(es, 'IngestReady')?.status).not.toBe('True');
    await markReady('shop-ingest');
    await eventually('EventSource Ready', async () =>
      condition(await get<EventSource>('eventsources', 'shop'), 'Ready')?.status === 'True'
        ? true
        : undefined,
    );
  });

  it('probes both Sinks and creates their tables', async () => {
    for (const name of ['orders-cql', 'orders-ch']) {
      const sink = await eventually(`Sink ${name} Ready`, async () => {
        const s = await get<Sink>('sinks', name);
        return condition(s, 'Ready')?.status === 'True' ? s : undefined;
      });
      expect(condition(sink, 'Ready')?.reason).toBe('ProbeSucceeded');
    }
    const ch = await fetch(
      `${clickhouseEnv().url}/?query=${encodeURIComponent('EXISTS TABLE op_main.orders')}`,
    );
    expect((await ch.text()).trim()).toBe('1');
  });

  it('turns a Pipeline into a consumer, a dead-letter stream and a processor Deployment', async () => {
    const consumer = await eventually('consumer', () =>
      jsm.consumers.info(`ER_${ns}_shop`, `ER_PL_${ns}_orders`),
    );
    expect(consumer.config.filter_subject).toBe(`er.${ns}.shop.com.shop.order.*`);
    expect((await jsm.streams.info(`ER_DLQ_${ns}_orders`)).config.subjects).toEqual([`erdlq.${ns}.orders`]);
    const d = await eventually('processor Deployment', () =>
      apps.readNamespacedDeployment({ name: 'orders-processor', namespace: ns }),
    );
    expect(d.spec?.replicas).toBe(2);
    expect(d.spec?.template.spec?.volumes?.map((v) => v.name)).toContain('sink-orders-cql');
    await markReady('orders-processor');
    const pl = await eventually('Pipeline Ready', async () => {
      const pl = await get<Pipeline>('pipelines', 'orders');
      return condition(pl, 'Ready')?.status === 'True' ? pl : undefined;
    });
    expect(pl.status).toMatchObject({
      phase: 'Running',
      readyReplicas: 2,
      lag: 0,
      deadLetters: 0,
      rules: { count: 2, errors: [] },
    });
  });

  it('rolls the processors when the rules change, and only the replicas when only replicas change', async () => {
    const before = await apps.readNamespacedDeployment({ name: 'orders-processor', namespace: ns });
    const hash = (d: V1Deployment) => d.spec?.template.metadata?.annotations?.['eventrunner.io/config-hash'];
    await custom.patchNamespacedCustomObject({
      group,
      version,
      namespace: ns,
      plural: 'pipelines',
      name: 'orders',
      body: [{ op: 'replace', path: '/spec/replicas', value: 3 }],
    });
    const scaled = await eventually('scaled', async () => {
      const d = await apps.readNamespacedDeployment({ name: 'orders-processor', namespace: ns });
      return d.spec?.replicas === 3 ? d : undefined;
    });
    expect(hash(scaled)).toBe(hash(before));
    await custom.patchNamespacedCustomObject({
      group,
      version,
      namespace: ns,
      plural: 'pipelines',
      name: 'orders',
      body: [{ op: 'replace', path: '/spec/rules', value: rules.replace('>= 1000', '>= 500') }],
    });
    const rolled = await eventually('rollout', async () => {
      const d = await apps.readNamespacedDeployment({ name: 'orders-processor', namespace: ns });
      return hash(d) !== hash(before) ? d : undefined;
    });
    const cm = await core.readNamespacedConfigMap({ name: 'orders-processor-config', namespace: ns });
    expect(cm.data?.['config.yaml']).toContain('>= 500');
    expect(rolled.spec?.replicas).toBe(3);
  });

  it('reports invalid rules with line and column and leaves the running workload alone', async () => {
    const before = await apps.readNamespacedDeployment({ name: 'orders-processor', namespace: ns });
    await custom.patchNamespacedCustomObject({
      group,
      version,
      namespace: ns,
      plural: 'pipelines',
      name: 'orders',
      body: [
        {
          op: 'replace',
          path: '/spec/rules',
          value: 'rule X "x" {\n  when event.data.amount >\n  then Route("store");\n}',
        },
      ],
    });
    const pl = await eventually('RulesValid=False', async () => {
      const pl = await get<Pipeline>('pipelines', 'orders');
      return condition(pl, 'RulesValid')?.status === 'False' ? pl : undefined;
    });
    expect(condition(pl, 'RulesValid')?.reason).toBe('RulesInvalid');
    expect(pl.status?.rules?.errors?.[0]).toMatchObject({ line: 3 });
    expect(condition(pl, 'RulesValid')?.message).toMatch(/^3:\d+: /);
    const after = await apps.readNamespacedDeployment({ name: 'orders-processor', namespace: ns });
    expect(after.metadata?.resourceVersion).toBe(before.metadata?.resourceVersion);
    await custom.patchNamespacedCustomObject({
      group,
      version,
      namespace: ns,
      plural: 'pipelines',
      name: 'orders',
      body: [{ op: 'replace', path: '/spec/rules', value: rules }],
    });
    await eventually('RulesValid=True again', async () =>
      condition(await get<Pipeline>('pipelines', 'orders'), 'RulesValid')?.status === 'True'
        ? true
        : undefined,
    );
  });

  it('brings back a stream deleted behind its back', async () => {
    await jsm.streams.delete(`ER_${ns}_shop`);
    const info = await eventually(
      'stream recreated',
      async () => {
        try {
          return await jsm.streams.info(`ER_${ns}_shop`);
        } catch {
          return undefined;
        }
      },
      20_000,
    );
    expect(info.config.subjects).toEqual([`er.${ns}.shop.>`]);
    // The Pipeline's consumer comes back with it.
    await eventually(
      'consumer recreated',
      () => jsm.consumers.info(`ER_${ns}_shop`, `ER_PL_${ns}_orders`),
      20_000,
    );
  });

  it('sends no API writes over twenty resyncs while nothing changes', { timeout: 120_000 }, async () => {
    // The rules changes above rolled the processor Deployment; report the new generation ready.
    await markReady('orders-processor');
    await eventually(
      'operator settled',
      async () => {
        const pl = await get<Pipeline>('pipelines', 'orders');
        const es = await get<EventSource>('eventsources', 'shop');
        return condition(pl, 'Ready')?.status === 'True' && condition(es, 'Ready')?.status === 'True'
          ? true
          : undefined;
      },
      30_000,
    );
    await markReady('orders-processor');
    const reconciles = async () =>
      (await operator.metrics.reconciles.get()).values.reduce((a, v) => a + v.value, 0);
    // Two rounds of resyncs after the last change: whatever it caused has been written.
    const marked = await reconciles();
    await eventually('two resyncs', async () => ((await reconciles()) >= marked + 2 * 4 ? true : undefined));
    const since = new Date();
    const reconcilesBefore = await reconciles();
    // Twenty resyncs (every 1s ± 20%), each reconciling all four objects, and at least 20 s, so
    // that the paths that requeue sooner than the resync (LAG every 8 s, Sinks every 10 s while not
    // ready) ran twice: none of it may write.
    await eventually(
      'twenty resyncs',
      async () =>
        (await reconciles()) >= reconcilesBefore + 20 * 4 && Date.now() - since.getTime() >= 20_000
          ? true
          : undefined,
      90_000,
    );
    const writes = auditEvents(kubeEnv().auditLog, operatorUser, since).filter((e) => writeVerbs.has(e.verb));
    expect(writes.map((w) => `${w.verb} ${w.requestURI}`)).toEqual([]);
  });
});
