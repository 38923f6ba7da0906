// Where the dashboard scrapes Prometheus metrics from. In a cluster: every pod the operator runs,
// through the API server's pod proxy (`pods/proxy`, get only), on the container port named `ops`.
// Any other way of reaching the pods (a test's local processes) is a TargetLister too.
import { CoreV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';

export type TargetKind = 'pipeline' | 'eventsource';

export interface ScrapeTarget {
  namespace: string;
  kind: TargetKind;
  /** Name of the Pipeline or EventSource the pod runs for. */
  owner: string;
  pod: string;
  /** The pod's /metrics text. */
  scrape(): Promise<string>;
}

export type TargetLister = () => Promise<ScrapeTarget[]>;

/** Kind and owner from the labels the operator puts on its pods; undefined for other pods. */
export function ownerOfLabels(
  labels: Record<string, string>,
): { kind: TargetKind; owner: string } | undefined {
  const component = labels['app.kubernetes.io/component'];
  if (component === 'processor' && labels['eventrunner.io/pipeline'])
    return { kind: 'pipeline', owner: labels['eventrunner.io/pipeline'] };
  if (component === 'ingest' && labels['eventrunner.io/eventsource'])
    return { kind: 'eventsource', owner: labels['eventrunner.io/eventsource'] };
  return undefined;
}

const managedBy = 'app.kubernetes.io/managed-by=eventrunner-operator';

/** Running pods of the operator's workloads, scraped through the API server's proxy. */
export function apiServerTargets(kc: KubeConfig, namespace?: string): TargetLister {
  const core = kc.makeApiClient(CoreV1Api);
  return async () => {
    const list = namespace
      ? await core.listNamespacedPod({ namespace, labelSelector: managedBy })
      : await core.listPodForAllNamespaces({ labelSelector: managedBy });
    const targets: ScrapeTarget[] = [];
    for (const pod of list.items as V1Pod[]) {
      if (pod.status?.phase !== 'Running') continue;
      const owner = ownerOfLabels(pod.metadata?.labels ?? {});
      const port = pod.spec?.containers
        .flatMap((c) => c.ports ?? [])
        .find((p) => p.name === 'ops')?.containerPort;
      if (!owner || port === undefined) continue;
      const ns = pod.metadata!.namespace!;
      const name = pod.metadata!.name!;
      targets.push({
        namespace: ns,
        ...owner,
        pod: name,
        scrape: async () =>
          String(
            await core.connectGetNamespacedPodProxyWithPath({
              name: `${name}:${port}`,
              namespace: ns,
              path: 'metrics',
            }),
          ),
      });
    }
    return targets;
  };
}
