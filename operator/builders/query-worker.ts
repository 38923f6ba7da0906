// Pure builders for a Pipeline's query workers: their config file (the query-worker schema of
// api/schema/config), its ConfigMap and the Deployment. The outputs, credentials and dead-letter
// stream come from the processor config, so both workloads write to the same Sinks the same way.
import type { V1ConfigMap, V1Deployment } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import type {
  Pipeline,
  ProcessorConfigInput,
  QueryWorkerConfigInput,
  Sink,
} from '../../api/generated/types.js';
import { childName, queryStateBucket, shuffleStreamName, shuffleSubjectPrefix } from '../names.js';
import type { OperatorOptions } from '../options.js';
import { childLabels, opsPort, ownerReference } from './common.js';
import { natsConfigMapData, natsConnection } from './nats-user.js';
import { sinkWriterDeployment, type SecretDigests } from './processor.js';

/** How long a partition stays with a silent owner: failover takes about this long. */
export const QUERY_LEASE_DURATION = '10s';
export const QUERY_LEASE_MS = 10_000;

export const queryWorkerNames = (pl: Pipeline) => ({
  deployment: childName(pl.metadata.name!, 'query-worker'),
  configMap: childName(pl.metadata.name!, 'query-worker-config'),
  natsUser: childName(pl.metadata.name!, 'query-nats'),
});

export function queryWorkerSelector(pl: Pipeline): Record<string, string> {
  return {
    'app.kubernetes.io/instance': pl.metadata.name!,
    'app.kubernetes.io/component': 'query-worker',
    'eventrunner.io/pipeline': pl.metadata.name!,
  };
}

/** Partitions of all the Pipeline's queries: more workers than that would own nothing. */
export function totalPartitions(pl: Pipeline): number {
  return (pl.spec.queries ?? []).reduce((n, q) => n + (q.partitions ?? 1), 0);
}

/** Query-worker pods to run: spec.queryWorkers.replicas, at most one per partition, none when suspended. */
export function queryWorkerReplicas(pl: Pipeline): number {
  if (pl.spec.suspend) return 0;
  return Math.min(pl.spec.queryWorkers?.replicas ?? 1, totalPartitions(pl));
}

/** The outputs any query writes to. */
function queryOutputs(pl: Pipeline): Set<string> {
  return new Set((pl.spec.queries ?? []).flatMap((q) => q.outputs));
}

/**
 * The query-worker config for a Pipeline with queries, from its processor config: the same outputs
 * and dead-letter stream, and a NATS connection of the workers' own (their user and inbox).
 */
export function queryWorkerConfig(
  pl: Pipeline,
  processor: ProcessorConfigInput,
  options: OperatorOptions,
): QueryWorkerConfigInput {
  const ns = pl.metadata.namespace!;
  const name = pl.metadata.name!;
  const used = queryOutputs(pl);
  return {
    pipeline: { namespace: ns, name },
    nats: natsConnection(options, ns, queryWorkerNames(pl).deployment),
    sources: pl.spec.sources.map((s) => s.as ?? s.eventSource),
    queries: pl.spec.queries ?? [],
    outputs: processor.outputs.filter((o) => used.has(o.name)),
    shuffle: { stream: shuffleStreamName(ns, name), subjectPrefix: shuffleSubjectPrefix(ns, name) },
    state: { bucket: queryStateBucket(ns, name), leaseDuration: QUERY_LEASE_DURATION },
    deadLetter: processor.deadLetter,
    ops: { port: opsPort },
    ...(processor.fastPaths === false ? { fastPaths: false } : {}),
    ...(processor.logLevel ? { logLevel: processor.logLevel } : {}),
  };
}

export function queryWorkerConfigMap(
  pl: Pipeline,
  config: QueryWorkerConfigInput,
  options: OperatorOptions,
): V1ConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: queryWorkerNames(pl).configMap,
      namespace: pl.metadata.namespace,
      labels: childLabels(pl, 'query-worker'),
      ownerReferences: [ownerReference(pl)],
    },
    data: { 'config.yaml': stringify(config), ...natsConfigMapData(options) },
  };
}

/**
 * The query-worker Deployment. Its pods roll when their config or the Secrets of their outputs'
 * Sinks change (`digests`, as for the processor), and only then.
 */
export function queryWorkerDeployment(
  pl: Pipeline,
  config: QueryWorkerConfigInput,
  sinks: Map<string, Sink>,
  options: OperatorOptions,
  digests: SecretDigests = {},
): V1Deployment {
  const used = queryOutputs(pl);
  return sinkWriterDeployment(
    pl,
    {
      component: 'query-worker',
      command: 'query-worker',
      names: queryWorkerNames(pl),
      sinkNames: pl.spec.outputs.filter((o) => used.has(o.name)).map((o) => o.sink),
      config,
      replicas: queryWorkerReplicas(pl),
      selector: queryWorkerSelector(pl),
      resources: pl.spec.queryWorkers?.resources,
    },
    sinks,
    options,
    digests,
  );
}
