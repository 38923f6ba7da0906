// Sample eventrunner resources for tests of what the operator builds from them: an EventSource
// `shop` with HTTP (and optionally gRPC) ingest, a Scylla Sink `orders-cql` and a Pipeline `orders`
// routing every event to it, in one namespace, with the operator options the builders take.
import type { EventSource, Pipeline, Sink } from '../../api/generated/types.js';
import { parseOperatorOptions } from '../../operator/options.js';

export const builderOptions = parseOperatorOptions(
  ['--image', 'ghcr.io/eventrunner/eventrunner:1.0', '--nats-url', 'nats://nats:4222'],
  {},
);

export function sampleEventSource(namespace = 'prod', opts: { grpc?: boolean } = {}): EventSource {
  return {
    apiVersion: 'eventrunner.io/v1alpha1',
    kind: 'EventSource',
    metadata: { name: 'shop', namespace, uid: 'u-1' },
    spec: {
      ingest: {
        http: { enabled: true, port: 8080 },
        grpc: { enabled: opts.grpc ?? false, port: 9090 },
        replicas: 2,
        auth: { enabled: true, tokensSecretRef: { name: 'shop-tokens', key: 'tokens' } },
        maxBatchEvents: 500,
        rateLimit: { eventsPerSecond: 100 },
        maxBodyBytes: '1Mi',
      },
      conversion: { defaultType: 'com.shop.raw', typeFrom: '/eventType' },
      stream: { maxAge: '72h', maxBytes: '1Gi', replicas: 1, storage: 'file', duplicateWindow: '2m' },
      suspend: false,
      deletionPolicy: 'Delete',
    },
  };
}

export function sampleSink(namespace = 'prod'): Sink {
  return {
    apiVersion: 'eventrunner.io/v1alpha1',
    kind: 'Sink',
    metadata: { name: 'orders-cql', namespace },
    spec: {
      scylla: {
        contactPoints: ['scylla:9042'],
        localDataCenter: 'dc1',
        keyspace: 'shop',
        table: 'orders',
        consistency: 'LOCAL_QUORUM',
        credentialsSecretRef: { name: 'cql', usernameKey: 'user', passwordKey: 'pass' },
        manageSchema: true,
        replicationFactor: 1,
        ttl: '0',
        batch: { maxRows: 500, maxDelay: '50ms', concurrency: 32 },
      },
    } as Sink['spec'],
  };
}

export function samplePipeline(namespace = 'prod', patch: Partial<Pipeline['spec']> = {}): Pipeline {
  return {
    apiVersion: 'eventrunner.io/v1alpha1',
    kind: 'Pipeline',
    metadata: { name: 'orders', namespace, uid: 'u-2' },
    spec: {
      sources: [{ eventSource: 'shop' }],
      rules: 'rule A "a" { when true then Route("store"); }',
      ruleEngine: { mode: 'once', maxCycles: 5000 },
      outputs: [{ name: 'store', sink: 'orders-cql' }],
      delivery: { maxDeliver: 5, ackWait: '30s', maxAckPending: 1000 },
      deadLetter: { maxAge: '168h', maxBytes: '1Gi', deletionPolicy: 'Delete' },
      replicas: 2,
      suspend: false,
      queryWorkers: { replicas: 1 },
      deletionPolicy: 'Delete',
      ...patch,
    },
  };
}
