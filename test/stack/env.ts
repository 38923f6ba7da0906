// The stack's contract with tests, benchmarks and the demo: what each server exposes. Tests read it
// with `kubeEnv()`, `natsEnv()`, ... from context.ts (vitest inject); processes get it as environment variables
// (`toProcessEnv`), the same names `npm run stack -- up` prints.

export interface KubeEnv {
  /** Path of an admin kubeconfig (client cert in system:masters). */
  kubeconfig: string;
  url: string;
  /** Directory holding ca.crt, ca.key and sa.key of this apiserver. */
  certDir: string;
  /** JSON-lines audit log of every API request (Metadata level). */
  auditLog: string;
}
export interface NatsEnv {
  url: string;
  monitorUrl: string;
}
export interface CassandraEnv {
  /** host:port */
  contactPoint: string;
  /** host:port of the same server's TLS-only native port. */
  tlsContactPoint: string;
  /** PEM of the CA that signed the TLS port's certificate (SANs 127.0.0.1 and localhost). */
  caFile: string;
  localDataCenter: string;
  username: string;
  password: string;
}
export interface ClickHouseEnv {
  url: string;
  /** https://127.0.0.1:PORT, the same server over TLS. */
  httpsUrl: string;
  /** PEM of the CA that signed the HTTPS certificate (SANs 127.0.0.1 and localhost). */
  caFile: string;
  version: string;
}
export interface JaegerEnv {
  /** OTLP/HTTP base URL: OTEL_EXPORTER_OTLP_ENDPOINT of traced processes. */
  otlpUrl: string;
  /** Query API base URL (/api/traces/{id}). */
  queryUrl: string;
}
export interface PrometheusEnv {
  url: string;
  /** Scrape targets are JSON files written here (test/stack/prometheus.ts registerTarget). */
  targetsDir: string;
}
export interface StackEnv {
  kube?: KubeEnv;
  nats?: NatsEnv;
  cassandra?: CassandraEnv;
  clickhouse?: ClickHouseEnv;
}
/** The trace and metrics backends; only the observability tests start them. */
export interface ObservabilityEnv {
  jaeger?: JaegerEnv;
  prometheus?: PrometheusEnv;
}
/** A 3-node JetStream cluster (test/stack/nats-cluster.ts). */
export interface NatsClusterEnv {
  /** Client URLs of every node, comma-separated. */
  url: string;
  nodes: { name: string; url: string; monitorUrl: string }[];
  /** Fault injection (kill, restart, pause, resume a node): test/stack/cluster-control.ts. */
  controlUrl: string;
}
/** A 3-node Cassandra cluster, one data center, no authentication (test/stack/cassandra-cluster.ts). */
export interface CassandraClusterEnv {
  /** address:port of every node (127.0.0.1, .2, .3; one port). */
  contactPoints: string[];
  localDataCenter: string;
  nodes: { name: string; address: string; contactPoint: string }[];
  controlUrl: string;
}
/** The clusters; only the cluster tests and benchmarks start them. */
export interface ClusterEnv {
  'nats-cluster'?: NatsClusterEnv;
  'cassandra-cluster'?: CassandraClusterEnv;
}
/** Every server a stack may run. */
export type FullStackEnv = StackEnv & ObservabilityEnv & ClusterEnv;
export type ServerKind = keyof FullStackEnv;

/** The environment variables through which processes (CLI, benchmarks, demo) find the stack. */
export function toProcessEnv(env: FullStackEnv): Record<string, string> {
  const out: Record<string, string> = {};
  if (env.kube) out.KUBECONFIG = env.kube.kubeconfig;
  if (env.nats) out.NATS_URL = env.nats.url;
  if (env.cassandra) {
    out.CASSANDRA_CONTACT_POINTS = env.cassandra.contactPoint;
    out.CASSANDRA_LOCAL_DC = env.cassandra.localDataCenter;
    out.CASSANDRA_USERNAME = env.cassandra.username;
    out.CASSANDRA_PASSWORD = env.cassandra.password;
    out.CASSANDRA_TLS_CONTACT_POINTS = env.cassandra.tlsContactPoint;
    out.CASSANDRA_CA_FILE = env.cassandra.caFile;
  }
  if (env.clickhouse) {
    out.CLICKHOUSE_URL = env.clickhouse.url;
    out.CLICKHOUSE_HTTPS_URL = env.clickhouse.httpsUrl;
    out.CLICKHOUSE_CA_FILE = env.clickhouse.caFile;
  }
  if (env.jaeger) {
    out.JAEGER_OTLP_URL = env.jaeger.otlpUrl;
    out.JAEGER_QUERY_URL = env.jaeger.queryUrl;
  }
  if (env['nats-cluster']) {
    out.NATS_CLUSTER_URL = env['nats-cluster'].url;
    out.NATS_CLUSTER_CONTROL_URL = env['nats-cluster'].controlUrl;
  }
  if (env['cassandra-cluster']) {
    out.CASSANDRA_CLUSTER_CONTACT_POINTS = env['cassandra-cluster'].contactPoints.join(',');
    out.CASSANDRA_CLUSTER_CONTROL_URL = env['cassandra-cluster'].controlUrl;
  }
  if (env.prometheus) {
    out.PROMETHEUS_URL = env.prometheus.url;
    out.PROMETHEUS_TARGETS_DIR = env.prometheus.targetsDir;
  }
  return out;
}
