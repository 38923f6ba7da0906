// Shared Kubernetes agents, without a server: which agent a KubeConfig hands out. The connections
// themselves are counted against a real API server in test/integration/kube/connections.test.ts.
import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { KubeConfig } from '@kubernetes/client-node';
import { FastPaths } from '../../../runtime/internals/fast-paths.js';
import { closeConnections, shareConnections } from '../../../runtime/internals/kube-connections.js';
import { captureLog, fastPathMetricValues } from './capture.js';

function kubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: 'https://127.0.0.1:6443', skipTLSVerify: true }],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kc;
}

/** client-node's KubeConfig with its undocumented createAgent. */
interface WithAgents {
  createAgent(cluster: unknown, options: object): object;
  getCurrentCluster(): unknown;
}
const agentsOf = (kc: KubeConfig) => kc as unknown as WithAgents;

describe('shareConnections', () => {
  it('hands out one keep-alive agent per TLS identity', () => {
    const kc = agentsOf(shareConnections(kubeConfig(), new FastPaths()));
    const cluster = kc.getCurrentCluster();
    const a = kc.createAgent(cluster, { rejectUnauthorized: false });
    expect(kc.createAgent(cluster, { rejectUnauthorized: false })).toBe(a);
    expect(a).toMatchObject({ keepAlive: true });
    expect(kc.createAgent(cluster, { rejectUnauthorized: false, servername: 'other' })).not.toBe(a);
    closeConnections(kc as unknown as KubeConfig);
  });

  it('leaves the KubeConfig as client-node made it when off or written for another version', async () => {
    const registry = new Registry();
    const { log, lines } = captureLog();
    const configs = [
      shareConnections(kubeConfig(), new FastPaths({ enabled: false, registry })),
      shareConnections(
        kubeConfig(),
        new FastPaths({ log, registry, pins: { '@kubernetes/client-node': '1.3.0' } }),
      ),
    ].map(agentsOf);
    for (const kc of configs) {
      expect(kc.createAgent).toBe(agentsOf(KubeConfig.prototype).createAgent);
      const cluster = kc.getCurrentCluster();
      expect(kc.createAgent(cluster, {})).not.toBe(kc.createAgent(cluster, {}));
    }
    expect(lines()).toEqual([
      expect.objectContaining({ level: 'warn', path: 'kube-shared-agents', reason: 'version' }),
    ]);
    expect(await fastPathMetricValues(registry)).toEqual({
      enabled: { 'kube-shared-agents': 0 },
      fallbacks: { 'kube-shared-agents': 2 },
    });
  });
});
