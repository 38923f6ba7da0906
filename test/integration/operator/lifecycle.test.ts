// Operator lifecycle against the real stack: deletion policies, a restart in the middle of work,
// and two replicas of which only the Lease holder acts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppsV1Api, CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { EventSource } from '../../../api/generated/types.js';
import { Applier, statusCode } from '../../../operator/apply.js';
import type { Operator } from '../../../operator/manager.js';
import { finalizer } from '../../../operator/names.js';
import { kubeEnv, natsEnv } from '../../stack/context.js';
import { adminConfig } from '../../support/kube.js';
import {
  createNamespace,
  eventually,
  installCrds,
  startTestOperator,
  testOptions,
} from '../../support/operator.js';

const group = 'eventrunner.io';
const version = 'v1alpha1';

describe('operator lifecycle', () => {
  let kc: KubeConfig;
  let custom: CustomObjectsApi;
  let apps: AppsV1Api;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  const running: Operator[] = [];

  const eventSource = (name: string, deletionPolicy: 'Delete' | 'Retain') => ({
    apiVersion: `${group}/${version}`,
    kind: 'EventSource',
    metadata: { name },
    spec: { ingest: { auth: { enabled: false } }, deletionPolicy },
  });
  const streamExists = async (name: string) => {
    try {
      await jsm.streams.info(name);
      return true;
    } catch {
      return false;
    }
  };

  beforeAll(async () => {
    kc = adminConfig(kubeEnv().kubeconfig);
    await installCrds(kc);
    custom = kc.makeApiClient(CustomObjectsApi);
    apps = kc.makeApiClient(AppsV1Api);
    nc = await connect({ servers: natsEnv().url });
    jsm = await jetstreamManager(nc);
  });
  afterAll(async () => {
    await Promise.all(running.map((o) => o.stop()));
    await nc?.drain();
  });

  it('deletes the stream with deletionPolicy Delete and keeps it with Retain', async () => {
    const ns = `op-delete-${Date.now().toString(36)}`;
    await createNamespace(kc, ns);
    const op = await startTestOperator(kc, testOptions(natsEnv().url, { watchNamespace: ns }));
    running.push(op);
    for (const [name, policy] of [
      ['gone', 'Delete'],
      ['kept', 'Retain'],
    ] as const) {
      await custom.createNamespacedCustomObject({
        group,
        version,
        namespace: ns,
        plural: 'eventsources',
        body: eventSource(name, policy),
      });
      await eventually(`stream of ${name}`, async () =>
        (await streamExists(`ER_${ns}_${name}`)) ? true : undefined,
      );
      await eventually(`finalizer on ${name}`, async () => {
        const o = (await custom.getNamespacedCustomObject({
          group,
          version,
          namespace: ns,
          plural: 'eventsources',
          name,
        })) as {
          metadata: { finalizers?: string[] };
        };
        return o.metadata.finalizers?.includes('eventrunner.io/jetstream') ? true : undefined;
      });
      await custom.deleteNamespacedCustomObject({
        group,
        version,
        namespace: ns,
        plural: 'eventsources',
        name,
      });
      await eventually(`${name} deleted`, async () => {
        try {
          await custom.getNamespacedCustomObject({
            group,
            version,
            namespace: ns,
            plural: 'eventsources',
            name,
          });
          return undefined;
        } catch {
          return true;
        }
      });
    }
    expect(await streamExists(`ER_${ns}_gone`)).toBe(false);
    expect(await streamExists(`ER_${ns}_kept`)).toBe(true);
  });

  it('keeps the dead letters of a deleted Pipeline with deadLetter.deletionPolicy Retain, and deduplicates them as long as it keeps them', async () => {
    const ns = `op-dlq-${Math.random().toString(36).slice(2, 7)}`;
    await createNamespace(kc, ns);
    const op = await startTestOperator(kc, testOptions(natsEnv().url, { watchNamespace: ns }));
    running.push(op);
    await custom.createNamespacedCustomObject({
      group,
      version,
      namespace: ns,
      plural: 'eventsources',
      body: eventSource('orders', 'Delete'),
    });
    const pipeline = (name: string, deadLetterPolicy: 'Delete' | 'Retain') => ({
      apiVersion: `${group}/${version}`,
      kind: 'Pipeline',
      metadata: { name },
      spec: {
        sources: [{ eventSource: 'orders' }],
        outputs: [{ name: 'hook', sink: 'hook' }],
        defaultOutputs: ['hook'],
        deadLetter: { maxAge: '48h', deletionPolicy: deadLetterPolicy },
      },
    });
    for (const [name, policy] of [
      ['kept', 'Retain'],
      ['gone', 'Delete'],
    ] as const)
      await custom.createNamespacedCustomObject({
        group,
        version,
        namespace: ns,
        plural: 'pipelines',
        body: pipeline(name, policy),
      });
    const consumerExists = async (pl: string) =>
      jsm.consumers.info(`ER_${ns}_orders`, `ER_PL_${ns}_${pl}`).then(
        () => true,
        () => false,
      );
    for (const name of ['kept', 'gone']) {
      await eventually(`dead letters and consumer of ${name}`, async () =>
        (await streamExists(`ER_DLQ_${ns}_${name}`)) &&
        (await consumerExists(name)) &&
        (await jsm.consumers.info(`ER_ADV_${ns}_${name}`, `ER_PL_${ns}_${name}`).then(
          () => true,
          () => false,
        ))
          ? true
          : undefined,
      );
    }
    // Max-deliveries advisories are kept where the processors read them.
    expect((await jsm.streams.info(`ER_ADV_${ns}_kept`)).config.subjects).toEqual([
      `$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.ER_${ns}_orders.ER_PL_${ns}_kept`,
    ]);
    // Repeats of a dead letter are dropped for as long as the stream keeps dead letters.
    const info = await jsm.streams.info(`ER_DLQ_${ns}_kept`);
    expect(info.config.duplicate_window).toBe(48 * 3600 * 1e9);
    expect(info.config.max_age).toBe(48 * 3600 * 1e9);
    for (const name of ['kept', 'gone']) {
      await custom.deleteNamespacedCustomObject({ group, version, namespace: ns, plural: 'pipelines', name });
      await eventually(`${name} deleted`, async () =>
        custom.getNamespacedCustomObject({ group, version, namespace: ns, plural: 'pipelines', name }).then(
          () => undefined,
          () => true,
        ),
      );
    }
    expect(await consumerExists('kept')).toBe(false);
    expect(await streamExists(`ER_DLQ_${ns}_kept`)).toBe(true);
    expect(await consumerExists('gone')).toBe(false);
    expect(await streamExists(`ER_DLQ_${ns}_gone`)).toBe(false);
    // Advisories are of no use without the consumers: they go with either policy.
    expect(await streamExists(`ER_ADV_${ns}_kept`)).toBe(false);
    expect(await streamExists(`ER_ADV_${ns}_gone`)).toBe(false);
  });

  it('finishes the work after a restart in the middle of it, creating nothing twice', async () => {
    const ns = `op-restart-${Date.now().toString(36)}`;
    await createNamespace(kc, ns);
    const first = await startTestOperator(
      kc,
      testOptions(natsEnv().url, { watchNamespace: ns, concurrency: 1 }),
    );
    for (let i = 0; i < 20; i++) {
      await custom.createNamespacedCustomObject({
        group,
        version,
        namespace: ns,
        plural: 'eventsources',
        body: eventSource(`s${i}`, 'Delete'),
      });
    }
    // Stop it while it is part-way through the twenty.
    await eventually('some progress', async () => ((await streamExists(`ER_${ns}_s0`)) ? true : undefined));
    await first.stop();
    const second = await startTestOperator(kc, testOptions(natsEnv().url, { watchNamespace: ns }));
    running.push(second);
    const deployments = await eventually('all ingest Deployments', async () => {
      const list = await apps.listNamespacedDeployment({ namespace: ns });
      return list.items.length >= 20 ? list.items : undefined;
    });
    expect(deployments.map((d) => d.metadata!.name).sort()).toEqual(
      Array.from({ length: 20 }, (_, i) => `s${i}-ingest`).sort(),
    );
    for (let i = 0; i < 20; i++) expect(await streamExists(`ER_${ns}_s${i}`)).toBe(true);
    const services = await kc.makeApiClient(CoreV1Api).listNamespacedService({ namespace: ns });
    expect(services.items).toHaveLength(20);
  });

  it('lets only the leader act when two replicas run', async () => {
    const ns = `op-leader-${Date.now().toString(36)}`;
    await createNamespace(kc, ns);
    const election = (identity: string) => ({
      enabled: true,
      namespace: ns,
      name: 'eventrunner-operator',
      identity,
    });
    const a = await startTestOperator(
      kc,
      testOptions(natsEnv().url, { watchNamespace: ns, leaderElection: election('a') }),
    );
    running.push(a);
    await eventually('a leads', () => (a.isLeader() ? true : undefined));
    const b = await startTestOperator(
      kc,
      testOptions(natsEnv().url, { watchNamespace: ns, leaderElection: election('b') }),
    );
    running.push(b);
    await b.synced;
    await custom.createNamespacedCustomObject({
      group,
      version,
      namespace: ns,
      plural: 'eventsources',
      body: eventSource('one', 'Delete'),
    });
    await eventually('reconciled by the leader', async () =>
      (await streamExists(`ER_${ns}_one`)) ? true : undefined,
    );
    const count = async (op: Operator) =>
      (await op.metrics.reconciles.get()).values.reduce((s, v) => s + v.value, 0);
    // The stream appears mid-reconcile; the count moves when that reconcile finishes.
    await eventually('leader finished a reconcile', async () => ((await count(a)) > 0 ? true : undefined));
    expect(await count(b)).toBe(0);
    expect(b.isLeader()).toBe(false);
    // The leader steps down; the standby takes over and acts.
    await a.stop();
    running.splice(running.indexOf(a), 1);
    await eventually('b leads', () => (b.isLeader() ? true : undefined), 20_000);
    await custom.createNamespacedCustomObject({
      group,
      version,
      namespace: ns,
      plural: 'eventsources',
      body: eventSource('two', 'Delete'),
    });
    await eventually('reconciled by the new leader', async () =>
      (await streamExists(`ER_${ns}_two`)) ? true : undefined,
    );
    // As above: the stream appears mid-reconcile, the count moves when a reconcile finishes.
    await eventually('new leader finished a reconcile', async () =>
      (await count(b)) > 0 ? true : undefined,
    );
  });
  it('removes its finalizer from a cached copy without recreating a deleted object or touching a recreated one', async () => {
    const ns = `op-fin-${Math.random().toString(36).slice(2, 7)}`;
    await createNamespace(kc, ns);
    const applier = new Applier(kc);
    const at = { group, version, namespace: ns, plural: 'eventsources', name: 'shop' };
    // Created, then given the finalizer as the operator gives it: a server-side apply of its own.
    const create = async () => {
      await custom.createNamespacedCustomObject({ ...at, body: eventSource('shop', 'Delete') });
      return applier.apply({
        apiVersion: `${group}/${version}`,
        kind: 'EventSource',
        metadata: { name: 'shop', namespace: ns, finalizers: [finalizer] },
      }) as Promise<EventSource>;
    };
    const read = async () => {
      try {
        return (await custom.getNamespacedCustomObject(at)) as EventSource;
      } catch (err) {
        if (statusCode(err) === 404) return undefined;
        throw err;
      }
    };
    // The copy a reconcile would hold: the object as first read, finalizer included.
    const cached = await create();
    await custom.deleteNamespacedCustomObject(at);
    expect((await read())?.metadata.deletionTimestamp).toBeDefined();
    await applier.removeFinalizer(cached, finalizer);
    await eventually('shop gone', async () => ((await read()) === undefined ? true : undefined));
    // Again from the same copy, the object gone: nothing to do, and nothing created.
    await applier.removeFinalizer(cached, finalizer);
    expect(await read()).toBeUndefined();
    // Recreated under the same name: the old copy's uid no longer matches, its finalizer stays.
    const again = await create();
    await expect(applier.removeFinalizer(cached, finalizer)).rejects.toMatchObject({ code: 422 });
    expect((await read())?.metadata.finalizers).toEqual([finalizer]);
    await applier.removeFinalizer(again, finalizer);
    expect((await read())?.metadata.finalizers ?? []).toEqual([]);
    await custom.deleteNamespacedCustomObject(at);
  });
});
