// The operator bench's raw baseline (bench/operator/baseline.ts) rebuilds what the operator applied
// from the live object and the operator's managedFields entry. Against the real API server: what it
// rebuilds for each child the builders make is the applied body itself.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoreV1Api, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import type { EventSource, Pipeline, Sink } from '../../../api/generated/types.js';
import { appliedBody } from '../../../bench/operator/baseline.js';
import { Applier, applyPath, rawRequest } from '../../../operator/apply.js';
import { ingestConfigMap, ingestDeployment, ingestService } from '../../../operator/builders/ingest.js';
import {
  processorConfig,
  processorConfigMap,
  processorDeployment,
} from '../../../operator/builders/processor.js';
import { parseOperatorOptions } from '../../../operator/options.js';
import { kubeEnv } from '../../stack/context.js';
import { adminConfig } from '../../support/kube.js';
import { createNamespace } from '../../support/operator.js';

const ns = `bench-bodies-${process.pid}`;
const options = parseOperatorOptions(['--image', 'eventrunner:test', '--nats-url', 'nats://nats:4222'], {});
const es: EventSource = {
  apiVersion: 'eventrunner.io/v1alpha1',
  kind: 'EventSource',
  metadata: { name: 'shop', namespace: ns, uid: 'u-1' },
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
  metadata: { name: 'store', namespace: ns },
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
  metadata: { name: 'orders', namespace: ns, uid: 'u-2' },
  spec: {
    sources: [{ eventSource: 'shop' }],
    rules: 'rule A "a" { when true then Route("out"); }',
    ruleEngine: { mode: 'once', maxCycles: 5000 },
    outputs: [{ name: 'out', sink: 'store' }],
    delivery: { maxDeliver: 5, ackWait: '30s', maxAckPending: 1000 },
    deadLetter: { maxAge: '168h', maxBytes: '1Gi', deletionPolicy: 'Delete' },
    replicas: 2,
    suspend: false,
    queryWorkers: { replicas: 1 },
    deletionPolicy: 'Delete',
  },
};

describe('raw baseline bodies', () => {
  let kc: KubeConfig;
  beforeAll(async () => {
    kc = adminConfig(kubeEnv().kubeconfig);
    await createNamespace(kc, ns);
  });
  afterAll(async () => {
    await kc?.makeApiClient(CoreV1Api).deleteNamespace({ name: ns });
  });

  it('are what the operator applied, cut from the live object by its managedFields', async () => {
    const sinks = new Map([['store', sink]]);
    const config = processorConfig(pl, new Map([['shop', es]]), sinks, options);
    const children: KubernetesObject[] = [
      ingestDeployment(es, options),
      ingestService(es),
      ingestConfigMap(es, options),
      processorDeployment(pl, config, sinks, options),
      processorConfigMap(pl, config, options),
    ];
    const applier = new Applier(kc);
    for (const child of children) {
      await applier.apply(child);
      const live = (await rawRequest(kc, 'GET', applyPath(child)!, undefined)) as KubernetesObject;
      const rebuilt = appliedBody(live as Parameters<typeof appliedBody>[0], ns);
      const applied = JSON.parse(JSON.stringify(child)) as KubernetesObject;
      // Everything applied, in the applied order; beyond that only what the server fills in list
      // keys the builders leave to their defaults (a port's protocol), so the size stays close.
      expect(rebuilt).toMatchObject(applied);
      const size = JSON.stringify(rebuilt).length;
      const appliedSize = JSON.stringify(applied).length;
      expect(size).toBeGreaterThanOrEqual(appliedSize * 0.95);
      expect(size).toBeLessThanOrEqual(appliedSize * 1.1);
    }
  });
});
