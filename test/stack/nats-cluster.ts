// Three nats-server nodes with JetStream, clustered over routes on loopback: each node has its own
// client, route and monitor ports and its own store dir, which a restart keeps, so a node killed
// with SIGKILL comes back with what it had on disk, as a crashed pod on its volume would.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, httpGet } from './net.js';
import { ServerProcess } from './process.js';
import { toolPath } from './paths.js';

export interface NatsClusterNode {
  /** server_name, as JetStream names stream and consumer leaders. */
  name: string;
  url: string;
  monitorUrl: string;
  storeDir: string;
  process: ServerProcess;
}

export interface NatsClusterOptions {
  /** Prefix of the node names and of their log files; nodes are <name>-1 ... */
  name?: string;
  nodes?: number;
  /**
   * JetStream's sync_interval: how often a node fsyncs its store ("always" for every write). The
   * default is the server's own (2 minutes); a SIGKILL loses nothing that reached the page cache.
   */
  syncInterval?: string;
}

export interface NatsCluster {
  name: string;
  nodes: NatsClusterNode[];
  /** Client URLs of every node, comma-separated (what a client's `servers` takes). */
  url: string;
  /** Waits until every running node answers /healthz (JetStream current with the meta leader). */
  healthy(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** A node is ready when its JetStream is current: /healthz answers 200 only then. */
async function nodeHealthy(monitorUrl: string): Promise<boolean> {
  return (await httpGet(`${monitorUrl}/healthz`)).status === 200;
}

/**
 * Starts the cluster, on fresh ports again when a node found one of its ports taken: its ports are
 * chosen free before the nodes start, and another server starting at the same time may take one.
 */
export async function startNatsCluster(opts: NatsClusterOptions = {}): Promise<NatsCluster> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startNatsClusterOnce(opts);
    } catch (err) {
      if (
        attempt >= 3 ||
        !String(err instanceof Error ? err.message : err).includes('address already in use')
      )
        throw err;
    }
  }
}

async function startNatsClusterOnce(opts: NatsClusterOptions): Promise<NatsCluster> {
  const bin = toolPath('nats-server');
  const clusterName = opts.name ?? 'nats-cluster';
  const count = opts.nodes ?? 3;
  const ports = [];
  for (let i = 0; i < count; i++)
    ports.push({ client: await freePort(), route: await freePort(), monitor: await freePort() });
  const routes = ports.map((p) => `nats-route://127.0.0.1:${p.route}`);
  const nodes: NatsClusterNode[] = ports.map((p, i) => {
    const name = `${clusterName}-${i + 1}`;
    const storeDir = mkdtempSync(join(tmpdir(), 'eventrunner-nats-cluster-'));
    const file = join(storeDir, 'nats.conf');
    writeFileSync(
      file,
      `server_name: ${name}
listen: 127.0.0.1:${p.client}
http: 127.0.0.1:${p.monitor}
jetstream {
  store_dir: ${JSON.stringify(join(storeDir, 'js'))}
  max_memory_store: 256MB
  max_file_store: 8GB
${opts.syncInterval ? `  sync_interval: ${opts.syncInterval}\n` : ''}}
cluster {
  name: ${clusterName}
  listen: 127.0.0.1:${p.route}
  routes: [${routes.filter((_, j) => j !== i).join(', ')}]
}
`,
    );
    const monitorUrl = `http://127.0.0.1:${p.monitor}`;
    return {
      name,
      url: `nats://127.0.0.1:${p.client}`,
      monitorUrl,
      storeDir,
      process: new ServerProcess({
        name,
        command: bin,
        args: ['-c', file],
        // Alone, a node has no meta leader and is not healthy; the cluster's readiness is checked
        // below once every node runs. A restarted node is ready once it caught up with the others.
        ready: async () => (await httpGet(`${monitorUrl}/varz`)).status === 200,
      }),
    };
  });
  const healthy = async (timeoutMs = 60_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const states = await Promise.all(
        nodes.map((n) => (n.process.running ? nodeHealthy(n.monitorUrl).catch(() => false) : true)),
      );
      if (states.every(Boolean)) return;
      if (Date.now() > deadline)
        throw new Error(
          `NATS cluster ${clusterName} not healthy within ${timeoutMs / 1000}s: ${nodes
            .filter((_, i) => !states[i])
            .map((n) => n.name)
            .join(', ')} not current`,
        );
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  const stop = async () => {
    await Promise.all(nodes.map((n) => n.process.stop()));
    for (const n of nodes) rmSync(n.storeDir, { recursive: true, force: true });
  };
  try {
    await Promise.all(nodes.map((n) => n.process.start()));
    await healthy();
  } catch (err) {
    await stop();
    throw err;
  }
  return { name: clusterName, nodes, url: nodes.map((n) => n.url).join(','), healthy, stop };
}
