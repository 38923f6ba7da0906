// Faults on demand for the cluster stacks. The process that started a cluster (vitest's main
// process, or `npm run stack -- up`) owns its nodes, so only it can restart one; it serves a small
// HTTP endpoint on 127.0.0.1 through which tests and benchmarks, in other processes, kill -9 a
// node and restart it on its data dir, pause and resume one (SIGSTOP/SIGCONT: a hung node, or one
// cut off from its peers, whose sockets stay open and silent), and list the nodes' states.
// The leaders of a stream and of a consumer are read from JetStream itself (STREAM.INFO and
// CONSUMER.INFO name the server leading each).
import http from 'node:http';
import type { JetStreamManager } from '@nats-io/jetstream';
import type { ServerProcess } from './process.js';

export type NodeState = 'running' | 'paused' | 'down';

export interface ControlledCluster {
  nodes: { name: string; process: ServerProcess }[];
  /** Resolves once every running node is back in the cluster. */
  healthy(timeoutMs?: number): Promise<void>;
}

export type NodeAction = 'kill' | 'restart' | 'pause' | 'resume';

/** Serves POST /nodes/<name>/<action> and GET /nodes; resolves with its URL. */
export async function serveClusterControl(
  cluster: ControlledCluster,
): Promise<{ url: string; close(): Promise<void> }> {
  const paused = new Set<string>();
  const state = (n: { name: string; process: ServerProcess }): NodeState =>
    !n.process.running ? 'down' : paused.has(n.name) ? 'paused' : 'running';
  const act = async (name: string, action: NodeAction): Promise<void> => {
    const node = cluster.nodes.find((n) => n.name === name);
    if (!node) throw new RangeError(`no node ${name}; nodes: ${cluster.nodes.map((n) => n.name).join(', ')}`);
    switch (action) {
      case 'kill':
        paused.delete(name);
        await node.process.kill();
        return;
      case 'restart':
        if (node.process.running) throw new RangeError(`${name} is running; kill it first`);
        await node.process.start();
        await cluster.healthy();
        return;
      case 'pause':
        node.process.signal('SIGSTOP');
        paused.add(name);
        return;
      case 'resume':
        node.process.signal('SIGCONT');
        paused.delete(name);
        return;
    }
  };
  const server = http.createServer((req, res) => {
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const m = /^\/nodes\/([^/]+)\/(kill|restart|pause|resume)$/.exec(req.url ?? '');
    if (req.method === 'GET' && req.url === '/nodes')
      return reply(
        200,
        cluster.nodes.map((n) => ({ name: n.name, state: state(n), pid: n.process.pid })),
      );
    if (req.method !== 'POST' || !m)
      return reply(404, { error: 'GET /nodes or POST /nodes/<name>/<action>' });
    act(decodeURIComponent(m[1]!), m[2] as NodeAction).then(
      () => reply(200, { name: m[1], state: state(cluster.nodes.find((n) => n.name === m[1])!) }),
      (err: unknown) => reply(err instanceof RangeError ? 400 : 500, { error: String(err) }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      // Nothing stays frozen: a paused node must run to stop.
      for (const n of cluster.nodes) if (paused.has(n.name)) n.process.signal('SIGCONT');
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The client side, for tests and benchmarks in any process. */
export function clusterControl(controlUrl: string) {
  const post = async (name: string, action: NodeAction) => {
    const res = await fetch(`${controlUrl}/nodes/${encodeURIComponent(name)}/${action}`, {
      method: 'POST',
      signal: AbortSignal.timeout(300_000),
    });
    if (!res.ok) throw new Error(`${action} ${name}: ${res.status} ${await res.text()}`);
  };
  return {
    /** SIGKILL, as a crash or an OOM kill would. */
    kill: (name: string) => post(name, 'kill'),
    /** Starts a killed node again on its data dir and waits until the cluster is whole. */
    restart: (name: string) => post(name, 'restart'),
    pause: (name: string) => post(name, 'pause'),
    resume: (name: string) => post(name, 'resume'),
    async nodes(): Promise<{ name: string; state: NodeState; pid?: number }[]> {
      const res = await fetch(`${controlUrl}/nodes`, { signal: AbortSignal.timeout(10_000) });
      return (await res.json()) as { name: string; state: NodeState; pid?: number }[];
    },
  };
}

/** server_name of the node leading a stream's replicas (undefined during an election). */
export async function streamLeader(jsm: JetStreamManager, stream: string): Promise<string | undefined> {
  return (await jsm.streams.info(stream)).cluster?.leader || undefined;
}

/** server_name of the node leading a consumer's replicas (undefined during an election). */
export async function consumerLeader(
  jsm: JetStreamManager,
  stream: string,
  consumer: string,
): Promise<string | undefined> {
  return (await jsm.consumers.info(stream, consumer)).cluster?.leader || undefined;
}
