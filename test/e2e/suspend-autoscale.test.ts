// Suspend/resume and the autoscaler with the operator as its own process and the local kubelet
// running real processors, writing to a real webhook receiver that answers slowly (each processor
// pod then does a bounded number of events per second, so more pods really do more).
// - Suspend mid-stream: the processors go, the consumer's position holds while 10,000 more events
//   arrive, and resume delivers every event exactly once.
// - A 20,000-event backlog (EVENTRUNNER_AUTOSCALE_EVENTS; the figures in docs/operations.md were
//   taken with 200,000), published straight into the stream, scales a Pipeline from 1 to its max
//   and back to its min after the drain and scaleDownDelay, without reversing on the way.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppsV1Api, CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/nats-core';
import type { Pipeline } from '../../api/generated/types.js';
import { startJourney, type Journey } from '../../hack/journey.js';
import { toNatsMessage } from '../../runtime/events/wire.js';
import { cassandraEnv, clickhouseEnv, kubeEnv, natsEnv } from '../stack/context.js';
import { startReceiver, type Receiver } from '../support/webhook-receiver.js';
import { eventually } from '../support/operator.js';
import { autoscaleBacklog } from '../support/backlog.js';
import { queryWorkerAutoscaling } from './query-autoscale.js';

const group = 'eventrunner.io';
const version = 'v1alpha1';
// Enough that one slow pod (about 200 events/s) would take 100 s: four drain it in about a quarter.
const BACKLOG = autoscaleBacklog(20_000);
// Waits grow with the backlog: at worst about 100 events/s on a loaded machine.
const drainMs = Math.max(480_000, BACKLOG * 10);

