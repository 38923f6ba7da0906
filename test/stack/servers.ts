// Starts one server of each kind and describes it in the stack contract (env.ts).
import type { FullStackEnv, ServerKind } from './env.js';
import { startCassandra, cassandraCredentials } from './cassandra.js';
import { startClickHouse } from './clickhouse.js';
import { startKubeApiServer } from './kube.js';
import { startJaeger } from './jaeger.js';
import { startNats } from './nats.js';
import { startNatsCluster } from './nats-cluster.js';
import { startCassandraCluster } from './cassandra-cluster.js';
import { serveClusterControl } from './cluster-control.js';
import { startPrometheus } from './prometheus.js';

export interface RunningServer<K extends ServerKind = ServerKind> {
  kind: K;
  env: NonNullable<FullStackEnv[K]>;
  stop(): Promise<void>;
}

export const serverKinds: ServerKind[] = ['kube', 'nats', 'cassandra', 'clickhouse', 'jaeger', 'prometheus'];
/** Started only when named: three nodes each. */
export const clusterKinds: ServerKind[] = ['nats-cluster', 'cassandra-cluster'];

export async function startServer(kind: ServerKind): Promise<RunningServer> {
  switch (kind) {
    case 'kube': {
      const s = await startKubeApiServer();
      return {
        kind,
        env: { kubeconfig: s.kubeconfig, url: s.url, certDir: s.certDir, auditLog: s.auditLog },
        stop: s.stop,
      };
    }
    case 'nats': {
      const s = await startNats();
      return { kind, env: { url: s.url, monitorUrl: s.monitorUrl }, stop: s.stop };
    }
    case 'cassandra': {
      const s = await startCassandra();
      return {
        kind,
        env: {
          contactPoint: s.contactPoint,
          tlsContactPoint: s.tlsContactPoint,
          caFile: s.caFile,
          localDataCenter: s.localDataCenter,
          ...cassandraCredentials,
        },
        stop: s.stop,
      };
    }
    case 'clickhouse': {
      const s = await startClickHouse();
      return {
        kind,
        env: { url: s.url, httpsUrl: s.httpsUrl, caFile: s.caFile, version: s.version },
        stop: s.stop,
      };
    }
    case 'jaeger': {
      const s = await startJaeger();
      return { kind, env: { otlpUrl: s.otlpUrl, queryUrl: s.queryUrl }, stop: s.stop };
    }
    case 'nats-cluster': {
      const c = await startNatsCluster();
      const control = await serveClusterControl(c);
      return {
        kind,
        env: {
          url: c.url,
          nodes: c.nodes.map((n) => ({ name: n.name, url: n.url, monitorUrl: n.monitorUrl })),
          controlUrl: control.url,
        },
        stop: async () => {
          await control.close();
          await c.stop();
        },
      };
    }
    case 'cassandra-cluster': {
      const c = await startCassandraCluster();
      const control = await serveClusterControl(c);
      return {
        kind,
        env: {
          contactPoints: c.contactPoints,
          localDataCenter: c.localDataCenter,
          nodes: c.nodes.map((n) => ({ name: n.name, address: n.address, contactPoint: n.contactPoint })),
          controlUrl: control.url,
        },
        stop: async () => {
          await control.close();
          await c.stop();
        },
      };
    }
    case 'prometheus': {
      const s = await startPrometheus();
      return { kind, env: { url: s.url, targetsDir: s.targetsDir }, stop: s.stop };
    }
  }
}
