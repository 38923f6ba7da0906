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
  localDataCenter: string;
  username: string;
  password: string;
}
export interface ClickHouseEnv {
  url: string;
  version: string;
}
export interface StackEnv {
  kube?: KubeEnv;
  nats?: NatsEnv;
  cassandra?: CassandraEnv;
  clickhouse?: ClickHouseEnv;
}
export type ServerKind = keyof StackEnv;

/** The environment variables through which processes (CLI, benchmarks, demo) find the stack. */
export function toProcessEnv(env: StackEnv): Record<string, string> {
  const out: Record<string, string> = {};
  if (env.kube) out.KUBECONFIG = env.kube.kubeconfig;
  if (env.nats) out.NATS_URL = env.nats.url;
  if (env.cassandra) {
    out.CASSANDRA_CONTACT_POINTS = env.cassandra.contactPoint;
    out.CASSANDRA_LOCAL_DC = env.cassandra.localDataCenter;
    out.CASSANDRA_USERNAME = env.cassandra.username;
    out.CASSANDRA_PASSWORD = env.cassandra.password;
  }
  if (env.clickhouse) out.CLICKHOUSE_URL = env.clickhouse.url;
  return out;
}
