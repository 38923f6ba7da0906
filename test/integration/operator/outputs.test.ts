// Webhook and EventSource Sinks through the operator, against the real kube-apiserver, NATS and
// a real HTTP server in the test: probes that connect without sending, Secrets for the token
// mounted into the processor and rolling it when they rotate, the target stream of a chained
// Pipeline, a Pipeline whose outputs lead back to its own sources refused in its status (and let
// go once the loop is gone), and new dead letters told as a Warning Event.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppsV1Api, CoreV1Api, CustomObjectsApi, type V1Deployment } from '@kubernetes/client-node';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { headers as natsHeaders } from '@nats-io/nats-core';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { parse } from 'yaml';
import type { Pipeline, Sink } from '../../../api/generated/types.js';
import { redeliveryWindowMs } from '../../../operator/jetstream.js';
import type { Operator } from '../../../operator/manager.js';
import { clickhouseEnv, kubeEnv, natsEnv } from '../../stack/context.js';
import { makeServerTls } from '../../stack/tls.js';
import { adminConfig } from '../../support/kube.js';
import {
  createNamespace,
  eventually,
  installCrds,
  startTestOperator,
  testOptions,
} from '../../support/operator.js';
import { startReceiver, type Receiver } from '../../support/webhook-receiver.js';

const suffix = randomUUID().slice(0, 8);
const ns = `op-outputs-${suffix}`;
const group = 'eventrunner.io';
const version = 'v1alpha1';

type Condition = { type: string; status: string; reason: string; message: string };
type Obj = { status?: { conditions?: Condition[]; kind?: string; target?: string } };

const rules = (outputs: string[]) =>
  `rule All "every order" { when true then ${outputs.map((o) => `Route("${o}");`).join(' ')} }`;

