// Wires the operator together: informers for the three kinds and the children they own, one keyed
// work queue, leader election (only the leader reconciles; every replica keeps warm caches), the
// controllers, the ops endpoint and a NATS connection for JetStream state.
import {
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  type V1ConfigMap,
  type V1Deployment,
  type V1Service,
} from '@kubernetes/client-node';
import { readFileSync } from 'node:fs';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { natsOptions } from '../runtime/common/nats.js';
import { loadSigner, type NatsSigner } from './nats-credentials.js';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { EventSource, Pipeline, Replay, Sink } from '../api/generated/types.js';
import { isTerminalError } from '../runtime/common/errors.js';
import { FastPaths } from '../runtime/internals/fast-paths.js';
import { shareConnections } from '../runtime/internals/kube-connections.js';
import type { Logger } from '../runtime/common/logger.js';
import { createRegistry, startOpsServer, type OpsServer } from '../runtime/common/ops-server.js';
import { Applier } from './apply.js';
import {
  controllerOf,
  parseQueueKey,
  primaryPlural,
  queueKey,
  type Caches,
  type PrimaryKind,
} from './cache.js';
import { ChildApplier } from './children.js';
import { DependentsIndex } from './dependents.js';
import { ChangeFilter, readinessFingerprint, specFingerprint } from './triggers.js';
import { downstreamOf, publishedTo } from './graph.js';
import { EventRecorder } from './events.js';
import { startInformer, type ManagedInformer } from './informer.js';
import { startLeaderElection, type LeaderElector } from './leader.js';
import { operatorMetrics, type OperatorMetrics } from './metrics.js';
import { labels, schemaConfigMapLabel } from './names.js';
import type { OperatorOptions } from './options.js';
import { WorkQueue, type ReconcileResult } from './queue.js';
import type { ReconcileTracer } from './tracing.js';

export interface ControllerContext {
  kc: KubeConfig;
  caches: Caches;
  applier: Applier;
  children: ChildApplier;
  events: EventRecorder;
  jsm: () => Promise<JetStreamManager>;
  options: OperatorOptions;
  log: Logger;
  core: CoreV1Api;
  /** Signs the NATS users of workloads, when the operator mints them (nats-credentials.ts). */
  natsSigner?: NatsSigner;
  /** Enqueue another object (e.g. Pipelines when a Sink they use changes). */
  enqueue(kind: PrimaryKind, namespace: string, name: string): void;
}

export type Reconciler = (
  ctx: ControllerContext,
  namespace: string,
  name: string,
  log: Logger,
) => Promise<ReconcileResult | void>;

export interface Operator {
  caches: Caches;
  applier: Applier;
  metrics: OperatorMetrics;
  queue: WorkQueue;
  opsPort: number;
  isLeader(): boolean;
  /** Resolves when every informer has listed once. */
  synced: Promise<void>;
  stop(): Promise<void>;
}

const group = 'eventrunner.io';
const version = 'v1alpha1';

