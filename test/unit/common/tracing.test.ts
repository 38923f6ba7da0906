import { describe, expect, it } from 'vitest';
import { isConfigError } from '../../../runtime/common/errors.js';
import { createLogger } from '../../../runtime/common/logger.js';
import { parseKeyValues, startTracing, tracingConfig } from '../../../runtime/common/tracing.js';

const on = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' };

describe('tracing settings from OTEL_* variables', () => {
  it('is off without an endpoint, and then loads nothing', async () => {
    const config = tracingConfig({}, 'eventrunner-processor');
    expect(config.enabled).toBe(false);
    expect(config.serviceName).toBe('eventrunner-processor');
    expect(await startTracing(config, createLogger({ name: 'test', level: 'silent' }))).toBeUndefined();
  });

  it('is on with an endpoint: parent-based, every new trace, the traces path appended', () => {
    expect(tracingConfig(on, 'svc')).toEqual({
      enabled: true,
      serviceName: 'svc',
      endpoint: 'http://collector:4318/v1/traces',
      headers: {},
      sampler: 'parentbased_always_on',
      ratio: 1,
      resourceAttributes: {},
    });
    expect(
      tracingConfig({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://x:4318/custom' }, 'svc').endpoint,
    ).toBe('http://x:4318/custom');
  });

  it('reads sampler, ratio, service name, resource attributes and export headers', () => {
    const c = tracingConfig(
      {
        ...on,
        OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
        OTEL_TRACES_SAMPLER_ARG: '0.01',
        OTEL_SERVICE_NAME: 'eventrunner-ingest',
        OTEL_RESOURCE_ATTRIBUTES: 'k8s.namespace.name=shop,eventrunner.eventsource=web%20shop',
        OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20s3cret',
      },
      'svc',
    );
    expect(c).toMatchObject({
      sampler: 'parentbased_traceidratio',
      ratio: 0.01,
      serviceName: 'eventrunner-ingest',
      resourceAttributes: { 'k8s.namespace.name': 'shop', 'eventrunner.eventsource': 'web shop' },
      headers: { authorization: 'Bearer s3cret' },
    });
  });

  it('can be switched off with an endpoint set', () => {
    expect(tracingConfig({ ...on, OTEL_SDK_DISABLED: 'true' }, 's').enabled).toBe(false);
    expect(tracingConfig({ ...on, OTEL_TRACES_EXPORTER: 'none' }, 's').enabled).toBe(false);
  });

  it('refuses what it cannot honour, naming the variable', () => {
    for (const [k, v] of [
      ['OTEL_TRACES_SAMPLER', 'jaeger_remote'],
      ['OTEL_TRACES_SAMPLER_ARG', '1.5'],
      ['OTEL_TRACES_SAMPLER_ARG', 'half'],
      ['OTEL_TRACES_EXPORTER', 'zipkin'],
      ['OTEL_EXPORTER_OTLP_PROTOCOL', 'grpc'],
      ['OTEL_RESOURCE_ATTRIBUTES', 'novalue'],
    ] as const) {
      let err: unknown;
      try {
        tracingConfig({ ...on, [k]: v }, 's');
      } catch (e) {
        err = e;
      }
      expect(isConfigError(err), `${k}=${v}`).toBe(true);
      expect((err as Error).message).toContain(k);
    }
  });

  it('parses key=value lists', () => {
    expect(parseKeyValues(' a=1 , b = x%2Cy ,', 'X')).toEqual({ a: '1', b: 'x,y' });
    expect(parseKeyValues(undefined, 'X')).toEqual({});
    expect(parseKeyValues('a=%E0%A4%A', 'X')).toEqual({ a: '%E0%A4%A' });
  });
});
