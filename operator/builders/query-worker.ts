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
import { sinkCredentialFiles, sinkWriterDeployment, type SecretDigests } from './processor.js';

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

/** The Sinks of the Pipeline's lookup tables (spec.tables). */
export function tableSinkNames(pl: Pipeline): string[] {
  return [...new Set((pl.spec.tables ?? []).map((t) => t.sink))];
}

/**
 * The query-worker config for a Pipeline with queries, from its processor config: the same outputs
 * and dead-letter stream, and a NATS connection of the workers' own (their user and inbox). The
 * lookup tables carry their Sink's spec and credential files, from `sinks` (which must hold every
 * table's Sink).
 */
export function queryWorkerConfig(
  pl: Pipeline,
  processor: ProcessorConfigInput,
  options: OperatorOptions,
  sinks: ReadonlyMap<string, Sink> = new Map(),
): QueryWorkerConfigInput {
  const ns = pl.metadata.namespace!;
  const name = pl.metadata.name!;
  const used = queryOutputs(pl);
  const tables = (pl.spec.tables ?? []).map((t) => {
    const sink = sinks.get(t.sink);
    if (!sink) throw new Error(`Sink ${t.sink} of table ${t.name} is not known`);
    return {
      name: t.name,
      key: t.key,
      cache: t.cache,
      sink: sink.spec,
      ...sinkCredentialFiles(t.sink, sink),
    };
  });
  return {
    pipeline: { namespace: ns, name },
    nats: natsConnection(options, ns, queryWorkerNames(pl).deployment),
    sources: pl.spec.sources.map((s) => s.as ?? s.eventSource),
    queries: pl.spec.queries ?? [],
    outputs: processor.outputs.filter((o) => used.has(o.name)),
    ...(tables.length ? { tables } : {}),
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
      sinkNames: [
        ...new Set([
          ...pl.spec.outputs.filter((o) => used.has(o.name)).map((o) => o.sink),
          ...tableSinkNames(pl),
        ]),
      ],
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
