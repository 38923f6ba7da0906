// A local kubelet (and kube-proxy) for eventrunner's own workloads, for the demo and e2e tests on
// a kube-apiserver without nodes: it watches the Deployments the operator creates, runs their
// containers' commands as local processes, rolls them when the pod template changes, stops them
// when the Deployment goes, reports ready replicas in the Deployment's status, and serves each
// Service on a loopback port. Test infrastructure, not product.
import { join } from 'node:path';
import {
  AppsV1Api,
  CoreV1Api,
  type KubeConfig,
  type V1ConfigMap,
  type V1Secret,
  type V1Deployment,
  type V1Service,
} from '@kubernetes/client-node';
import { hashOf } from '../../operator/builders/common.js';
import { startInformer, type ManagedInformer } from '../../operator/informer.js';
import { createLogger, type Logger } from '../../runtime/common/logger.js';
import { logsDir, repoRoot } from '../../test/stack/paths.js';
import { LocalPod } from './pod.js';
import { ServiceProxy } from './proxy.js';

interface Workload {
  templateHash: string;
  pods: LocalPod[];
  generation: number;
}

export interface KubeletOptions {
  kc: KubeConfig;
  /** Namespace to run workloads of; empty runs every namespace's. */
  namespace?: string;
  labelSelector?: string;
  entrypoint?: string[];
  env?: NodeJS.ProcessEnv;
  log?: Logger;
}

const key = (o: { metadata?: { namespace?: string; name?: string } }) =>
  `${o.metadata?.namespace}/${o.metadata?.name}`;

export class LocalKubelet {
  private readonly apps: AppsV1Api;
  private readonly core: CoreV1Api;
  private readonly workloads = new Map<string, Workload>();
  private readonly services = new Map<string, { proxy: ServiceProxy; selector: Record<string, string> }>();
  private informers: ManagedInformer<V1Deployment | V1Service | V1ConfigMap>[] = [];
  private statusTimer: NodeJS.Timeout | undefined;
  private readonly busy = new Map<string, Promise<void>>();
  private readonly log: Logger;

  constructor(private readonly opts: KubeletOptions) {
    this.apps = opts.kc.makeApiClient(AppsV1Api);
    this.core = opts.kc.makeApiClient(CoreV1Api);
    this.log = opts.log ?? createLogger({ name: 'local-kubelet', level: 'warn' });
  }

  async start(): Promise<void> {
    const ns = this.opts.namespace;
    const labelSelector = this.opts.labelSelector ?? 'app.kubernetes.io/managed-by=eventrunner-operator';
    const deployments = startInformer<V1Deployment>({
      kc: this.opts.kc,
      path: ns ? `/apis/apps/v1/namespaces/${ns}/deployments` : '/apis/apps/v1/deployments',
      labelSelector,
      log: this.log,
      list: () =>
        ns
          ? this.apps.listNamespacedDeployment({ namespace: ns, labelSelector })
          : this.apps.listDeploymentForAllNamespaces({ labelSelector }),
      onChange: (d, verb) =>
        this.serialize(key(d), () => (verb === 'delete' ? this.remove(key(d)) : this.sync(d))),
    });
    const services = startInformer<V1Service>({
      kc: this.opts.kc,
      path: ns ? `/api/v1/namespaces/${ns}/services` : '/api/v1/services',
      labelSelector,
      log: this.log,
      list: () =>
        ns
          ? this.core.listNamespacedService({ namespace: ns, labelSelector })
          : this.core.listServiceForAllNamespaces({ labelSelector }),
      onChange: (s, verb) => void this.syncService(s, verb),
    });
    // Mounted ConfigMaps are updated in place when they change, as the kubelet does.
    const configMaps = startInformer<V1ConfigMap>({
      kc: this.opts.kc,
      path: ns ? `/api/v1/namespaces/${ns}/configmaps` : '/api/v1/configmaps',
      labelSelector,
      log: this.log,
      list: () =>
        ns
          ? this.core.listNamespacedConfigMap({ namespace: ns, labelSelector })
          : this.core.listConfigMapForAllNamespaces({ labelSelector }),
      onChange: (cm, verb) => {
        if (verb !== 'delete') void this.refreshConfigMap(cm);
      },
    });
    // And so are the Secrets the operator writes (NATS user credentials).
    const secrets = startInformer<V1Secret>({
      kc: this.opts.kc,
      path: ns ? `/api/v1/namespaces/${ns}/secrets` : '/api/v1/secrets',
      labelSelector,
      log: this.log,
      list: () =>
        ns
          ? this.core.listNamespacedSecret({ namespace: ns, labelSelector })
          : this.core.listSecretForAllNamespaces({ labelSelector }),
      onChange: (s, verb) => {
        if (verb !== 'delete')
          void this.refreshMounted(s.metadata!.namespace!, (p) => p.mountsSecret(s.metadata!.name!));
      },
    });
    this.informers = [deployments, services, configMaps, secrets] as ManagedInformer<
      V1Deployment | V1Service | V1ConfigMap | V1Secret
    >[];
    await Promise.all(this.informers.map((i) => i.synced));
    this.statusTimer = setInterval(() => void this.reportStatus(), 500);
  }

