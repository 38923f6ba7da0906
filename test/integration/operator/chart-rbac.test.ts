// `helm install` of charts/eventrunner into the test stack's kube-apiserver, then the operator run
// in-process as the chart configures it and under the chart's ServiceAccount token (TokenRequest):
// it must reconcile an EventSource, a Sink and a Pipeline, and clean up behind its finalizers,
// without a single request the API server forbids. The apiserver audits every request, so a 403
// anywhere (informers, status writes, Events, the Lease) fails the test, even one the operator
// retried past. No kubelet runs the chart's pod; the test plays the pod instead.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ApiextensionsV1Api,
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  type V1Deployment,
} from '@kubernetes/client-node';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { EventSource, Pipeline, Sink } from '../../../api/generated/types.js';
import type { Operator } from '../../../operator/manager.js';
import { consumerName, streamName } from '../../../operator/names.js';
import { parseOperatorOptions } from '../../../operator/options.js';
import { clickhouseEnv, kubeEnv, natsEnv } from '../../stack/context.js';
import { kubeconfigYaml } from '../../stack/kube.js';
import { repoRoot, toolPath } from '../../stack/paths.js';
import { adminConfig } from '../../support/kube.js';
import { argoHealth } from '../../unit/chart/argocd-lua.js';
import { createNamespace, eventually, startTestOperator } from '../../support/operator.js';

const release = 'er-rbac';
// Unique per run: namespaces (and the ClusterRole named after the release's) outlive a run on a
// shared stack, whose apiserver has no namespace controller to finish deleting them.
const run = Date.now().toString(36);
const releaseNs = `er-rbac-system-${run}`;
const ns = `er-rbac-apps-${run}`;
const group = 'eventrunner.io';
const version = 'v1alpha1';

interface AuditRecord {
  verb: string;
  user: { username: string };
  requestURI: string;
  responseStatus?: { code?: number };
  stageTimestamp: string;
}

/** Every audited request of `username` since `since`, with its response code. */
function auditOf(username: string, since: Date): AuditRecord[] {
  return readFileSync(kubeEnv().auditLog, 'utf8')
    .split('\n')
    .filter((l) => l.includes(username))
    .map((l) => JSON.parse(l) as AuditRecord)
    .filter((e) => e.user.username === username && new Date(e.stageTimestamp) >= since);
}

type WithConditions = { status?: { conditions?: { type: string; status: string }[] } };
const condition = (obj: WithConditions, type: string) => obj.status?.conditions?.find((c) => c.type === type);

