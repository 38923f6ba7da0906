// Event schemas through the operator and the local kubelet (which runs the ingest pods the operator
// creates, from dist/: run `npm run build` first), against the real kube-apiserver and NATS: valid
// events flow and carry dataschema; invalid ones get 400 with the pointer and never reach the
// stream; a compatible change applied with kubectl takes effect in the running pods without a
// dropped request; a breaking change is refused in status with the reason while the accepted
// version keeps being enforced; a labelled ConfigMap's change takes effect too.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { stringify } from 'yaml';
import type { EventSource } from '../../../api/generated/types.js';
import type { Operator } from '../../../operator/manager.js';
import { LocalKubelet } from '../../../hack/kubelet/kubelet.js';
import { kubeEnv, natsEnv } from '../../stack/context.js';
import { toolPath } from '../../stack/paths.js';
import { adminConfig } from '../../support/kube.js';
import {
  createNamespace,
  eventually,
  installCrds,
  startTestOperator,
  testOptions,
} from '../../support/operator.js';

const ns = `op-schemas-${Date.now().toString(36)}`;
const group = 'eventrunner.io';
const version = 'v1alpha1';

const orderV1 = {
  type: 'object',
  required: ['orderId', 'amount'],
  properties: {
    orderId: { type: 'string' },
    amount: { type: 'number', minimum: 0 },
    currency: { type: 'string', enum: ['EUR'] },
  },
};
/** Compatible: one more currency. */
const orderV2 = {
  ...orderV1,
  properties: { ...orderV1.properties, currency: { type: 'string', enum: ['EUR', 'USD'] } },
};
/** Breaking: a new required property. */
const orderBreaking = { ...orderV2, required: ['orderId', 'amount', 'customer'] };

function manifest(orderSchema: object): object {
  return {
    apiVersion: `${group}/${version}`,
    kind: 'EventSource',
    metadata: { name: 'orders', namespace: ns },
    spec: {
      ingest: { auth: { enabled: false }, grpc: { enabled: false } },
      conversion: { typeFrom: '/eventType' },
      schemas: [
        { type: 'com.shop.order.>', schema: orderSchema },
        { type: 'com.shop.refund', configMapKeyRef: { name: 'refund-schema', key: 'refund.yaml' } },
      ],
    },
  };
}

interface Status {
  status?: {
    conditions?: { type: string; status: string; reason: string; message: string }[];
    schemas?: { type: string; version: number; id: string }[];
  };
}

