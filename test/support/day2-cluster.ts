// What the day-2 e2e tests (suspend, autoscaling of processors and of query workers) share: the
// operator as its own process and the local kubelet (hack/journey.ts) in a namespace of their
// own, a webhook receiver that answers every request after a delay (so that each pod writes a
// bounded number of events per second and more pods really do more), the API clients, a NATS
// connection, and helpers to create resources, publish straight into an EventSource's stream and
// follow a Deployment's replicas.
import { AppsV1Api, CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/nats-core';
import type { Pipeline } from '../../api/generated/types.js';
import { startJourney, type Journey } from '../../hack/journey.js';
import type { CloudEvent } from '../../runtime/events/index.js';
import { toNatsMessage } from '../../runtime/events/wire.js';
import { cassandraEnv, clickhouseEnv, kubeEnv, natsEnv } from '../stack/context.js';
import { startReceiver, type Receiver } from './webhook-receiver.js';
import { eventually } from './operator.js';

const group = 'eventrunner.io';
const version = 'v1alpha1';

export interface Day2Cluster {
  ns: string;
  journey: Journey;
  receiver: Receiver;
  nc: NatsConnection;
  jsm: JetStreamManager;
  custom: CustomObjectsApi;
  apps: AppsV1Api;
  core: CoreV1Api;
  /** Creates a resource of this group in the namespace (apiVersion added). */
  create(plural: string, kind: string, name: string, spec: object): Promise<unknown>;
  pipeline(name: string): Promise<Pipeline>;
  /** An EventSource without ingest authentication, once its stream exists. */
  eventSource(name: string, maxBytes: string): Promise<void>;
  /** Publishes event(from)..event(to - 1) straight into EventSource `es`'s stream, 2,000 in flight. */
  publish(es: string, from: number, to: number, event: (i: number) => CloudEvent): Promise<void>;
  /** Stops the operator and kubelet, deletes the namespace's streams, closes the rest. */
  stop(): Promise<void>;
}

export async function startDay2Cluster(ns: string, answerDelayMs: number): Promise<Day2Cluster> {
  const receiver = await startReceiver({ respond: () => ({ status: 200, delayMs: answerDelayMs }) });
  let journey: Journey | undefined;
  let nc: NatsConnection | undefined;
  try {
    journey = await startJourney(
      { kube: kubeEnv(), nats: natsEnv(), cassandra: cassandraEnv(), clickhouse: clickhouseEnv() },
      ns,
    );
    nc = await connect({ servers: natsEnv().url });
  } catch (err) {
    await journey?.stop();
    await receiver.close();
    throw err;
  }
  const conn = nc;
  const jsm = await jetstreamManager(conn);
  const custom = journey.kc.makeApiClient(CustomObjectsApi);
  const create = (plural: string, kind: string, name: string, spec: object) =>
    custom.createNamespacedCustomObject({
      group,
      version,
      namespace: ns,
      plural,
      body: { apiVersion: `${group}/${version}`, kind, metadata: { name }, spec },
    });
  const started = journey;
  return {
    ns,
    journey,
    receiver,
    nc: conn,
    jsm,
    custom,
    apps: journey.kc.makeApiClient(AppsV1Api),
    core: journey.kc.makeApiClient(CoreV1Api),
    create,
    pipeline: async (name) =>
      (await custom.getNamespacedCustomObject({
        group,
        version,
        namespace: ns,
        plural: 'pipelines',
        name,
      })) as Pipeline,
    async eventSource(name, maxBytes) {
      await create('eventsources', 'EventSource', name, {
        ingest: { auth: { enabled: false } },
        stream: { maxBytes },
      });
      // Its stream, before anything is published into it.
      await eventually(`the stream of EventSource ${name}`, async () =>
        jsm.streams.info(`ER_${ns}_${name}`).then(
          () => true,
          () => undefined,
        ),
      );
    },
    async publish(es, from, to, event) {
      const js = jetstream(conn);
      const window: Promise<unknown>[] = [];
      for (let i = from; i < to; i++) {
        const m = toNatsMessage(event(i), `er.${ns}.${es}`);
        const h = natsHeaders();
        for (const [k, v] of Object.entries(m.headers)) h.set(k, v);
        window.push(js.publish(m.subject, m.body, { msgID: m.msgId, headers: h, timeout: 60_000 }));
        if (window.length >= 2000) await Promise.all(window.splice(0));
      }
      await Promise.all(window);
    },
    async stop() {
      await started.stop();
      // The streams hold the tests' events and reserve their maxBytes on the shared NATS.
      for await (const s of jsm.streams.list())
        if (s.config.name.includes(`_${ns}_`)) await jsm.streams.delete(s.config.name);
      await conn.close();
      await receiver.close();
    },
  };
}

// The backlog of the autoscaling e2e tests: EVENTRUNNER_AUTOSCALE_EVENTS events when set (200,000
// for the figures in docs/operations.md), else the file's default, sized for CI time.
export function autoscaleBacklog(fallback: number): number {
  const env = process.env.EVENTRUNNER_AUTOSCALE_EVENTS;
  if (env === undefined || env === '') return fallback;
  const n = Number(env);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`EVENTRUNNER_AUTOSCALE_EVENTS: expected a positive whole number of events, got "${env}"`);
  return n;
}

/** Bytes of stream to give `events` of about 300 bytes each, with room to spare, at least `minMi`. */
export const backlogStreamBytes = (events: number, minMi: number): string =>
  `${Math.max(minMi, Math.ceil((events * 600) / 2 ** 20))}Mi`;

/**
 * Follows a Deployment's replicas: every change in order, read every `everyMs`; `alsoEach` runs at
 * each reading (to note other status meanwhile).
 */
export function followReplicas(
  read: () => Promise<number | undefined>,
  everyMs: number,
  alsoEach?: () => Promise<void>,
): { history: { at: number; replicas: number }[]; stop(): Promise<void> } {
  const history: { at: number; replicas: number }[] = [];
  let watching = true;
  const loop = (async () => {
    while (watching) {
      const r = await read().catch(() => undefined);
      if (r !== undefined && history.at(-1)?.replicas !== r) history.push({ at: Date.now(), replicas: r });
      await alsoEach?.();
      await new Promise((res) => setTimeout(res, everyMs));
    }
  })();
  return {
    history,
    async stop() {
      watching = false;
      await loop;
    },
  };
}