describe('the Helm chart installs an operator whose RBAC is enough', () => {
  let helmHome: string;
  let admin: KubeConfig;
  let custom: CustomObjectsApi;
  let apps: AppsV1Api;
  let core: CoreV1Api;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let operator: Operator | undefined;
  let username: string;
  let since: Date;

  const helm = (args: string[]) => {
    const r = spawnSync(toolPath('helm'), [...args, '--kubeconfig', kubeEnv().kubeconfig], {
      encoding: 'utf8',
      timeout: 60_000,
      // A private Helm home: nothing read from or written to the user's.
      env: {
        ...process.env,
        HELM_CACHE_HOME: join(helmHome, 'cache'),
        HELM_CONFIG_HOME: join(helmHome, 'config'),
        HELM_DATA_HOME: join(helmHome, 'data'),
      },
    });
    if (r.error) throw r.error;
    return { status: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
  };
  const get = async <T>(plural: string, name: string) =>
    (await custom.getNamespacedCustomObject({ group, version, namespace: ns, plural, name })) as T;
  const create = (plural: string, body: object) =>
    custom.createNamespacedCustomObject({ group, version, namespace: ns, plural, body });

  beforeAll(async () => {
    helmHome = mkdtempSync(join(tmpdir(), 'er-helm-'));
    admin = adminConfig(kubeEnv().kubeconfig);
    custom = admin.makeApiClient(CustomObjectsApi);
    apps = admin.makeApiClient(AppsV1Api);
    core = admin.makeApiClient(CoreV1Api);
    nc = await connect({ servers: natsEnv().url });
    jsm = await jetstreamManager(nc);
    await createNamespace(admin, ns);
  });

  afterAll(async () => {
    await operator?.stop();
    await nc?.drain();
    rmSync(helmHome, { recursive: true, force: true });
  });

  it('installs with helm into a cluster without a kubelet, CRDs included', async () => {
    const r = helm([
      'install',
      release,
      join(repoRoot, 'charts', 'eventrunner'),
      '--namespace',
      releaseNs,
      '--create-namespace',
      '--set',
      `nats.url=${natsEnv().url}`,
    ]);
    expect(r.out).toMatch(/STATUS: deployed/);
    expect(r.status).toBe(0);
    // NOTES.txt tells the user what to do next.
    expect(r.out).toMatch(/kubectl get eventrunner/);
    expect(r.out).toMatch(/examples\/quickstart/);

    const ext = admin.makeApiClient(ApiextensionsV1Api);
    for (const plural of ['eventsources', 'pipelines', 'sinks']) {
      await eventually(`CRD ${plural} Established`, async () => {
        const crd = await ext.readCustomResourceDefinition({ name: `${plural}.${group}` });
        return crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')
          ? true
          : undefined;
      });
    }
    const d = await apps.readNamespacedDeployment({ name: `${release}-eventrunner`, namespace: releaseNs });
    expect(d.spec?.template.spec?.serviceAccountName).toBe(`${release}-eventrunner`);
    await core.readNamespacedServiceAccount({ name: `${release}-eventrunner`, namespace: releaseNs });
    await core.readNamespacedService({ name: `${release}-eventrunner-metrics`, namespace: releaseNs });
  });

  it('runs the operator as the chart configures it, under the chart ServiceAccount token', async () => {
    const sa = `${release}-eventrunner`;
    const token = await core.createNamespacedServiceAccountToken({
      name: sa,
      namespace: releaseNs,
      body: { spec: { audiences: ['https://kubernetes.default.svc'], expirationSeconds: 3600 } },
    });
    expect(token.status?.token).toBeTruthy();
    const file = join(helmHome, 'operator.kubeconfig');
    writeFileSync(
      file,
      kubeconfigYaml(kubeEnv().url, readFileSync(join(kubeEnv().certDir, 'ca.crt'), 'utf8'), {
        token: token.status!.token,
      }),
    );
    const kc = new KubeConfig();
    kc.loadFromFile(file);
    username = `system:serviceaccount:${releaseNs}:${sa}`;

    // The options come from the installed Deployment's container, as the pod would see them; only
    // the namespace is narrowed (other operator tests share this API server) and the ops port is
    // left to the OS.
    const d = await apps.readNamespacedDeployment({ name: sa, namespace: releaseNs });
    const container = d.spec!.template.spec!.containers[0]!;
    const [subcommand, ...flags] = container.args!;
    expect(subcommand).toBe('operator');
    const chartOptions = parseOperatorOptions(flags, { POD_NAME: `${sa}-test`, POD_NAMESPACE: releaseNs });
    expect(chartOptions.leaderElection).toMatchObject({ enabled: true, namespace: releaseNs, name: sa });
    since = new Date();
    operator = await startTestOperator(kc, {
      ...chartOptions,
      watchNamespace: ns,
      opsPort: 0,
      resyncMs: 5000,
      logLevel: 'warn',
    });
    await operator.synced;
    await eventually('leadership', () => (operator!.isLeader() ? true : undefined));
  });

  it('reconciles an EventSource: stream, ingest Deployment with the chart image, status', async () => {
    await core.createNamespacedSecret({
      namespace: ns,
      body: { metadata: { name: 'shop-tokens' }, stringData: { tokens: 't1\n' } },
    });
    // A schema from a labelled ConfigMap: the chart's role lets the operator watch and read it.
    await core.createNamespacedConfigMap({
      namespace: ns,
      body: {
        metadata: { name: 'order-schema', labels: { 'eventrunner.io/schemas': 'true' } },
        data: { 'order.json': '{"type": "object", "required": ["amount"]}' },
      },
    });
    await create('eventsources', {
      apiVersion: `${group}/${version}`,
      kind: 'EventSource',
      metadata: { name: 'shop' },
      spec: {
        ingest: { auth: { tokensSecretRef: { name: 'shop-tokens', key: 'tokens' } } },
        schemas: [{ type: 'com.shop.order.>', configMapKeyRef: { name: 'order-schema', key: 'order.json' } }],
      },
    });
    const es = await eventually('EventSource StreamReady', async () => {
      const es = await get<EventSource>('eventsources', 'shop');
      return condition(es, 'StreamReady')?.status === 'True' ? es : undefined;
    });
    expect(es.status?.observedGeneration).toBe(es.metadata.generation);
    expect(es.metadata.finalizers).toContain('eventrunner.io/jetstream');
    const info = await jsm.streams.info(streamName(ns, 'shop'));
    expect(info.config.name).toBe(streamName(ns, 'shop'));
    const ingest = await eventually('ingest Deployment', () =>
      apps.readNamespacedDeployment({ name: 'shop-ingest', namespace: ns }),
    );
    // The operator fills the workloads' image from its own configuration: the chart's image.
    expect(ingest.spec?.template.spec?.containers[0]?.image).toBe('eventrunner:0.1.0');
    await core.readNamespacedService({ name: 'shop-ingest', namespace: ns });
    await core.readNamespacedConfigMap({ name: 'shop-ingest-config', namespace: ns });
    await core.readNamespacedConfigMap({ name: 'shop-ingest-schemas', namespace: ns });
    expect(condition(es, 'SchemasValid')).toMatchObject({
      status: 'True',
      message: 'serving com.shop.order.> v1',
    });
  });

  it('reconciles a Sink and a Pipeline to Ready', async () => {
    await create('sinks', {
      apiVersion: `${group}/${version}`,
      kind: 'Sink',
      metadata: { name: 'orders-ch' },
      spec: {
        clickhouse: { url: clickhouseEnv().url, database: 'er_rbac', table: 'orders', manageSchema: true },
      },
    });
    await create('pipelines', {
      apiVersion: `${group}/${version}`,
      kind: 'Pipeline',
      metadata: { name: 'orders' },
      spec: {
        sources: [{ eventSource: 'shop' }],
        rules: 'rule All "everything to analytics" {\n  when true\n  then Route("analytics");\n}',
        outputs: [{ name: 'analytics', sink: 'orders-ch' }],
        replicas: 1,
      },
    });
    await eventually('Sink Ready', async () =>
      condition(await get<Sink>('sinks', 'orders-ch'), 'Ready')?.status === 'True' ? true : undefined,
    );
    await eventually('consumer', () =>
      jsm.consumers.info(streamName(ns, 'shop'), consumerName(ns, 'orders')),
    );
    // No kubelet: report the workloads' replicas ready, as one would.
    for (const name of ['shop-ingest', 'orders-processor']) {
      const d = await eventually(name, () => apps.readNamespacedDeployment({ name, namespace: ns }));
      await apps.replaceNamespacedDeploymentStatus({
        name,
        namespace: ns,
        body: {
          ...d,
          status: {
            observedGeneration: d.metadata?.generation,
            replicas: 1,
            readyReplicas: 1,
            updatedReplicas: 1,
            availableReplicas: 1,
          },
        } as V1Deployment,
      });
    }
    const pl = await eventually('Pipeline Ready', async () => {
      const pl = await get<Pipeline>('pipelines', 'orders');
      return condition(pl, 'Ready')?.status === 'True' ? pl : undefined;
    });
    expect(pl.status?.observedGeneration).toBe(pl.metadata.generation);
    const es = await eventually('EventSource Ready', async () => {
      const es = await get<EventSource>('eventsources', 'shop');
      return condition(es, 'Ready')?.status === 'True' ? es : undefined;
    });
    // The Argo CD health check reads the status the operator really writes.
    for (const obj of [es, pl, await get<Sink>('sinks', 'orders-ch')]) {
      expect(argoHealth(obj)).toMatchObject({ status: 'Healthy' });
    }
  });

  it('removes its finalizers after deleting the JetStream state', async () => {
    await custom.deleteNamespacedCustomObject({
      group,
      version,
      namespace: ns,
      plural: 'pipelines',
      name: 'orders',
    });
    await custom.deleteNamespacedCustomObject({
      group,
      version,
      namespace: ns,
      plural: 'eventsources',
      name: 'shop',
    });
    for (const [plural, name] of [
      ['pipelines', 'orders'],
      ['eventsources', 'shop'],
    ] as const) {
      await eventually(`${plural}/${name} gone`, async () => {
        try {
          await get(plural, name);
          return undefined;
        } catch (err) {
          return (err as { code?: number }).code === 404 ? true : undefined;
        }
      });
    }
    await expect(jsm.streams.info(streamName(ns, 'shop'))).rejects.toThrow(/stream not found/);
  });

  it('was never forbidden anything', () => {
    const requests = auditOf(username, since);
    // The identity really was used, for reads and writes alike.
    expect(requests.some((r) => r.verb === 'watch')).toBe(true);
    expect(requests.some((r) => r.verb === 'patch' && r.requestURI.includes('/deployments/'))).toBe(true);
    expect(requests.some((r) => r.requestURI.includes('/leases'))).toBe(true);
    const forbidden = requests.filter((r) => r.responseStatus?.code === 403);
    expect(forbidden.map((r) => `${r.verb} ${r.requestURI}`)).toEqual([]);
  });
});
