// The operator applies its own kinds with a plain JSON request (operator/apply.ts) instead of the
// typed client, whose serializer keeps only the fields its models know. For what the builders
// produce the two bodies are the same: nothing the typed client used to send changes.
import { describe, expect, it } from 'vitest';
import { ObjectSerializer } from '@kubernetes/client-node/dist/gen/models/ObjectSerializer.js';
import { applyPath } from '../../../operator/apply.js';
import { ingestConfigMap, ingestDeployment, ingestService } from '../../../operator/builders/ingest.js';
import {
  processorConfig,
  processorConfigMap,
  processorDeployment,
} from '../../../operator/builders/processor.js';
import { builderOptions, sampleEventSource, samplePipeline, sampleSink } from '../../support/resources.js';

const options = builderOptions;
const es = sampleEventSource('prod', { grpc: true });
const sink = sampleSink();
const pl = samplePipeline();

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
