// LAG and DLQ as the operator reports them, on a NATS of this test's own that it stops: known
// figures while NATS answers, absent (an empty kubectl cell, never 0) with a ConsumerReady message
// saying why while it does not, and known again once it is back. LAG follows new events within the
// 10 s refresh while it is not 0 (the wait between two refreshes is measured), though the
// operator's resync is a minute.
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
} from '@kubernetes/client-node';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { EventSource, Pipeline } from '../../../api/generated/types.js';
import type { Operator } from '../../../operator/manager.js';
import { kubeEnv } from '../../stack/context.js';
import { startNats, type NatsServer } from '../../stack/nats.js';
import { toolPath } from '../../stack/paths.js';
import { adminConfig } from '../../support/kube.js';
import {
  createNamespace,
  eventually,
  installCrds,
  startTestOperator,
  testOptions,
} from '../../support/operator.js';

const ns = `status-truth-${Date.now().toString(36)}`;
const group = 'eventrunner.io';
const version = 'v1alpha1';

describe('LAG and DLQ when NATS cannot be read', () => {
  let nats: NatsServer;
  let kc: KubeConfig;
  let custom: CustomObjectsApi;
  let operator: Operator;
  let nc: NatsConnection;

  let core: CoreV1Api;
  const read = async <T>(plural: string, name: string) =>
    (await custom.getNamespacedCustomObject({ group, version, namespace: ns, plural, name })) as T;
  const readEventSource = (name: string) => read<EventSource>('eventsources', name);
  const readPipeline = (name: string) => read<Pipeline>('pipelines', name);
  const pipeline = async () =>
    (await custom.getNamespacedCustomObject({
      group,
      version,
      namespace: ns,
      plural: 'pipelines',
      name: 'orders',
    })) as Pipeline;
  const consumerReady = (pl: Pipeline) => pl.status?.conditions?.find((c) => c.type === 'ConsumerReady');
  const kubectlRow = () =>
    execFileSync(
      toolPath('kubectl'),
      ['--kubeconfig', kubeEnv().kubeconfig, '-n', ns, 'get', 'pipelines', 'orders', '--no-headers'],
      { encoding: 'utf8' },
    ).trim();
  const publish = async (n: number, from: number) => {
    const js = jetstream(nc);
    for (let i = 0; i < n; i++)
      await js.publish(`er.${ns}.shop.com.shop.order`, JSON.stringify({ id: `e-${from + i}` }), {
        msgID: `e-${from + i}`,
      });
  };

  beforeAll(async () => {
    nats = await startNats('nats-status-truth');
    kc = adminConfig(kubeEnv().kubeconfig);
    await installCrds(kc);
    await createNamespace(kc, ns);
    custom = kc.makeApiClient(CustomObjectsApi);
    core = kc.makeApiClient(CoreV1Api);
    operator = await startTestOperator(kc, testOptions(nats.url, { watchNamespace: ns, resyncMs: 60_000 }));
    nc = await connect({ servers: nats.url, maxReconnectAttempts: -1 });
    const create = (plural: string, body: object) =>
      custom.createNamespacedCustomObject({ group, version, namespace: ns, plural, body });
    await create('eventsources', {
      apiVersion: `${group}/${version}`,
      kind: 'EventSource',
      metadata: { name: 'shop' },
      spec: { ingest: { auth: { enabled: false } }, stream: { maxBytes: '16Mi' } },
    });
    await create('sinks', {
      apiVersion: `${group}/${version}`,
      kind: 'Sink',
      metadata: { name: 'hook' },
      spec: { http: { url: 'http://127.0.0.1:9/hook' } },
    });
    await eventually('the stream of EventSource shop', async () => {
      const es = (await custom.getNamespacedCustomObject({
        group,
        version,
        namespace: ns,
        plural: 'eventsources',
        name: 'shop',
      })) as { status?: { conditions?: { type: string; status: string }[] } };
      return es.status?.conditions?.find((c) => c.type === 'StreamReady')?.status === 'True'
        ? true
        : undefined;
    });
    // Events before the Pipeline exists: its consumer starts with them pending.
    await publish(7, 0);
    await create('pipelines', {
      apiVersion: `${group}/${version}`,
      kind: 'Pipeline',
      metadata: { name: 'orders' },
      spec: {
        sources: [{ eventSource: 'shop' }],
        rules: 'rule All "all" { when true then Route("out"); }',
        outputs: [{ name: 'out', sink: 'hook' }],
        deadLetter: { maxBytes: '8Mi' },
      },
    });
  }, 60_000);

  afterAll(async () => {
    await operator?.stop();
    await nc?.close();
    await nats?.stop();
  });

  it(
    'shows known figures, then none with a reason while NATS is away, then figures again',
    { timeout: 120_000 },
    async () => {
      await eventually('LAG 7 and DLQ 0', async () => {
        const pl = await pipeline();
        return pl.status?.lag === 7 && pl.status.deadLetters === 0 ? pl : undefined;
      });
      // Polled from the Pipeline's creation on: seen within a poll of the refresh that wrote it.
      const refreshed = Date.now();
      expect(kubectlRow()).toMatch(/^orders\s+\S+\s+\d+\s+7\s+0\s+/);

      // Not 0, so refreshed at least every 10 s although the resync is a minute: events published
      // just after a refresh show at the next one, so the wait from that refresh is about a whole
      // refresh interval. Allowed: 10 s, plus 3 s for the reconcile and this poll on a loaded
      // machine.
      await publish(5, 7);
      await eventually(
        'LAG 12',
        async () => ((await pipeline()).status?.lag === 12 ? true : undefined),
        60_000,
      );
      const intervalMs = Date.now() - refreshed;
      console.log(`LAG refreshed ${intervalMs} ms after the refresh before`);
      expect(intervalMs).toBeLessThanOrEqual(13_000);

      await nats.pause();
      const unknown = await eventually(
        'LAG and DLQ absent',
        async () => {
          const pl = await pipeline();
          return pl.status?.lag === undefined && pl.status?.deadLetters === undefined ? pl : undefined;
        },
        60_000,
      );
      const cond = consumerReady(unknown);
      expect(cond?.status).toBe('False');
      expect(cond?.reason).toBe('ConsumerError');
      expect(cond?.message).toMatch(/LAG is unknown|DLQ is unknown/);
      // READY, REPLICAS, then LAG and DLQ: empty cells (kubectl prints <none> or nothing), not 0.
      const row = kubectlRow();
      expect(row).not.toMatch(/^orders\s+\S+\s+\d+\s+0\s/);
      expect(row).toMatch(/^orders\s+False\s+\d+\s+(<none>\s+<none>|<unknown>\s+<unknown>)?\s*\S+$/);

      await nats.resume();
      await eventually(
        'LAG and DLQ known again',
        async () => {
          const pl = await pipeline();
          return pl.status?.lag === 12 && pl.status.deadLetters === 0 ? true : undefined;
        },
        60_000,
      );
    },
  );

  it(
    'shows no LAG, never a partial sum, while one of two sources does not exist',
    { timeout: 60_000 },
    async () => {
      await custom.patchNamespacedCustomObject(
        {
          group,
          version,
          namespace: ns,
          plural: 'pipelines',
          name: 'orders',
          body: { spec: { sources: [{ eventSource: 'shop' }, { eventSource: 'gone' }] } },
        },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      const pl = await eventually(
        'LAG absent',
        async () => {
          const p = await pipeline();
          return p.status?.observedGeneration === p.metadata?.generation && p.status?.lag === undefined
            ? p
            : undefined;
        },
        30_000,
      );
      expect(consumerReady(pl)).toMatchObject({
        status: 'False',
        reason: 'EventSourceNotFound',
        message: 'EventSource gone does not exist, so LAG is unknown',
      });
    },
  );

  it(
    'warns while a full stream is about to remove unprocessed events, and tells those it removed',
    { timeout: 60_000 },
    async () => {
      const create = (plural: string, body: object) =>
        custom.createNamespacedCustomObject({ group, version, namespace: ns, plural, body });
      // A stream of 64 KiB, and a suspended Pipeline reading it (no processor runs here anyway).
      await create('eventsources', {
        apiVersion: `${group}/${version}`,
        kind: 'EventSource',
        metadata: { name: 'tiny' },
        spec: { ingest: { auth: { enabled: false } }, stream: { maxBytes: '64Ki' } },
      });
      await eventually('the stream of EventSource tiny', async () =>
        (await readEventSource('tiny')).status?.conditions?.find((c) => c.type === 'StreamReady')?.status ===
        'True'
          ? true
          : undefined,
      );
      await create('pipelines', {
        apiVersion: `${group}/${version}`,
        kind: 'Pipeline',
        metadata: { name: 'tiny-reader' },
        spec: {
          sources: [{ eventSource: 'tiny' }],
          rules: 'rule All "all" { when true then Route("out"); }',
          outputs: [{ name: 'out', sink: 'hook' }],
          suspend: true,
        },
      });
      await eventually('the consumer of tiny-reader', async () =>
        (await readPipeline('tiny-reader')).status?.conditions?.find((c) => c.type === 'ConsumerReady')
          ?.status === 'True'
          ? true
          : undefined,
      );
      const js = jetstream(nc);
      const jsm = await jetstreamManager(nc);
      const stream = async () => (await jsm.streams.info(`ER_${ns}_tiny`)).state;
      const pad = 'x'.repeat(1000);
      let sent = 0;
      const send = () =>
        js.publish(`er.${ns}.tiny.com.shop.order`, JSON.stringify({ id: `t-${sent}`, pad }), {
          msgID: `t-${sent++}`,
        });
      const warning = (reason: string) =>
        eventually(
          `an ${reason} Event`,
          async () =>
            (await core.listNamespacedEvent({ namespace: ns, fieldSelector: `reason=${reason}` })).items.find(
              (e) => e.involvedObject.name === 'tiny-reader',
            ),
          30_000,
        );
      // Events of about 1 KiB until the stream is at 90% of its 64 KiB, none removed yet.
      while ((await stream()).bytes < 0.9 * 64 * 1024) await send();
      expect((await stream()).first_seq).toBe(1);
      // Resumed (no processor runs here, so it stays behind): warned before anything is lost.
      await custom.patchNamespacedCustomObject(
        {
          group,
          version,
          namespace: ns,
          plural: 'pipelines',
          name: 'tiny-reader',
          body: { spec: { suspend: false } },
        },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      const risk = await warning('EventsAtRisk');
      expect(risk.type).toBe('Warning');
      expect(risk.message).toMatch(
        /^the stream of EventSource tiny is at 9\d% of maxBytes, with this Pipeline's oldest unprocessed event \(sequence 1\) among the oldest tenth it holds/,
      );
      // 200 more: the stream keeps the last ~60 and removes the others unprocessed; the reconciles
      // that follow (every 10 s while LAG is not 0) find them gone.
      for (let i = 0; i < 200; i++) await send();
      const info = { state: await stream() };
      expect(info.state.first_seq).toBeGreaterThan(1);
      const event = await warning('EventsDiscarded');
      expect(event.type).toBe('Warning');
      expect(event.message).toMatch(
        /^the stream of EventSource tiny removed up to \d+ events \(sequences 1–\d+\) before this Pipeline processed them: its limits \(maxAge 72h, maxBytes 64Ki\)/,
      );
      const [, last] = /sequences 1–(\d+)/.exec(event.message!)!;
      expect(Number(last)).toBeGreaterThanOrEqual(info.state.first_seq - 1);
    },
  );
});