describe('suspend and autoscaling through the operator and the local kubelet', () => {
  const ns = `day2-${randomUUID().slice(0, 6)}`;
  let journey: Journey;
  let receiver: Receiver;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let custom: CustomObjectsApi;
  let apps: AppsV1Api;
  let core: CoreV1Api;

  const create = (plural: string, body: object) =>
    custom.createNamespacedCustomObject({ group, version, namespace: ns, plural, body });
  const setSuspend = (name: string, value: boolean) =>
    custom.patchNamespacedCustomObject({
      group,
      version,
      namespace: ns,
      plural: 'pipelines',
      name,
      body: [{ op: 'replace', path: '/spec/suspend', value }],
    });
  const pipeline = async (name: string) =>
    (await custom.getNamespacedCustomObject({
      group,
      version,
      namespace: ns,
      plural: 'pipelines',
      name,
    })) as Pipeline;
  const deployment = (pl: string) =>
    apps.readNamespacedDeployment({ name: `${pl}-processor`, namespace: ns });
  const consumer = (es: string, pl: string) => jsm.consumers.info(`ER_${ns}_${es}`, `ER_PL_${ns}_${pl}`);

  /** Publishes events `from`..`to`-1 of EventSource `es` straight into its stream, 2,000 in flight. */
  async function publish(es: string, prefix: string, from: number, to: number): Promise<void> {
    const js = jetstream(nc);
    const window: Promise<unknown>[] = [];
    for (let i = from; i < to; i++) {
      const m = toNatsMessage(
        {
          specversion: '1.0',
          id: `${prefix}-${i}`,
          source: '/day2',
          type: 'com.day2.tick',
          datacontenttype: 'application/json',
          data: { n: i },
        },
        `er.${ns}.${es}`,
      );
      const h = natsHeaders();
      for (const [k, v] of Object.entries(m.headers)) h.set(k, v);
      window.push(js.publish(m.subject, m.body, { msgID: m.msgId, headers: h, timeout: 60_000 }));
      if (window.length >= 2000) await Promise.all(window.splice(0));
    }
    await Promise.all(window);
  }

  async function eventSource(name: string, maxBytes: string): Promise<void> {
    await create('eventsources', {
      apiVersion: `${group}/${version}`,
      kind: 'EventSource',
      metadata: { name },
      spec: { ingest: { auth: { enabled: false } }, stream: { maxBytes } },
    });
    // Its stream, before anything is published into it.
    await eventually(`the stream of EventSource ${name}`, async () =>
      jsm.streams.info(`ER_${ns}_${name}`).then(
        () => true,
        () => undefined,
      ),
    );
  }

  async function readyPipeline(name: string, spec: object): Promise<void> {
    await create('pipelines', {
      apiVersion: `${group}/${version}`,
      kind: 'Pipeline',
      metadata: { name },
      spec: {
        rules: 'rule All "every event" { when true then Route("hook"); }',
        outputs: [{ name: 'hook', sink: 'fast' }],
        deadLetter: { maxBytes: '8Mi' },
        ...spec,
      },
    });
    await eventually(
      `Pipeline ${name} Ready`,
      async () =>
        (await pipeline(name)).status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True'
          ? true
          : undefined,
      120_000,
    );
  }

  beforeAll(async () => {
    receiver = await startReceiver({ respond: () => ({ status: 200, delayMs: 50 }) });
    journey = await startJourney(
      { kube: kubeEnv(), nats: natsEnv(), cassandra: cassandraEnv(), clickhouse: clickhouseEnv() },
      ns,
    );
    custom = journey.kc.makeApiClient(CustomObjectsApi);
    apps = journey.kc.makeApiClient(AppsV1Api);
    core = journey.kc.makeApiClient(CoreV1Api);
    nc = await connect({ servers: natsEnv().url });
    jsm = await jetstreamManager(nc);
    // Every request is answered after 50 ms. `fast` (4 requests of 50 at a time) lets a processor go
    // as fast as the machine allows; `slow` (one request of 10 at a time, about 200 events/s) bounds
    // each processor pod well below what the machine can do, so that more pods really do more.
    for (const [name, maxConcurrency, maxEvents] of [
      ['fast', 4, 50],
      ['slow', 1, 10],
    ] as const)
      await create('sinks', {
        apiVersion: `${group}/${version}`,
        kind: 'Sink',
        metadata: { name },
        spec: {
          http: {
            url: `${receiver.url}/${name}`,
            mode: 'batch',
            maxConcurrency,
            batch: { maxEvents, maxDelay: '20ms' },
          },
        },
      });
    await eventSource('ticks', '128Mi');
    // About 300 bytes per event in the stream, with room to spare.
    await eventSource('bulk', `${Math.max(128, Math.ceil((BACKLOG * 600) / 2 ** 20))}Mi`);
  }, 180_000);

  afterAll(async () => {
    await journey?.stop();
    // The streams hold 15,000 events and the backlog, and reserve their maxBytes on the shared
    // NATS: remove them.
    if (jsm)
      for await (const s of jsm.streams.list())
        if (s.config.name.includes(`_${ns}_`)) await jsm.streams.delete(s.config.name);
    await nc?.close();
    await receiver?.close();
  });

  const acceptedWith = (prefix: string) => {
    const all = receiver.accepted();
    const mine = [...all.entries()].filter(([id]) => id.startsWith(`${prefix}-`));
    return { count: mine.length, repeated: mine.filter(([, n]) => n !== 1).map(([id]) => id) };
  };

  it(
    'suspends mid-stream, holds the position while 10,000 more arrive, and resumes exactly once',
    { timeout: 240_000 },
    async () => {
      await readyPipeline('ticker', { sources: [{ eventSource: 'ticks' }] });
      await publish('ticks', 's', 0, 5_000);
      await eventually(
        'some events processed',
        () => (acceptedWith('s').count >= 500 ? true : undefined),
        60_000,
      );
      expect(acceptedWith('s').count).toBeLessThan(5_000);

      const suspendedAt = Date.now();
      await setSuspend('ticker', true);
      await eventually(
        'processors gone',
        async () => {
          const d = await deployment('ticker');
          return d.spec?.replicas === 0 && (d.status?.replicas ?? 0) === 0 ? true : undefined;
        },
        60_000,
      );
      // Events the processors had fetched but not started when they stopped were nak'ed: they count
      // as ack pending until a processor takes them again, at once after resume; none of them was
      // written. The position holds once two looks a second apart agree.
      let previous = '';
      const held = await eventually(
        'the position to hold',
        async () => {
          const c = await consumer('ticks', 'ticker');
          const now = [
            c.delivered.stream_seq,
            c.ack_floor.stream_seq,
            c.num_ack_pending,
            acceptedWith('s').count,
          ].join('/');
          const same = now === previous;
          previous = now;
          if (!same) await new Promise((r) => setTimeout(r, 1000));
          return same ? c : undefined;
        },
        60_000,
      );
      const stoppedAfterMs = Date.now() - suspendedAt;
      const processedAtSuspend = acceptedWith('s').count;
      expect(acceptedWith('s').repeated).toEqual([]);
      expect(processedAtSuspend + held.num_pending + held.num_ack_pending).toBe(5_000);

      await publish('ticks', 's', 5_000, 15_000);
      // Nothing is delivered while suspended: the consumer's position and the receiver stay put
      // while the pending count grows by exactly what was published.
      const after = await eventually('the 10,000 counted as pending', async () => {
        const c = await consumer('ticks', 'ticker');
        return c.num_pending === held.num_pending + 10_000 ? c : undefined;
      });
      expect(after.delivered.stream_seq).toBe(held.delivered.stream_seq);
      expect(after.ack_floor.stream_seq).toBe(held.ack_floor.stream_seq);
      expect(after.num_ack_pending).toBe(held.num_ack_pending);
      expect(acceptedWith('s').count).toBe(processedAtSuspend);
      const pl = await eventually('status with the new lag', async () => {
        const pl = await pipeline('ticker');
        return pl.status?.lag === held.num_pending + held.num_ack_pending + 10_000 ? pl : undefined;
      });
      expect(pl.status?.phase).toBe('Suspended');

      await setSuspend('ticker', false);
      await eventually(
        'all 15,000 delivered',
        () => (acceptedWith('s').count === 15_000 ? true : undefined),
        180_000,
      );
      expect(acceptedWith('s').repeated).toEqual([]);
      // The last writes are acknowledged a moment after the receiver answered them.
      await eventually('the consumer drained', async () => {
        const c = await consumer('ticks', 'ticker');
        return c.num_pending + c.num_ack_pending === 0 ? true : undefined;
      });
      expect(acceptedWith('s')).toEqual({ count: 15_000, repeated: [] });
      console.log(
        `suspend: processors gone ${stoppedAfterMs} ms after spec.suspend was set; ` +
          `${processedAtSuspend} of 5,000 processed before (${held.num_ack_pending} left in flight), ` +
          `the rest and 10,000 more after resume`,
      );
    },
  );

  it(
    `scales a ${BACKLOG}-event backlog from 1 to max and back to min after the drain, without flapping`,
    { timeout: 120_000 + drainMs },
    async () => {
      // The backlog first: the Pipeline's consumer starts with all of it pending.
      const start = Date.now();
      await publish('bulk', 'b', 0, BACKLOG);
      const published = Date.now();
      await create('pipelines', {
        apiVersion: `${group}/${version}`,
        kind: 'Pipeline',
        metadata: { name: 'scaled' },
        spec: {
          sources: [{ eventSource: 'bulk' }],
          rules: 'rule All "every event" { when true then Route("hook"); }',
          outputs: [{ name: 'hook', sink: 'slow' }],
          deadLetter: { maxBytes: '8Mi' },
          autoscaling: {
            minReplicas: 1,
            maxReplicas: 4,
            targetLagSeconds: 5,
            scaleDownDelay: '5s',
            lookback: '3s',
          },
        },
      });

      // The Deployment's replicas as the operator sets them, every change in order.
      const history: { at: number; replicas: number }[] = [];
      let watching = true;
      const watcher = (async () => {
        while (watching) {
          const r = await deployment('scaled').then(
            (d) => d.spec?.replicas,
            () => undefined,
          );
          if (r !== undefined && history.at(-1)?.replicas !== r)
            history.push({ at: Date.now(), replicas: r });
          await new Promise((res) => setTimeout(res, 200));
        }
      })();
      const created = await eventually('the processor Deployment', async () =>
        history.length ? pipeline('scaled') : undefined,
      );

      await eventually('4 replicas', () => (history.at(-1)?.replicas === 4 ? true : undefined), 240_000);
      const atMax = Date.now();
      // Drained when the consumer has nothing pending or in flight: every event acknowledged, so
      // written. (Asking the consumer costs the receiver, in this process, nothing.)
      await eventually(
        'the backlog processed',
        async () => {
          const c = await consumer('bulk', 'scaled');
          return c.num_pending + c.num_ack_pending === 0 ? true : undefined;
        },
        drainMs,
      );
      const drainedAt = Date.now();
      await eventually(
        'back to 1 replica',
        () => (history.at(-1)?.replicas === 1 ? true : undefined),
        120_000,
      );
      const atMin = Date.now();
      watching = false;
      await watcher;

      expect(acceptedWith('b')).toEqual({ count: BACKLOG, repeated: [] });
      // Up, then down: never down and up again (no flapping), and few steps each way.
      const values = history.map((h) => h.replicas);
      expect(values[0]).toBe(1);
      const peak = values.indexOf(4);
      expect(values.slice(0, peak + 1)).toEqual([...values.slice(0, peak + 1)].sort((a, b) => a - b));
      expect(values.slice(peak)).toEqual([...values.slice(peak)].sort((a, b) => b - a));
      expect(values.length - 1).toBeLessThanOrEqual(5);
      // The autoscaler never wrote the Pipeline's spec.
      const pl = await pipeline('scaled');
      expect(pl.metadata?.generation).toBe(created.metadata?.generation);
      expect(pl.spec.replicas).toBe(1);
      expect(pl.status?.autoscaling?.desiredReplicas).toBe(1);
      const events = await core.listNamespacedEvent({
        namespace: ns,
        fieldSelector: 'involvedObject.name=scaled',
      });
      const reasons = events.items.map((e) => e.reason);
      expect(reasons).toContain('ScaledUp');
      expect(reasons).toContain('ScaledDown');

      const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
      console.log(
        `autoscaling: ${BACKLOG} events published in ${secs(published - start)}; from the Pipeline's ` +
          `creation: 1 → 4 replicas in ${secs(atMax - published)}, drained in ${secs(drainedAt - published)}; ` +
          `back to 1 replica ${secs(atMin - drainedAt)} after the drain (scaleDownDelay 5s, lookback 3s); ` +
          `replicas: ${history.map((h) => `${h.replicas}@${secs(h.at - published)}`).join(' ')}`,
      );
    },
  );
});

// Query-worker autoscaling (query-autoscale.ts) runs here, after the processors' case: both size
// pods of the same local kubelet by the throughput they measure, and side by side (two test
// workers) each took the cores the other's throughput is made of.
queryWorkerAutoscaling();
