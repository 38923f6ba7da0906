// Connection reuse for the Kubernetes client. client-node builds a new https.Agent for every
// request, so each call pays a TCP connect, a TLS handshake and a fresh SecureContext (parsing the
// CA and the client key) on both ends: at a thousand objects that was a third of the operator's
// CPU and much of the API server's (1,000 Pipelines reconciled in 85 s before, 46 s after). Here
// each KubeConfig hands out one keep-alive agent per distinct TLS identity (server, CA, client
// certificate, verification settings), so connections are reused; a rotated client certificate or
// CA gets a new agent, and old ones are closed. It works by replacing the KubeConfig's
// `createAgent`, which client-node calls for every request but does not document; without it (fast
// paths off, another version) the KubeConfig is left as it is and opens a connection per request.
import { createHash } from 'node:crypto';
import type { Agent as HttpAgent } from 'node:http';
import type { AgentOptions } from 'node:https';
import { KubeConfig, type Cluster } from '@kubernetes/client-node';
import { defaultFastPaths, type FastPaths } from './fast-paths.js';
import { FastPathName, lacksFunction, type FastPathSite } from './guard.js';

type AgentFactory = (cluster: Cluster | null, options: AgentOptions) => HttpAgent;

/** How many TLS identities keep an agent; older ones are closed (certificate rotation). */
const maxAgents = 4;

const shared = new WeakMap<KubeConfig, Map<string, HttpAgent>>();

/** client-node's KubeConfig.prototype.createAgent, checked. */
export const kubeSharedAgents: FastPathSite<{ createAgent: AgentFactory }> = {
  path: FastPathName.KubeSharedAgents,
  pins: [{ name: '@kubernetes/client-node', version: '1.4.0' }],
  load() {
    const proto = KubeConfig.prototype as unknown as { createAgent?: AgentFactory };
    return lacksFunction(proto, 'createAgent', 'KubeConfig') ?? { createAgent: proto.createAgent! };
  },
};

function material(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (Buffer.isBuffer(value)) return value.toString('base64');
  if (Array.isArray(value)) return value.map(material).join('|');
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** The TLS identity an agent stands for: requests with equal identities may share connections. */
export function agentIdentity(server: string | undefined, options: AgentOptions): string {
  const h = createHash('sha256');
  for (const part of [
    server,
    options.ca,
    options.cert,
    options.key,
    options.pfx,
    options.passphrase,
    options.rejectUnauthorized,
    options.servername,
  ])
    h.update(material(part)).update('\0');
  return h.digest('hex');
}

/**
 * Makes every client built from `kc` (typed APIs, watches, informers, raw requests through
 * applyToHTTPSOptions) reuse keep-alive connections, when `fastPaths` allows it. Idempotent;
 * returns `kc`, unchanged when the fast path is off or disabled.
 */
export function shareConnections(kc: KubeConfig, fastPaths: FastPaths = defaultFastPaths()): KubeConfig {
  if (shared.has(kc)) return kc;
  const path = FastPathName.KubeSharedAgents;
  const target = kc as unknown as { createAgent?: AgentFactory };
  const original = target.createAgent;
  if (fastPaths.use(kubeSharedAgents) && typeof original !== 'function')
    fastPaths.miss(path, 'this KubeConfig has no function createAgent');
  if (!fastPaths.use(kubeSharedAgents) || typeof original !== 'function') {
    fastPaths.fallbacks(path).inc();
    return kc;
  }
  const agents = new Map<string, HttpAgent>();
  shared.set(kc, agents);
  target.createAgent = function (this: KubeConfig, cluster, options) {
    // Proxied clusters keep client-node's own agents (their pooling is the proxy agent's business).
    if (cluster?.proxyUrl) return original.call(this, cluster, options);
    const key = agentIdentity(cluster?.server, options);
    let agent = agents.get(key);
    if (!agent) {
      agent = original.call(this, cluster, { ...options, keepAlive: true });
      agents.set(key, agent);
      for (const [old, a] of agents) {
        if (agents.size <= maxAgents) break;
        agents.delete(old);
        a.destroy();
      }
    }
    return agent;
  };
  return kc;
}

/** Closes the idle connections of `kc`'s shared agents (for a clean exit). */
export function closeConnections(kc: KubeConfig): void {
  for (const agent of shared.get(kc)?.values() ?? []) agent.destroy();
  shared.get(kc)?.clear();
}