export async function startOperator(opts: {
  kc: KubeConfig;
  options: OperatorOptions;
  log: Logger;
  reconcilers: Record<PrimaryKind, Reconciler>;
  /** Called when leadership is lost after it was held; the CLI exits the process. */
  onLostLeadership?: () => void;
  /** Traces each reconcile (tracing.ts); none when tracing is off. */
  tracing?: ReconcileTracer | undefined;
}): Promise<Operator> {
  const { log } = opts;
  const options: OperatorOptions = opts.options.natsAuth?.caFile
    ? { ...opts.options, natsCaPem: readFileSync(opts.options.natsAuth.caFile, 'utf8') }
    : opts.options;
  const registry = createRegistry('operator');
  const kc = shareConnections(opts.kc, new FastPaths({ enabled: opts.options.fastPaths, log, registry }));
  const metrics = operatorMetrics(registry);
  const applier = new Applier(kc, (kind) => metrics.apiWrites.inc({ kind }));
  const children = new ChildApplier(applier);
  const events = new EventRecorder(kc, log);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const apps = kc.makeApiClient(AppsV1Api);
  const core = kc.makeApiClient(CoreV1Api);
  const ns = options.watchNamespace;
  const managed = `${labels.managedBy}=eventrunner-operator`;

  let nc: NatsConnection | undefined;
  let jsmPromise: Promise<JetStreamManager> | undefined;
  const jsm = () => {
    jsmPromise ??= (async () => {
      nc = await connect(natsOptions({ url: options.natsUrl, ...options.natsAuth }, 'eventrunner-operator'));
      return jetstreamManager(nc);
    })().catch((err: unknown) => {
      jsmPromise = undefined;
      throw err;
    });
    return jsmPromise;
  };

  // Informer callbacks enqueue through this before the queue below exists; none fire before then.
  // eslint-disable-next-line prefer-const
  let queue!: WorkQueue;
  const enqueue = (kind: PrimaryKind, namespace: string, name: string) =>
    queue.add(queueKey(kind, namespace, name));
  const informers: ManagedInformer<KubernetesObject>[] = [];
  const dependents = new DependentsIndex();
  // What an event can change (triggers.ts): the object's own reconcile (not for its status alone;
  // Replays keep every event), and its dependents' (Pipelines report their Sinks' Ready message;
  // a Pipeline's consumer and an eventSource Sink's probe wait for the EventSource's stream).
  const selfChanges: Partial<Record<PrimaryKind, ChangeFilter>> = {
    EventSource: new ChangeFilter(specFingerprint),
    Pipeline: new ChangeFilter(specFingerprint),
    Sink: new ChangeFilter(specFingerprint),
  };
  const dependentChanges = {
    EventSource: new ChangeFilter((o) => readinessFingerprint(o, ['StreamReady'])),
    Sink: new ChangeFilter((o) => readinessFingerprint(o, ['Ready'])),
  };
  const childKinds: Record<string, string> = {
    deployments: 'Deployment',
    services: 'Service',
    configmaps: 'ConfigMap',
  };

  const customInformer = <T extends KubernetesObject>(kind: PrimaryKind) => {
    const plural = primaryPlural[kind];
    const path = ns
      ? `/apis/${group}/${version}/namespaces/${ns}/${plural}`
      : `/apis/${group}/${version}/${plural}`;
    const inf = startInformer<T>({
      kc,
      path,
      log,
      list: async () =>
        (ns
          ? await custom.listNamespacedCustomObject({ group, version, namespace: ns, plural })
          : await custom.listClusterCustomObject({ group, version, plural })) as KubernetesListObject<T>,
      onChange: (obj, verb) => {
        if (kind === 'Pipeline') dependents.update(obj as unknown as Pipeline, verb);
        else if (kind === 'Sink') dependents.updateSink(obj as unknown as Sink, verb);
        const own = selfChanges[kind]?.changed(obj, verb) ?? true;
        if (own) enqueue(kind, obj.metadata!.namespace!, obj.metadata!.name!);
        if (kind === 'EventSource' || kind === 'Sink') {
          if (dependentChanges[kind].changed(obj, verb)) enqueueDependents(kind, obj);
        } else if (kind === 'Pipeline' && own) enqueueDownstream(obj as unknown as Pipeline);
      },
      onRestart: () => metrics.informerRestarts.inc({ resource: plural }),
    });
    informers.push(inf as unknown as ManagedInformer<KubernetesObject>);
    return inf.cache;
  };
  const childInformer = <T extends KubernetesObject>(
    resource: string,
    path: string,
    list: () => Promise<KubernetesListObject<T>>,
    prune?: (obj: T) => void,
  ) => {
    const inf = startInformer<T>({
      kc,
      path,
      log,
      labelSelector: managed,
      list,
      ...(prune ? { prune } : {}),
      onChange: (obj, verb) => {
        const owner = controllerOf(obj);
        if (!owner) return;
        const enqueueOwner = () => enqueue(owner.kind, owner.namespace, owner.name);
        if (verb === 'delete') enqueueOwner();
        else children.notice(childKinds[resource] ?? '', obj, enqueueOwner);
      },
      onRestart: () => metrics.informerRestarts.inc({ resource }),
    });
    informers.push(inf as unknown as ManagedInformer<KubernetesObject>);
    return inf.cache;
  };

  const caches: Caches = {
    eventSources: customInformer<EventSource>('EventSource'),
    pipelines: customInformer<Pipeline>('Pipeline'),
    sinks: customInformer<Sink>('Sink'),
    replays: customInformer<Replay>('Replay'),
    deployments: childInformer(
      'deployments',
      ns ? `/apis/apps/v1/namespaces/${ns}/deployments` : '/apis/apps/v1/deployments',
      () =>
        ns
          ? apps.listNamespacedDeployment({ namespace: ns, labelSelector: managed })
          : apps.listDeploymentForAllNamespaces({ labelSelector: managed }),
      // Reconcilers read a Deployment's metadata, replicas and status; the pod template stays out
      // of memory (its hash annotation says whether it is the desired one).
      (d: V1Deployment) => {
        if (d.spec) d.spec = { ...d.spec, template: { metadata: d.spec.template.metadata } };
      },
    ),
    services: childInformer(
      'services',
      ns ? `/api/v1/namespaces/${ns}/services` : '/api/v1/services',
      () =>
        ns
          ? core.listNamespacedService({ namespace: ns, labelSelector: managed })
          : core.listServiceForAllNamespaces({ labelSelector: managed }),
      // Reconcilers compare a Service by its hash annotation and resourceVersion only.
      (svc: V1Service) => {
        delete svc.spec;
        delete svc.status;
      },
    ),
    configMaps: childInformer(
      'configmaps',
      ns ? `/api/v1/namespaces/${ns}/configmaps` : '/api/v1/configmaps',
      () =>
        ns
          ? core.listNamespacedConfigMap({ namespace: ns, labelSelector: managed })
          : core.listConfigMapForAllNamespaces({ labelSelector: managed }),
      // Reconcilers compare a ConfigMap by its hash annotation; the data itself is not needed.
      (cm: V1ConfigMap) => {
        delete cm.data;
      },
    ),
    schemaConfigMaps: schemaConfigMapInformer(),
  };

  // ConfigMaps holding the schemas EventSources name (spec.schemas[].configMapKeyRef) carry a
  // label, so that only they are watched: a change enqueues the EventSources naming them.
  function schemaConfigMapInformer() {
    const labelSelector = `${schemaConfigMapLabel}=true`;
    const inf = startInformer<V1ConfigMap>({
      kc,
      path: ns ? `/api/v1/namespaces/${ns}/configmaps` : '/api/v1/configmaps',
      log,
      labelSelector,
      list: () =>
        ns
          ? core.listNamespacedConfigMap({ namespace: ns, labelSelector })
          : core.listConfigMapForAllNamespaces({ labelSelector }),
      onChange: (cm) => {
        const namespace = cm.metadata!.namespace!;
        for (const es of caches.eventSources.list(namespace)) {
          if (es.spec?.schemas?.some((s) => s.configMapKeyRef?.name === cm.metadata!.name))
            enqueue('EventSource', namespace, es.metadata.name!);
        }
      },
      onRestart: () => metrics.informerRestarts.inc({ resource: 'configmaps' }),
    });
    informers.push(inf as unknown as ManagedInformer<KubernetesObject>);
    return inf.cache;
  }

  // A Pipeline depends on its EventSources and Sinks: when one of them changes, its Pipelines
  // reconcile too (their conditions roll those up).
  function enqueueDependents(kind: 'EventSource' | 'Sink', obj: KubernetesObject): void {
    const namespace = obj.metadata!.namespace!;
    for (const name of dependents.pipelinesUsing(kind, namespace, obj.metadata!.name!))
      enqueue('Pipeline', namespace, name);
    // eventSource Sinks report whether their EventSource (and its stream) exists.
    if (kind === 'EventSource')
      for (const name of dependents.sinksPublishingTo(namespace, obj.metadata!.name!))
        enqueue('Sink', namespace, name);
  }

  // A Pipeline that publishes to EventSources (eventSource Sinks) can close or open a cycle with
  // the Pipelines reading them: those look again (graph.ts), and tell theirs in turn.
  // The EventSources it publishes to size their duplicate window by its redelivery (jetstream.ts).
  function enqueueDownstream(pl: Pipeline): void {
    const namespace = pl.metadata.namespace!;
    const sinkNamed = (n: string) => caches.sinks.get(n, namespace);
    const targets = publishedTo(pl, sinkNamed);
    if (targets.length === 0) return;
    for (const es of targets) enqueue('EventSource', namespace, es);
    for (const name of downstreamOf(pl, caches.pipelines.list(namespace), sinkNamed))
      if (name !== pl.metadata.name) enqueue('Pipeline', namespace, name);
  }

  const natsSigner = options.natsUsers
    ? loadSigner(options.natsUsers.signingKeyFile, options.natsUsers.account, options.natsUsers.ttlMs)
    : undefined;
  const ctx: ControllerContext = {
    kc,
    caches,
    applier,
    children,
    events,
    jsm,
    options,
    log,
    core,
    enqueue,
    ...(natsSigner ? { natsSigner } : {}),
  };
  queue = new WorkQueue({
    concurrency: options.concurrency,
    handler: async (key) => {
      const { kind, namespace, name } = parseQueueKey(key);
      const end = metrics.reconcileDuration.startTimer({ kind });
      const rlog = log.child({ [kind.toLowerCase()]: `${namespace}/${name}` });
      try {
        const reconcile = () => opts.reconcilers[kind](ctx, namespace, name, rlog);
        const result = await (opts.tracing
          ? opts.tracing.reconcile(kind, namespace, name, reconcile)
          : reconcile());
        metrics.reconciles.inc({ kind, result: 'success' });
        return result;
      } catch (err) {
        metrics.reconciles.inc({ kind, result: isTerminalError(err) ? 'terminal' : 'error' });
        throw err;
      } finally {
        end();
        metrics.queueDepth.set(queue.depth);
      }
    },
    onError: (key, err, retryInMs) => log.warn({ err, key, retryInMs }, 'Reconcile failed; retrying'),
  });

  const synced = Promise.all(informers.map((i) => i.synced)).then(() => undefined);
  let elector: LeaderElector | undefined;
  if (options.leaderElection.enabled) {
    elector = startLeaderElection({ kc, log, ...options.leaderElection });
    void elector.acquired.then(async () => {
      metrics.leader.set(1);
      await synced;
      queue.start();
    });
    void elector.lost.then(() => {
      metrics.leader.set(0);
      void queue.stop();
      opts.onLostLeadership?.();
    });
  } else {
    metrics.leader.set(1);
    void synced.then(() => queue.start());
  }

  let ops: OpsServer | undefined;
  ops = await startOpsServer({
    port: options.opsPort,
    registry,
    readiness: [
      {
        name: 'informers',
        check: async () =>
          (await Promise.race([synced.then(() => true), Promise.resolve(false)]))
            ? undefined
            : 'caches not synced',
      },
    ],
  });

  return {
    caches,
    applier,
    metrics,
    queue,
    opsPort: ops.port,
    isLeader: () => (elector ? elector.isLeader() : true),
    synced,
    async stop() {
      await queue.stop();
      await elector?.release();
      await Promise.all(informers.map((i) => i.stop()));
      await ops?.close();
      ops = undefined;
      await nc?.drain().catch(() => undefined);
    },
  };
}
