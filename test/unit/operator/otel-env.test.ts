// The operator passes its tracing settings (the chart's `tracing` values, as OTEL_* variables) on
// to the workloads it renders, each with its own service name and resource attributes.
import { describe, expect, it } from 'vitest';
import type { EventSource } from '../../../api/generated/types.js';
import { hashOf, otelEnv } from '../../../operator/builders/common.js';
import { ingestDeployment } from '../../../operator/builders/ingest.js';
import { otelVariables, parseOperatorOptions } from '../../../operator/options.js';

const args = ['--image', 'eventrunner:1.0', '--nats-url', 'nats://nats:4222'];
const tracingEnv = {
  OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector.monitoring:4318',
  OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
  OTEL_TRACES_SAMPLER_ARG: '0.01',
  OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=prod',
  OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer s3cret',
};

const es: EventSource = {
  apiVersion: 'eventrunner.io/v1alpha1',
  kind: 'EventSource',
  metadata: { name: 'shop', namespace: 'prod', uid: 'u-1' },
  spec: {
    ingest: {
      http: { enabled: true, port: 8080 },
      grpc: { enabled: false, port: 9090 },
      replicas: 1,
      auth: { enabled: false },
      maxBatchEvents: 500,
      rateLimit: { eventsPerSecond: 100 },
      maxBodyBytes: '1Mi',
    },
    conversion: { defaultType: 'com.shop.raw' },
    stream: { maxAge: '72h', maxBytes: '1Gi', replicas: 1, storage: 'file', duplicateWindow: '2m' },
    deletionPolicy: 'Delete',
  } as unknown as EventSource['spec'],
};

describe('OTEL environment of workloads', () => {
  it('takes the OTEL_* variables of the operator, but not the export headers (they may hold credentials)', () => {
    expect(otelVariables({ ...tracingEnv, OTEL_EMPTY: '', HOME: '/root' })).toEqual({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector.monitoring:4318',
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=prod',
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.01',
    });
    expect(parseOperatorOptions(args, tracingEnv).otel).toEqual(otelVariables(tracingEnv));
  });

  it("names the workload's service and adds its namespace and owner to the resource attributes", () => {
    expect(otelEnv(otelVariables(tracingEnv), es, 'ingest')).toEqual([
      { name: 'OTEL_EXPORTER_OTLP_ENDPOINT', value: 'http://collector.monitoring:4318' },
      {
        name: 'OTEL_RESOURCE_ATTRIBUTES',
        value: 'deployment.environment=prod,k8s.namespace.name=prod,eventrunner.eventsource=shop',
      },
      { name: 'OTEL_SERVICE_NAME', value: 'eventrunner-ingest' },
      { name: 'OTEL_TRACES_SAMPLER', value: 'parentbased_traceidratio' },
      { name: 'OTEL_TRACES_SAMPLER_ARG', value: '0.01' },
    ]);
    expect(otelEnv({}, es, 'ingest')).toEqual([]);
    expect(otelEnv(undefined, es, 'ingest')).toEqual([]);
  });

  it('leaves the pods as they were while tracing is off, and sets the variables when it is on', () => {
    const off = ingestDeployment(es, parseOperatorOptions(args, {}));
    expect(off.spec!.template.spec!.containers[0]!.env).toBeUndefined();
    const on = ingestDeployment(es, parseOperatorOptions(args, tracingEnv));
    const env = on.spec!.template.spec!.containers[0]!.env!;
    expect(env.map((e) => e.name)).toContain('OTEL_EXPORTER_OTLP_ENDPOINT');
    expect(env.find((e) => e.name === 'OTEL_SERVICE_NAME')?.value).toBe('eventrunner-ingest');
    expect(JSON.stringify(on)).not.toContain('s3cret');
    // Deterministic: the same settings render the same pod template.
    expect(hashOf(ingestDeployment(es, parseOperatorOptions(args, tracingEnv)))).toBe(hashOf(on));
  });
});
