// The operator applies its own kinds with a plain JSON request (operator/apply.ts) instead of the
// typed client, whose serializer keeps only the fields its models know. For what the builders
// produce the two bodies are the same: nothing the typed client used to send changes.
import { describe, expect, it } from 'vitest';
import { ObjectSerializer } from '@kubernetes/client-node/dist/gen/models/ObjectSerializer.js';
import type { EventSource, Pipeline, Sink } from '../../../api/generated/types.js';
import { applyPath } from '../../../operator/apply.js';
import { ingestConfigMap, ingestDeployment, ingestService } from '../../../operator/builders/ingest.js';
import {
  processorConfig,
  processorConfigMap,
  processorDeployment,
} from '../../../operator/builders/processor.js';
import { parseOperatorOptions } from '../../../operator/options.js';

const options = parseOperatorOptions(
  ['--image', 'ghcr.io/eventrunner/eventrunner:1.0', '--nats-url', 'nats://nats:4222'],
  {},
);

const es: EventSource = {
  apiVersion: 'eventrunner.io/v1alpha1',
  kind: 'EventSource',
  metadata: { name: 'shop', namespace: 'prod', uid: 'u-1' },
  spec: {
    ingest: {
      http: { enabled: true, port: 8080 },
      grpc: { enabled: true, port: 9090 },
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

const sink: Sink = {
  apiVersion: 'eventrunner.io/v1alpha1',
  kind: 'Sink',
  metadata: { name: 'orders-cql', namespace: 'prod' },
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

const pl: Pipeline = {
  apiVersion: 'eventrunner.io/v1alpha1',
  kind: 'Pipeline',
  metadata: { name: 'orders', namespace: 'prod', uid: 'u-2' },
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
  },
};

const asJson = (o: unknown) => JSON.parse(JSON.stringify(o)) as unknown;

describe('applied bodies', () => {
  const sinks = new Map([['orders-cql', sink]]);
  const config = processorConfig(pl, new Map([['shop', es]]), sinks, options);
  const cases: [string, object][] = [
    ['V1Deployment', ingestDeployment(es, options)],
    ['V1Service', ingestService(es)],
    ['V1ConfigMap', ingestConfigMap(es, options)],
    ['V1Deployment', processorDeployment(pl, config, sinks, options)],
    ['V1ConfigMap', processorConfigMap(pl, config, options)],
  ];
  it.each(cases)('a %s is sent as the typed client sent it', (type, obj) => {
    expect(asJson(obj)).toEqual(asJson(ObjectSerializer.serialize(obj, type, '')));
  });

  it('go to the object path of their kind, and other kinds to the typed client', () => {
    expect(applyPath(ingestDeployment(es, options))).toBe(
      '/apis/apps/v1/namespaces/prod/deployments/shop-ingest',
    );
    expect(applyPath(ingestService(es))).toBe('/api/v1/namespaces/prod/services/shop-ingest');
    expect(
      applyPath({
        apiVersion: 'eventrunner.io/v1alpha1',
        kind: 'Pipeline',
        metadata: { name: 'a', namespace: 'b' },
      }),
    ).toBe('/apis/eventrunner.io/v1alpha1/namespaces/b/pipelines/a');
    expect(applyPath({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'a', namespace: 'b' } })).toBe(
      '/api/v1/namespaces/b/secrets/a',
    );
    expect(
      applyPath({
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'Role',
        metadata: { name: 'a', namespace: 'b' },
      }),
    ).toBeUndefined();
    expect(applyPath({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' } })).toBeUndefined();
  });
});
