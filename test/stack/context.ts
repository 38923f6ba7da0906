// Accessors for tests: the servers their vitest project started (see registry.ts, setup/).
import { inject } from 'vitest';
import type {
  CassandraClusterEnv,
  CassandraEnv,
  NatsClusterEnv,
  ClickHouseEnv,
  JaegerEnv,
  KubeEnv,
  NatsEnv,
  PrometheusEnv,
  ServerKind,
  FullStackEnv,
} from './env.js';

declare module 'vitest' {
  export interface ProvidedContext {
    kube: KubeEnv;
    nats: NatsEnv;
    cassandra: CassandraEnv;
    clickhouse: ClickHouseEnv;
    jaeger: JaegerEnv;
    prometheus: PrometheusEnv;
    'nats-cluster': NatsClusterEnv;
    'cassandra-cluster': CassandraClusterEnv;
  }
}

function provided<K extends ServerKind>(kind: K): NonNullable<FullStackEnv[K]> {
  const value = inject(kind) as FullStackEnv[K] | undefined;
  if (!value) {
    throw new Error(
      `this test needs ${kind}, but its vitest project does not start it: ` +
        `put the test in a project that lists '${kind}' in vitest.config.ts`,
    );
  }
  return value as NonNullable<FullStackEnv[K]>;
}

export const kubeEnv = (): KubeEnv => provided('kube');
export const natsEnv = (): NatsEnv => provided('nats');
export const cassandraEnv = (): CassandraEnv => provided('cassandra');
export const clickhouseEnv = (): ClickHouseEnv => provided('clickhouse');
export const jaegerEnv = (): JaegerEnv => provided('jaeger');
export const prometheusEnv = (): PrometheusEnv => provided('prometheus');
export const natsClusterEnv = (): NatsClusterEnv => provided('nats-cluster');
export const cassandraClusterEnv = (): CassandraClusterEnv => provided('cassandra-cluster');
