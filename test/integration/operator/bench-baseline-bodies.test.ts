// The operator bench's raw baseline (bench/operator/baseline.ts) rebuilds what the operator applied
// from the live object and the operator's managedFields entry. Against the real API server: what it
// rebuilds for each child the builders make is the applied body itself.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoreV1Api, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { appliedBody } from '../../../bench/operator/baseline.js';
import { Applier, applyPath, rawRequest } from '../../../operator/apply.js';
import { ingestConfigMap, ingestDeployment, ingestService } from '../../../operator/builders/ingest.js';
import {
  processorConfig,
  processorConfigMap,
  processorDeployment,
} from '../../../operator/builders/processor.js';
import { kubeEnv } from '../../stack/context.js';
import { adminConfig } from '../../support/kube.js';
import { createNamespace } from '../../support/operator.js';
import { builderOptions, sampleEventSource, samplePipeline, sampleSink } from '../../support/resources.js';

const ns = `bench-bodies-${process.pid}`;
const options = builderOptions;
const es = sampleEventSource(ns, { grpc: true });
const sink = sampleSink(ns);
const pl = samplePipeline(ns);

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
    const sinks = new Map([['orders-cql', sink]]);
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