  /**
   * Runs one change per Deployment at a time, in order. A failed sync (e.g. a kept-alive connection
   * the API server closed: EPIPE) is tried again a few times, as the kubelet keeps syncing a pod.
   */
  private serialize(k: string, fn: () => Promise<void>): void {
    const prev = this.busy.get(k) ?? Promise.resolve();
    const attempt = async (left: number): Promise<void> => {
      try {
        await fn();
      } catch (err) {
        if (left === 0) throw err;
        this.log.warn({ err, deployment: k }, 'Sync failed; trying again');
        await new Promise((r) => setTimeout(r, 500));
        await attempt(left - 1);
      }
    };
    const next = prev
      .then(() => attempt(3))
      .catch((err: unknown) => this.log.error({ err, deployment: k }, 'Sync failed'));
    this.busy.set(k, next);
  }

  private async sync(d: V1Deployment): Promise<void> {
    const k = key(d);
    const templateHash = hashOf(d.spec?.template);
    const desired = d.spec?.replicas ?? 1;
    let w = this.workloads.get(k);
    if (w && w.templateHash !== templateHash) {
      // A new pod template: replace the pods (Recreate, which is enough for a local run).
      await Promise.all(w.pods.map((p) => p.stop()));
      this.workloads.delete(k);
      w = undefined;
    }
    if (!w) {
      w = { templateHash, pods: [], generation: d.metadata?.generation ?? 0 };
      this.workloads.set(k, w);
    }
    w.generation = d.metadata?.generation ?? 0;
    while (w.pods.length > desired) await w.pods.pop()!.stop();
    while (w.pods.length < desired) {
      const pod = new LocalPod({
        core: this.core,
        deployment: d,
        name: `${d.metadata!.namespace}_${d.metadata!.name}-${templateHash.slice(0, 6)}-${w.pods.length}`,
        entrypoint: this.opts.entrypoint ?? ['node', join(repoRoot, 'bin', 'eventrunner.js')],
        logDir: join(logsDir(), 'pods'),
        ...(this.opts.env ? { env: this.opts.env } : {}),
      });
      w.pods.push(pod);
      try {
        await pod.start();
      } catch (err) {
        // Not started (its volumes could not be read): the next sync makes it again.
        w.pods.pop();
        throw err;
      }
    }
  }

  private refreshConfigMap(cm: V1ConfigMap): Promise<void> {
    return this.refreshMounted(cm.metadata!.namespace!, (p) => p.mountsConfigMap(cm.metadata!.name!));
  }

  private async refreshMounted(namespace: string, mounts: (pod: LocalPod) => boolean): Promise<void> {
    for (const [k, w] of this.workloads) {
      if (!k.startsWith(`${namespace}/`)) continue;
      for (const pod of w.pods) {
        if (!mounts(pod)) continue;
        await pod
          .refreshVolumes()
          .catch((err: unknown) =>
            this.log.warn({ err, pod: pod.name }, 'Could not refresh ConfigMap and Secret volumes'),
          );
      }
    }
  }

