// A Pipeline's query side through the operator, against the real kube-apiserver and NATS: the
// shuffle stream and state bucket created (and the stream repaired when it goes), the query-worker
// ConfigMap and Deployment rendered from the spec, both removed when the queries are, and the
// JetStream state deleted or kept with the Pipeline as its deletionPolicy says.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppsV1Api, CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { RetentionPolicy, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { parse } from 'yaml';
import type { Pipeline } from '../../../api/generated/types.js';
import type { Operator } from '../../../operator/manager.js';
import { checkConfig } from '../../../runtime/process/config.js';
import { checkWorkerConfig } from '../../../runtime/query-worker/config.js';
import { PartitionStatusWriter, partitionStatusKey } from '../../../runtime/query-worker/status.js';
import { clickhouseEnv, kubeEnv, natsEnv } from '../../stack/context.js';
import { adminConfig } from '../../support/kube.js';
import {
  createNamespace,
  eventually,
  installCrds,
  startTestOperator,
  testOptions,
} from '../../support/operator.js';

const ns = `op-queries-${randomUUID().slice(0, 8)}`;
const group = 'eventrunner.io';
const version = 'v1alpha1';

const query = {
  name: 'per-minute',
  partitions: 2,
  outputs: ['counts'],
  sql: `SELECT data.country AS country, count(*) AS n FROM orders
        WINDOW TUMBLING (SIZE 1 MINUTE) GROUP BY data.country`,
};