describe('event schemas through the operator and the local kubelet', () => {
  let admin: KubeConfig;
  let custom: CustomObjectsApi;
  let core: CoreV1Api;
  let operator: Operator;
  let kubelet: LocalKubelet;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let dir: string;

  const kubectl = (...args: string[]) =>
    execFileSync(toolPath('kubectl'), ['--kubeconfig', kubeEnv().kubeconfig, '-n', ns, ...args], {
      encoding: 'utf8',
    });
  const apply = (orderSchema: object) => {
    const file = join(dir, `es-${Date.now()}.yaml`);
    writeFileSync(file, stringify(manifest(orderSchema)));
    return kubectl('apply', '-f', file);
  };
  const get = async () =>
    (await custom.getNamespacedCustomObject({
      group,
      version,
      namespace: ns,
      plural: 'eventsources',
      name: 'orders',
    })) as EventSource & Status;
  const condition = async (type: string) => (await get()).status?.conditions?.find((c) => c.type === type);
  const url = () => {
    const address = kubelet.serviceAddress(ns, 'orders-ingest', 'http');
    if (!address) throw new Error('the ingest Service is not served yet');
    return `http://${address}/events`;
  };
  const send = async (body: object) => {
    const res = await fetch(url(), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const stored = async () => {
    const stream = `ER_${ns}_orders`;
    const count = (await jsm.streams.info(stream)).state.messages;
    const out: { id: string; dataschema?: string; data: Record<string, unknown> }[] = [];
    if (count === 0) return out;
    const consumer = await jetstream(nc).consumers.get(stream);
    for await (const m of await consumer.fetch({ max_messages: count, expires: 5000 })) {
      out.push(m.json());
      if (out.length === count) break;
    }
    return out;
  };

  beforeAll(async () => {
    admin = adminConfig(kubeEnv().kubeconfig);
    await installCrds(admin);
    await createNamespace(admin, ns);
    custom = admin.makeApiClient(CustomObjectsApi);
    core = admin.makeApiClient(CoreV1Api);
    nc = await connect({ servers: natsEnv().url });
    jsm = await jetstreamManager(nc);
    dir = mkdtempSync(join(tmpdir(), 'eventrunner-schemas-op-'));
    operator = await startTestOperator(
      admin,
      testOptions(natsEnv().url, { watchNamespace: ns, resyncMs: 60_000 }),
    );
    kubelet = new LocalKubelet({ kc: admin, namespace: ns });
    await kubelet.start();
    await core.createNamespacedConfigMap({
      namespace: ns,
      body: {
        metadata: { name: 'refund-schema', labels: { 'eventrunner.io/schemas': 'true' } },
        data: { 'refund.yaml': 'type: object\nrequired: [orderId]\n' },
      },
    });
    apply(orderV1);
    await eventually(
      'EventSource Ready',
      async () => ((await condition('Ready'))?.status === 'True' ? true : undefined),
      90_000,
    );
  }, 150_000);

  afterAll(async () => {
    await custom
      .deleteNamespacedCustomObject({ group, version, namespace: ns, plural: 'eventsources', name: 'orders' })
      .catch(() => undefined);
    await eventually('stream deleted', async () => {
      try {
        await jsm.streams.info(`ER_${ns}_orders`);
        return undefined;
      } catch {
        return true;
      }
    }).catch(() => undefined);
    await kubelet?.stop();
    await operator?.stop();
    await nc?.drain();
  });

  it('reports the accepted versions and SchemasValid', async () => {
    const es = await get();
    expect(es.status?.schemas?.map((s) => [s.type, s.version, s.id])).toEqual([
      ['com.shop.order.>', 1, `urn:eventrunner:schema:${ns}:orders:com.shop.order.%3E:v1`],
      ['com.shop.refund', 1, `urn:eventrunner:schema:${ns}:orders:com.shop.refund:v1`],
    ]);
    expect(await condition('SchemasValid')).toMatchObject({
      status: 'True',
      reason: 'SchemasAccepted',
      message: 'serving com.shop.order.> v1, com.shop.refund v1',
    });
  });

  it('stores valid events with dataschema and refuses invalid ones with the pointer', async () => {
    const ok = await send({
      eventType: 'com.shop.order.created',
      orderId: 'o-1',
      amount: 10,
      currency: 'EUR',
    });
    expect(ok.status).toBe(202);
    const bad = await send({ eventType: 'com.shop.order.created', orderId: 'o-2', amount: -3 });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({
      error: 'schema',
      type: 'com.shop.order.created',
      pointer: '/amount',
      keyword: 'minimum',
    });
    const refund = await send({ eventType: 'com.shop.refund', amount: 1 });
    expect(refund.status).toBe(400);
    expect(refund.body).toMatchObject({ pointer: '/orderId', keyword: 'required' });
    const events = await stored();
    expect(events.map((e) => e.data.orderId)).toEqual(['o-1']);
    expect(events[0]!.dataschema).toBe(`urn:eventrunner:schema:${ns}:orders:com.shop.order.%3E:v1`);
  });

  it('takes a compatible change applied with kubectl without restarting a pod or dropping a request', async () => {
    const pod = kubelet.pods(ns, 'orders-ingest')[0]!;
    const usd = { eventType: 'com.shop.order.created', orderId: 'usd', amount: 1, currency: 'USD' };
    expect((await send(usd)).status).toBe(400);
    // Producers keep sending events both versions accept while the change rolls out.
    let sending = true;
    const statuses: number[] = [];
    const load = (async () => {
      for (let i = 0; sending; i++) {
        statuses.push(
          (await send({ eventType: 'com.shop.order.created', orderId: `l-${i}`, amount: i })).status,
        );
      }
    })();
    // The load runs before, during and after the change, however fast the machine serves it.
    await eventually('load running', async () => (statuses.length >= 5 ? true : undefined));
    expect(apply(orderV2)).toMatch(/eventsource.eventrunner.io\/orders configured/);
    await eventually(
      'version 2 serving',
      async () => ((await send(usd)).status === 202 ? true : undefined),
      60_000,
    );
    const servedAt = statuses.length;
    await eventually('load after the change', async () =>
      statuses.length >= servedAt + 5 ? true : undefined,
    );
    sending = false;
    await load;
    expect(statuses.filter((s) => s !== 202)).toEqual([]);
    expect(kubelet.pods(ns, 'orders-ingest')).toEqual([pod]);
    expect(pod.restarts).toBe(0);
    const events = await stored();
    expect(events.find((e) => e.data.orderId === 'usd')?.dataschema).toBe(
      `urn:eventrunner:schema:${ns}:orders:com.shop.order.%3E:v2`,
    );
  });

  it('refuses a breaking change in status, naming it, and keeps enforcing the accepted version', async () => {
    apply(orderBreaking);
    const refused = await eventually('SchemasValid=False', async () => {
      const c = await condition('SchemasValid');
      return c?.status === 'False' ? c : undefined;
    });
    expect(refused).toMatchObject({
      reason: 'BreakingSchemaChange',
      message: expect.stringContaining(
        'com.shop.order.>: the new schema refuses events version 2 accepts, at /required: property "customer" is now required; version 2 keeps serving',
      ),
    });
    expect(await condition('Ready')).toMatchObject({ status: 'False', reason: 'BreakingSchemaChange' });
    expect((await get()).status?.schemas?.[0]).toMatchObject({ type: 'com.shop.order.>', version: 2 });
    // Version 2 still decides: no customer is fine, a negative amount is not.
    expect(
      (await send({ eventType: 'com.shop.order.created', orderId: 'no-customer', amount: 1 })).status,
    ).toBe(202);
    expect((await send({ eventType: 'com.shop.order.created', orderId: 'neg', amount: -1 })).status).toBe(
      400,
    );
    // Back to a compatible schema: valid again.
    apply(orderV2);
    await eventually('SchemasValid=True again', async () =>
      (await condition('SchemasValid'))?.status === 'True' ? true : undefined,
    );
  });

  it('takes a change of a labelled ConfigMap schema at once', async () => {
    await core.patchNamespacedConfigMap({
      name: 'refund-schema',
      namespace: ns,
      body: [{ op: 'replace', path: '/data/refund.yaml', value: 'type: object\n' }],
    });
    await eventually(
      'refund version 2 serving',
      async () =>
        (await send({ eventType: 'com.shop.refund', amount: 1 })).status === 202 ? true : undefined,
      60_000,
    );
    expect((await get()).status?.schemas?.find((s) => s.type === 'com.shop.refund')?.version).toBe(2);
  });
});
