// The dashboard's scrape targets on the local kubelet: each local pod's `ops` port on loopback,
// standing in for the API server's pod proxy, which cannot reach processes that are not pods.
import { ownerOfLabels, type ScrapeTarget, type TargetLister } from '../../runtime/dashboard/targets.js';
import type { LocalKubelet } from './kubelet.js';

export function kubeletTargets(kubelet: LocalKubelet, namespace?: string): TargetLister {
  return () => {
    const targets: ScrapeTarget[] = [];
    for (const { namespace: ns, labels, pod } of kubelet.allPods()) {
      if (namespace !== undefined && ns !== namespace) continue;
      const owner = ownerOfLabels(labels);
      const port = pod.ports.get('ops');
      if (!owner || port === undefined || !pod.ready) continue;
      targets.push({
        namespace: ns,
        ...owner,
        pod: pod.name,
        scrape: async () => {
          const res = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(2000) });
          if (!res.ok) throw new Error(`GET /metrics of ${pod.name}: HTTP ${res.status}`);
          return res.text();
        },
      });
    }
    return Promise.resolve(targets);
  };
}