describe('webhook and EventSource Sinks through the operator', () => {
  let custom: CustomObjectsApi;
  let core: CoreV1Api;
  let apps: AppsV1Api;
  let nc: NatsConnection;
  let operator: Operator;
  let receiver: Receiver;

  const create = (plural: string, kind: string, name: string, spec: object) =>
    custom.createNamespacedCustomObject({
      group,
      version,
      namespace: ns,
      plural,
      body: { apiVersion: `${group}/${version}`, kind, metadata: { name }, spec },
    });
  const get = async <T>(plural: string, name: string) =>
    (await custom.getNamespacedCustomObject({ group, version, namespace: ns, plural, name })) as T;
  const condition = (o: Obj, type: string) => o.status?.conditions?.find((c) => c.type === type);
  const until = <T extends Obj>(
    plural: string,
    name: string,
    type: string,
    pass: (c: Condition) => boolean,
  ) =>
    eventually(
      `${name} ${type}`,
      async () => {
        const o = await get<T>(plural, name);
        const c = condition(o, type);
        return c && pass(c) ? o : undefined;
      },
      60_000,
    );
  const eventSource = (name: string) =>
    create('eventsources', 'EventSource', name, { ingest: { auth: { enabled: false } } });
  const deployment = (name: string) => apps.readNamespacedDeployment({ name, namespace: ns });
  const hash = (d: V1Deployment) => d.spec?.template.metadata?.annotations?.['eventrunner.io/config-hash'];

  beforeAll(async () => {
    const kc = adminConfig(kubeEnv().kubeconfig);
    await installCrds(kc);
    await createNamespace(kc, ns);
    custom = kc.makeApiClient(CustomObjectsApi);
    core = kc.makeApiClient(CoreV1Api);
    apps = kc.makeApiClient(AppsV1Api);
    nc = await connect({ servers: natsEnv().url });
    receiver = await startReceiver();
    operator = await startTestOperator(
      kc,
      testOptions(natsEnv().url, {
        watchNamespace: ns,
        resyncMs: 2000,
        logLevel: process.env.OPERATOR_LOG ?? 'warn',
      }),
    );
    await eventSource('shop');
  });
  afterAll(async () => {
    await operator?.stop();
    await receiver?.close();
    await nc?.drain();
  });

  it('probes a webhook by connecting, without sending it anything', async () => {
    await create('sinks', 'Sink', 'notify', {
      http: {
        url: `${receiver.url}/orders?team=shop`,
        mode: 'structured',
        auth: { bearerTokenSecretRef: { name: 'hook-token' } },
      },
    });
    const missing = await until<Sink>('sinks', 'notify', 'Ready', (c) => c.status === 'False');
    expect(condition(missing, 'Ready')).toMatchObject({ reason: 'SecretNotFound' });
    expect(condition(missing, 'Ready')!.message).toMatch(/Secret hook-token .* does not exist/);
    await core.createNamespacedSecret({
      namespace: ns,
      body: { metadata: { name: 'hook-token' }, stringData: { token: 'first-token' } },
    });
    const sink = await until<Sink>('sinks', 'notify', 'Ready', (c) => c.status === 'True');
    expect(condition(sink, 'Ready')).toMatchObject({ reason: 'ProbeSucceeded' });
    expect(condition(sink, 'Ready')!.message).toBe(
      `${receiver.url}/orders: connected to 127.0.0.1:${new URL(receiver.url).port}; no event sent`,
    );
    expect(sink.status).toMatchObject({ kind: 'http', target: `${receiver.url}/orders` });
    expect(receiver.deliveries).toEqual([]);
  });

  it('reports a webhook nobody listens on as ConnectionFailed', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    await create('sinks', 'Sink', 'nobody', { http: { url: `http://127.0.0.1:${port}/hook` } });
    const sink = await until<Sink>('sinks', 'nobody', 'Ready', (c) => c.status === 'False');
    expect(condition(sink, 'Ready')).toMatchObject({ reason: 'ConnectionFailed' });
    expect(condition(sink, 'Ready')!.message).toMatch(/cannot connect to 127\.0\.0\.1:\d+: .*ECONNREFUSED/);
  });

  it('checks a webhook’s certificate against the CA Secret, reporting an untrusted one as TLSFailed', async () => {
    const tls = makeServerTls(mkdtempSync(join(tmpdir(), 'eventrunner-op-hook-')), 'hook');
    const secure = await startReceiver({ tls });
    try {
      await create('sinks', 'Sink', 'untrusted', { http: { url: `${secure.url}/hook` } });
      const bad = await until<Sink>('sinks', 'untrusted', 'Ready', (c) => c.status === 'False');
      expect(condition(bad, 'Ready')).toMatchObject({ reason: 'TLSFailed' });
      expect(condition(bad, 'Ready')!.message).toMatch(/set spec\.http\.tls\.caSecretRef/);
      await core.createNamespacedSecret({
        namespace: ns,
        body: { metadata: { name: 'hook-ca' }, stringData: { 'ca.crt': readFileSync(tls.caFile, 'utf8') } },
      });
      await create('sinks', 'Sink', 'trusted', {
        http: { url: `${secure.url}/hook`, tls: { caSecretRef: { name: 'hook-ca' } } },
      });
      const good = await until<Sink>('sinks', 'trusted', 'Ready', (c) => c.status === 'True');
      expect(condition(good, 'Ready')!.message).toMatch(
        /with TLSv1\.[23], certificate verified; no event sent$/,
      );
      expect(secure.deliveries).toEqual([]);
    } finally {
      await secure.close();
    }
  });

  it('makes an eventSource Sink Ready once its EventSource and stream exist', async () => {
    await create('sinks', 'Sink', 'alerts-out', { eventSource: { name: 'alerts' } });
    const missing = await until<Sink>('sinks', 'alerts-out', 'Ready', (c) => c.status === 'False');
    expect(condition(missing, 'Ready')).toMatchObject({ reason: 'EventSourceNotFound' });
    await eventSource('alerts');
    const sink = await until<Sink>('sinks', 'alerts-out', 'Ready', (c) => c.status === 'True');
    expect(condition(sink, 'Ready')!.message).toBe(`EventSource alerts: stream ER_${ns}_alerts`);
    expect(sink.status).toMatchObject({ kind: 'eventSource', target: 'EventSource alerts' });
  });

  it('renders the token mount and the target stream into the processor, and rolls it when the token rotates', async () => {
    await create('sinks', 'Sink', 'counts', {
      clickhouse: {
        url: clickhouseEnv().url,
        database: `op_outputs_${suffix}`,
        table: 'alerts',
        manageSchema: true,
      },
    });
    await create('pipelines', 'Pipeline', 'orders', {
      sources: [{ eventSource: 'shop' }],
      rules: rules(['notify', 'alerts']),
      outputs: [
        { name: 'notify', sink: 'notify' },
        { name: 'alerts', sink: 'alerts-out' },
      ],
    });
    await create('pipelines', 'Pipeline', 'alert-counts', {
      sources: [{ eventSource: 'alerts' }],
      rules: rules(['store']),
      outputs: [{ name: 'store', sink: 'counts' }],
    });
    await until<Pipeline>('pipelines', 'orders', 'SinksReady', (c) => c.status === 'True');
    await until<Pipeline>('pipelines', 'alert-counts', 'SinksReady', (c) => c.status === 'True');
    // orders publishes to alerts, again on each redelivery: alerts' stream drops those copies as
    // duplicates for as long as orders may redeliver (its defaults: longer than alerts' 2m).
    const window = redeliveryWindowMs((await get<Pipeline>('pipelines', 'orders')).spec.delivery);
    expect(window).toBeGreaterThan(120_000);
    const jsm = await jetstreamManager(nc);
    await eventually('the alerts stream remembering ids through orders’ redeliveries', async () =>
      (await jsm.streams.info(`ER_${ns}_alerts`)).config.duplicate_window === window * 1e6 ? true : undefined,
    );
    const d = await eventually('processor Deployment', () => deployment('orders-processor'));
    expect(d.spec?.template.spec?.volumes?.find((v) => v.name === 'sink-notify')?.secret).toMatchObject({
      secretName: 'hook-token',
      items: [{ key: 'token', path: 'token' }],
    });
    const cm = await core.readNamespacedConfigMap({ name: 'orders-processor-config', namespace: ns });
    const config = parse(cm.data!['config.yaml']!) as { outputs: Record<string, unknown>[] };
    expect(config.outputs).toEqual([
      expect.objectContaining({
        name: 'notify',
        credentials: { tokenFile: '/etc/eventrunner/sinks/notify/token' },
      }),
      expect.objectContaining({
        name: 'alerts',
        eventSource: { stream: `ER_${ns}_alerts`, subjectPrefix: `er.${ns}.alerts` },
      }),
    ]);
    await core.patchNamespacedSecret({
      name: 'hook-token',
      namespace: ns,
      body: [{ op: 'replace', path: '/data/token', value: Buffer.from('second-token').toString('base64') }],
    });
    await eventually('rolled on token rotation', async () => {
      const now = await deployment('orders-processor');
      return hash(now) !== hash(d) ? now : undefined;
    });
  });

  it('refuses a Pipeline whose outputs lead back to its sources, and lets it go when the loop goes', async () => {
    await create('sinks', 'Sink', 'back-to-shop', { eventSource: { name: 'shop' } });
    await create('pipelines', 'Pipeline', 'loop', {
      sources: [{ eventSource: 'alerts' }],
      rules: rules(['again']),
      outputs: [{ name: 'again', sink: 'back-to-shop' }],
    });
    const loop = await until<Pipeline>('pipelines', 'loop', 'SinksReady', (c) => c.reason === 'OutputCycle');
    expect(condition(loop, 'SinksReady')!.message).toMatch(
      /^Pipeline loop → EventSource shop → Pipeline orders → EventSource alerts → Pipeline loop: /,
    );
    expect(condition(loop, 'Ready')?.status).toBe('False');
    // orders is on the loop too; alert-counts only reads from it.
    const orders = await until<Pipeline>(
      'pipelines',
      'orders',
      'SinksReady',
      (c) => c.reason === 'OutputCycle',
    );
    expect(condition(orders, 'SinksReady')!.message).toMatch(
      /^Pipeline orders → EventSource alerts → Pipeline loop → EventSource shop → Pipeline orders: /,
    );
    expect(condition(await get<Pipeline>('pipelines', 'alert-counts'), 'SinksReady')?.status).toBe('True');
    // No processor for a Pipeline that would send events round forever.
    await expect(deployment('loop-processor')).rejects.toMatchObject({ code: 404 });
    const warnings = await core.listNamespacedEvent({ namespace: ns });
    expect(
      warnings.items.some(
        (e) => e.involvedObject.name === 'loop' && e.reason === 'OutputCycle' && e.type === 'Warning',
      ),
    ).toBe(true);

    await custom.deleteNamespacedCustomObject({
      group,
      version,
      namespace: ns,
      plural: 'pipelines',
      name: 'loop',
    });
    await until<Pipeline>('pipelines', 'orders', 'SinksReady', (c) => c.status === 'True');
  });

  it('tells new dead letters as a Warning Event with the latest reason', async () => {
    const h = natsHeaders();
    h.set('eventrunner-reason', 'output notify rejected the event: HTTP 404 Not Found: no such hook');
    h.set('eventrunner-output', 'notify');
    await jetstream(nc).publish(`erdlq.${ns}.orders`, new TextEncoder().encode('{}'), { headers: h });
    const event = await eventually(
      'EventsDeadLettered Event',
      async () =>
        (await core.listNamespacedEvent({ namespace: ns })).items.find(
          (e) => e.involvedObject.name === 'orders' && e.reason === 'EventsDeadLettered',
        ),
      30_000,
    );
    expect(event.type).toBe('Warning');
    expect(event.message).toBe(
      '1 event dead-lettered, 1 in the dead-letter stream; latest: output notify rejected the event: HTTP 404 Not Found: no such hook (output notify)',
    );
    await eventually('DLQ in status', async () =>
      (await get<Pipeline>('pipelines', 'orders')).status?.deadLetters === 1 ? true : undefined,
    );
  });
});