  private async remove(k: string): Promise<void> {
    const w = this.workloads.get(k);
    this.workloads.delete(k);
    if (w) await Promise.all(w.pods.map((p) => p.stop()));
  }

  private async syncService(s: V1Service, verb: string): Promise<void> {
    const k = key(s);
    const existing = this.services.get(k);
    if (existing) {
      this.services.delete(k);
      await existing.proxy.close();
    }
    if (verb === 'delete') return;
    const selector = s.spec?.selector ?? {};
    const proxy = new ServiceProxy(() => this.podsMatching(s.metadata!.namespace!, selector));
    await proxy.listen((s.spec?.ports ?? []).map((p) => String(p.targetPort ?? p.name)));
    this.services.set(k, { proxy, selector });
  }

  private podsMatching(namespace: string, selector: Record<string, string>): LocalPod[] {
    const pods: LocalPod[] = [];
    for (const [k, w] of this.workloads) {
      if (!k.startsWith(`${namespace}/`)) continue;
      const d = this.deploymentFor(k);
      const labels = d?.spec?.template.metadata?.labels ?? {};
      if (Object.entries(selector).every(([lk, lv]) => labels[lk] === lv)) pods.push(...w.pods);
    }
    return pods;
  }

  private deploymentFor(k: string): V1Deployment | undefined {
    const [ns, name] = k.split('/') as [string, string];
    return (this.informers[0]!.cache as { get(n: string, ns: string): V1Deployment | undefined }).get(
      name,
      ns,
    );
  }

  /** Loopback address serving a Service's port (by name), as kube-proxy would. */
  serviceAddress(namespace: string, service: string, portName: string): string | undefined {
    const port = this.services.get(`${namespace}/${service}`)?.proxy.ports.get(portName);
    return port ? `127.0.0.1:${port}` : undefined;
  }

  /** Host port of one pod's container port, for tests that talk to a pod directly. */
  pods(namespace: string, deployment: string): LocalPod[] {
    return this.workloads.get(`${namespace}/${deployment}`)?.pods ?? [];
  }

  /** Every running pod with its Deployment's namespace and pod-template labels. */
  allPods(): { namespace: string; labels: Record<string, string>; pod: LocalPod }[] {
    const out: { namespace: string; labels: Record<string, string>; pod: LocalPod }[] = [];
    for (const [k, w] of this.workloads) {
      const labels = this.deploymentFor(k)?.spec?.template.metadata?.labels ?? {};
      for (const pod of w.pods) out.push({ namespace: k.split('/')[0]!, labels, pod });
    }
    return out;
  }

  private async reportStatus(): Promise<void> {
    for (const [k, w] of this.workloads) {
      const d = this.deploymentFor(k);
      if (!d) continue;
      const ready = w.pods.filter((p) => p.ready).length;
      const want = {
        observedGeneration: w.generation,
        replicas: w.pods.length,
        updatedReplicas: w.pods.length,
        readyReplicas: ready,
        availableReplicas: ready,
      };
      const st = d.status ?? {};
      if (
        st.observedGeneration === want.observedGeneration &&
        (st.replicas ?? 0) === want.replicas &&
        (st.readyReplicas ?? 0) === want.readyReplicas &&
        (st.updatedReplicas ?? 0) === want.updatedReplicas
      ) {
        continue;
      }
      try {
        await this.apps.patchNamespacedDeploymentStatus({
          name: d.metadata!.name!,
          namespace: d.metadata!.namespace!,
          body: [{ op: 'replace', path: '/status', value: want }],
        });
      } catch (err) {
        this.log.warn({ err, deployment: k }, 'Could not update Deployment status');
      }
    }
  }

  async stop(): Promise<void> {
    if (this.statusTimer) clearInterval(this.statusTimer);
    await Promise.all(this.informers.map((i) => i.stop()));
    await Promise.all([...this.busy.values()]);
    await Promise.all([...this.workloads.keys()].map((k) => this.remove(k)));
    await Promise.all([...this.services.values()].map((s) => s.proxy.close()));
    this.services.clear();
  }
}