describe('the query side of a Pipeline through the operator', () => {
  let custom: CustomObjectsApi;
  let core: CoreV1Api;
  let apps: AppsV1Api;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let operator: Operator;

  const create = (plural: string, kind: string, name: string, spec: object) =>
    custom.createNamespacedCustomObject({
      group,
      version,
      namespace: ns,
      plural,
      body: { apiVersion: `${group}/${version}`, kind, metadata: { name }, spec },
    });
  const readPipeline = async (name: string) =>
    (await custom.getNamespacedCustomObject({
      group,
      version,
      namespace: ns,
      plural: 'pipelines',
      name,
    })) as Pipeline;
  const pipeline = (name: string, deletionPolicy: 'Delete' | 'Retain') =>
    create('pipelines', 'Pipeline', name, {
      sources: [{ eventSource: 'shop', as: 'orders' }],
      outputs: [
        { name: 'raw', sink: 'ch' },
        { name: 'counts', sink: 'ch' },
      ],
      defaultOutputs: ['raw'],
      queries: [query],
      queryWorkers: { replicas: 5, resources: { requests: { cpu: '100m', memory: '128Mi' } } },
      deletionPolicy,
    });
  const exists = (stream: string) =>
    jsm.streams.info(stream).then(
      () => true,
      () => false,
    );
  const deployment = (name: string) =>
    apps.readNamespacedDeployment({ name, namespace: ns }).catch(() => undefined);
  const configMap = (name: string) =>
    core.readNamespacedConfigMap({ name, namespace: ns }).catch(() => undefined);
  const remove = (name: string) =>
    custom.deleteNamespacedCustomObject({ group, version, namespace: ns, plural: 'pipelines', name });

  beforeAll(async () => {
    const kc = adminConfig(kubeEnv().kubeconfig);
    await installCrds(kc);
    await createNamespace(kc, ns);
    custom = kc.makeApiClient(CustomObjectsApi);
    core = kc.makeApiClient(CoreV1Api);
    apps = kc.makeApiClient(AppsV1Api);
    nc = await connect({ servers: natsEnv().url });
    jsm = await jetstreamManager(nc);
    operator = await startTestOperator(
      kc,
      testOptions(natsEnv().url, {
        watchNamespace: ns,
        resyncMs: 2000,
        logLevel: process.env.OPERATOR_LOG ?? 'warn',
      }),
    );
    await create('eventsources', 'EventSource', 'shop', {
      ingest: { auth: { enabled: false } },
      stream: { maxBytes: '16Mi' },
    });
    await create('sinks', 'Sink', 'ch', {
      clickhouse: { url: clickhouseEnv().url, database: 'default', table: `q_${ns.replaceAll('-', '_')}` },
    });
  });
  afterAll(async () => {
    await operator?.stop();
    // What deletionPolicy Retain left behind.
    for (const s of [`ER_SH_${ns}_kept`, `KV_ER_Q_${ns}_kept`, `ER_DLQ_${ns}_kept`, `ER_${ns}_shop`])
      await jsm?.streams.delete(s).catch(() => undefined);
    await nc?.drain();
  });

  it('creates the shuffle stream, the state bucket and the query workers, and repairs the stream', async () => {
    await pipeline('gone', 'Delete');
    const workers = await eventually('query-worker Deployment', () => deployment('gone-query-worker'));
    // replicas 5, but only 2 partitions to own.
    expect(workers.spec?.replicas).toBe(2);
    const c = workers.spec!.template.spec!.containers[0]!;
    expect(c.args).toEqual(['query-worker', '--config', '/etc/eventrunner/config.yaml']);
    expect(c.resources).toEqual({ requests: { cpu: '100m', memory: '128Mi' } });
    expect(workers.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'Pipeline', name: 'gone' });

    const cm = await eventually('query-worker ConfigMap', () => configMap('gone-query-worker-config'));
    const cfg = checkWorkerConfig(parse(cm.data!['config.yaml']!), 'config.yaml');
    expect(cfg.queries.map((q) => [q.name, q.partitions])).toEqual([['per-minute', 2]]);
    expect(cfg.outputs.map((o) => o.name)).toEqual(['counts']);
    expect(cfg.state.bucket).toBe(`ER_Q_${ns}_gone`);
    const processor = checkConfig(
      parse((await configMap('gone-processor-config'))!.data!['config.yaml']!),
      'config.yaml',
    );
    expect(processor.shuffle).toEqual(cfg.shuffle);

    const info = await jsm.streams.info(`ER_SH_${ns}_gone`);
    expect(info.config.retention).toBe(RetentionPolicy.Workqueue);
    expect(info.config.subjects).toEqual([`ersh.${ns}.gone.>`]);
    expect(await exists(`KV_ER_Q_${ns}_gone`)).toBe(true);

    await jsm.streams.delete(`ER_SH_${ns}_gone`);
    await eventually('shuffle stream repaired', async () =>
      (await exists(`ER_SH_${ns}_gone`)) ? true : undefined,
    );

    const status = await eventually('query status', async () => {
      const pl = await readPipeline('gone');
      return pl.status?.queryWorkers ? pl.status : undefined;
    });
    expect(status.queryWorkers).toMatchObject({
      shuffleStream: `ER_SH_${ns}_gone`,
      stateBucket: `ER_Q_${ns}_gone`,
    });
    // Nobody runs the workers here: no partition has an owner.
    expect(status.queries).toMatchObject({ count: 1, owned: '0/2' });
    expect(status.queries?.items).toEqual([
      {
        name: 'per-minute',
        partitions: 2,
        owned: 0,
        workers: 0,
        lateEvents: 0,
        stateKeys: 0,
        stateLimitedEvents: 0,
        partitionsAtStateLimit: 0,
      },
    ]);
    expect(status.conditions?.find((c) => c.type === 'QueryStateWithinLimits')).toMatchObject({
      status: 'True',
    });
  });

  it('turns a partition at maxStateKeys into QueryStateWithinLimits=False, and back', async () => {
    // What a partition's owner writes after a checkpoint, through the workers' own writer.
    const kv = await new Kvm(nc).open(`ER_Q_${ns}_gone`);
    const write = (full: boolean, stateKeys: number) =>
      new PartitionStatusWriter(kv, partitionStatusKey('per-minute', 1), 'worker-a').write({
        seq: 10,
        watermark: Date.now(),
        stateKeys,
        late: 0,
        rejected: 7,
        full,
      });
    const condition = async () => {
      const pl = await readPipeline('gone');
      return { pl, c: pl.status?.conditions?.find((c) => c.type === 'QueryStateWithinLimits') };
    };
    await write(true, 1_000_000);
    const full = await eventually('QueryStateWithinLimits False', async () => {
      const got = await condition();
      return got.c?.status === 'False' ? got : undefined;
    });
    expect(full.c).toMatchObject({
      reason: 'StateLimitReached',
      message:
        'query per-minute: 1 of 2 partitions at maxStateKeys (1000000 state keys), 7 inputs needing new state dead-lettered with reason state-limit so far; raise spec.queries[0].maxStateKeys or its partitions, or shorten its windows',
    });
    expect(full.pl.status?.queries?.items?.[0]).toMatchObject({
      stateLimitedEvents: 7,
      partitionsAtStateLimit: 1,
    });
    expect(full.pl.status?.conditions?.find((c) => c.type === 'Ready')?.status).not.toBe('True');
    const warned = await eventually('a StateLimitReached Event', async () =>
      (
        await core.listNamespacedEvent({ namespace: ns, fieldSelector: 'reason=StateLimitReached' })
      ).items.find((e) => e.involvedObject.name === 'gone'),
    );
    expect(warned.type).toBe('Warning');

    // Windows closed: under the limit again.
    await write(false, 10);
    const back = await eventually('QueryStateWithinLimits True', async () => {
      const got = await condition();
      return got.c?.status === 'True' ? got : undefined;
    });
    expect(back.c?.reason).toBe('StateWithinLimits');
  });

  it('deletes the stream and the bucket with the Pipeline (deletionPolicy Delete)', async () => {
    await remove('gone');
    await eventually('shuffle stream and bucket deleted', async () =>
      !(await exists(`ER_SH_${ns}_gone`)) && !(await exists(`KV_ER_Q_${ns}_gone`)) ? true : undefined,
    );
    expect(await exists(`ER_DLQ_${ns}_gone`)).toBe(false);
  });

  it('removes the query workers with the queries, and keeps the state with Retain', async () => {
    await pipeline('kept', 'Retain');
    await eventually('query-worker Deployment', () => deployment('kept-query-worker'));
    expect(await exists(`ER_SH_${ns}_kept`)).toBe(true);

    // A patch, not read-modify-replace: the operator writes the Pipeline (status, finalizer) at the
    // same time, and a replace from a stale read is refused with 409.
    await custom.patchNamespacedCustomObject({
      group,
      version,
      namespace: ns,
      plural: 'pipelines',
      name: 'kept',
      body: [{ op: 'replace', path: '/spec/queries', value: [] }],
    });
    await eventually('query workers removed', async () =>
      !(await deployment('kept-query-worker')) && !(await configMap('kept-query-worker-config'))
        ? true
        : undefined,
    );
    const processor = parse((await configMap('kept-processor-config'))!.data!['config.yaml']!) as object;
    expect(processor).not.toHaveProperty('shuffle');

    await remove('kept');
    await eventually('Pipeline gone', async () =>
      custom
        .getNamespacedCustomObject({ group, version, namespace: ns, plural: 'pipelines', name: 'kept' })
        .then(
          () => undefined,
          () => true,
        ),
    );
    expect(await exists(`ER_SH_${ns}_kept`)).toBe(true);
    expect(await exists(`KV_ER_Q_${ns}_kept`)).toBe(true);
    expect(await exists(`ER_DLQ_${ns}_kept`)).toBe(true);
    expect(
      await jsm.consumers.info(`ER_${ns}_shop`, `ER_PL_${ns}_kept`).then(
        () => true,
        () => false,
      ),
    ).toBe(true);
  });
});
