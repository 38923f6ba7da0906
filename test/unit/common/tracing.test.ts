import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { isConfigError } from '../../../runtime/common/errors.js';
import { createLogger } from '../../../runtime/common/logger.js';
import { captureLog } from '../internals/capture.js';
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

describe('exporting spans', () => {
  it('warns, naming the endpoint and the spans dropped, when the endpoint refuses them', async () => {
    // A web server that is not a collector (a wrong path or port in the settings): 404 for all.
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(404).end('not found'));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`;
    try {
      const { log, lines } = captureLog();
      const tracing = await startTracing(
        tracingConfig({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: endpoint }, 'test'),
        log,
      );
      for (let i = 0; i < 3; i++) tracing!.tracer.startSpan(`span ${i}`).end();
      await tracing!.shutdown();
      const warned = lines().filter((l) => l.msg === 'Exporting spans failed; they are dropped');
      expect(warned).toHaveLength(1);
      expect(warned[0]).toMatchObject({ endpoint, droppedSpans: 3 });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
