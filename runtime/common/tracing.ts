// OpenTelemetry tracing of a workload, configured by the standard OTEL_* variables (which the
// operator renders from the chart's values). Off unless an OTLP endpoint is set: then no SDK is
// loaded and the hot paths test one field. On: spans go to the OTLP/HTTP endpoint in batches,
// sampled parent-based (a producer's sampling decision is kept; new traces by ratio).
import type { Tracer } from '@opentelemetry/api';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { Env } from './flags.js';
import { ConfigError } from './errors.js';
import type { Logger } from './logger.js';

export const SAMPLERS = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const;
export type SamplerName = (typeof SAMPLERS)[number];

export interface TracingConfig {
  enabled: boolean;
  serviceName: string;
  /** The OTLP/HTTP traces URL (…/v1/traces). */
  endpoint?: string;
  /** Sent with every export (authentication); never logged. */
  headers: Record<string, string>;
  sampler: SamplerName;
  /** The ratio of traceidratio samplers, 0…1. */
  ratio: number;
  resourceAttributes: Record<string, string>;
}

/** `k=v,k2=v2` lists of OTEL_RESOURCE_ATTRIBUTES and OTEL_EXPORTER_OTLP_HEADERS, values URL-encoded. */
export function parseKeyValues(text: string | undefined, what: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!text) return out;
  for (const item of text.split(',')) {
    if (!item.trim()) continue;
    const eq = item.indexOf('=');
    if (eq <= 0) throw new ConfigError(`${what}: "${item.trim()}" is not key=value`);
    let value = item.slice(eq + 1).trim();
    try {
      value = decodeURIComponent(value);
    } catch {
      // Not percent-encoded: taken as written.
    }
    out[item.slice(0, eq).trim()] = value;
  }
  return out;
}

/**
 * Reads the tracing settings from OTEL_* variables. Tracing is on when an OTLP endpoint is set
 * (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, or OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces), unless
 * OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none.
 */
export function tracingConfig(env: Env, defaultServiceName: string): TracingConfig {
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  const endpoint =
    env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim() ||
    (base ? `${base.replace(/\/+$/, '')}/v1/traces` : undefined);
  const exporter = (env.OTEL_TRACES_EXPORTER ?? 'otlp').trim().toLowerCase();
  if (exporter !== 'otlp' && exporter !== 'none')
    throw new ConfigError(`OTEL_TRACES_EXPORTER: "${exporter}" is not supported; use otlp or none`);
  const protocol = env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL;
  if (protocol && protocol !== 'http/json' && protocol !== 'http/protobuf')
    throw new ConfigError(
      `OTEL_EXPORTER_OTLP_PROTOCOL: "${protocol}" is not supported; eventrunner exports OTLP over HTTP (http/json)`,
    );
  const sampler = (env.OTEL_TRACES_SAMPLER ?? 'parentbased_always_on').trim() as SamplerName;
  if (!SAMPLERS.includes(sampler))
    throw new ConfigError(`OTEL_TRACES_SAMPLER: "${sampler}" is not one of ${SAMPLERS.join(', ')}`);
  const arg = env.OTEL_TRACES_SAMPLER_ARG?.trim();
  const ratio = arg ? Number(arg) : 1;
  if (!Number.isFinite(ratio) || ratio < 0 || ratio > 1)
    throw new ConfigError(`OTEL_TRACES_SAMPLER_ARG: "${arg}" is not a ratio between 0 and 1`);
  const resourceAttributes = parseKeyValues(env.OTEL_RESOURCE_ATTRIBUTES, 'OTEL_RESOURCE_ATTRIBUTES');
  const serviceName =
    env.OTEL_SERVICE_NAME?.trim() || resourceAttributes['service.name'] || defaultServiceName;
  const headers = {
    ...parseKeyValues(env.OTEL_EXPORTER_OTLP_HEADERS, 'OTEL_EXPORTER_OTLP_HEADERS'),
    ...parseKeyValues(env.OTEL_EXPORTER_OTLP_TRACES_HEADERS, 'OTEL_EXPORTER_OTLP_TRACES_HEADERS'),
  };
  const disabled = env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true';
  return {
    enabled: !disabled && exporter === 'otlp' && endpoint !== undefined,
    serviceName,
    ...(endpoint ? { endpoint } : {}),
    headers,
    sampler,
    ratio,
    resourceAttributes,
  };
}

/** What a workload is handed to trace with; no tracer when tracing is off. */
export interface Telemetry {
  tracer?: Tracer | undefined;
}

export interface Tracing {
  tracer: Tracer;
  /** Exports what is buffered and stops; bounded, never throws. */
  shutdown(): Promise<void>;
}

/** How often a failing exporter is reported: the first failure at once, then at most this often. */
export const EXPORT_FAILURE_LOG_MS = 60_000;

/**
 * The exporter, telling the log when an export fails: the SDK drops the spans and says nothing
 * unless a diagnostic logger is installed. One warning per EXPORT_FAILURE_LOG_MS at most, with how
 * many spans were dropped since the last.
 */
function reportFailures(inner: SpanExporter, log: Logger, endpoint: string): SpanExporter {
  let dropped = 0;
  let lastWarn: number | undefined;
  return {
    export(spans, done) {
      inner.export(spans, (result) => {
        // ExportResultCode.SUCCESS is 0 (@opentelemetry/core, not loaded for this alone).
        if (result.code !== 0) {
          dropped += spans.length;
          const now = Date.now();
          if (lastWarn === undefined || now - lastWarn >= EXPORT_FAILURE_LOG_MS) {
            log.warn(
              { err: result.error, endpoint, droppedSpans: dropped },
              'Exporting spans failed; they are dropped',
            );
            dropped = 0;
            lastWarn = now;
          }
        }
        done(result);
      });
    },
    shutdown: () => inner.shutdown(),
    forceFlush: () => inner.forceFlush?.() ?? Promise.resolve(),
  };
}

/** Starts the SDK when tracing is on; undefined (nothing loaded) when it is off. */
export async function startTracing(config: TracingConfig, log: Logger): Promise<Tracing | undefined> {
  if (!config.enabled || !config.endpoint) return undefined;
  const [sdk, { OTLPTraceExporter }, { resourceFromAttributes }] = await Promise.all([
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
  ]);
  const ratio = new sdk.TraceIdRatioBasedSampler(config.ratio);
  const sampler = {
    always_on: () => new sdk.AlwaysOnSampler(),
    always_off: () => new sdk.AlwaysOffSampler(),
    traceidratio: () => ratio,
    parentbased_always_on: () => new sdk.ParentBasedSampler({ root: new sdk.AlwaysOnSampler() }),
    parentbased_always_off: () => new sdk.ParentBasedSampler({ root: new sdk.AlwaysOffSampler() }),
    parentbased_traceidratio: () => new sdk.ParentBasedSampler({ root: ratio }),
  }[config.sampler]();
  const exporter = reportFailures(
    new OTLPTraceExporter({ url: config.endpoint, headers: config.headers }),
    log,
    config.endpoint,
  );
  const provider = new sdk.BasicTracerProvider({
    resource: resourceFromAttributes({ ...config.resourceAttributes, 'service.name': config.serviceName }),
    sampler,
    spanProcessors: [new sdk.BatchSpanProcessor(exporter)],
  });
  // The endpoint only: export headers may hold credentials.
  log.info(
    { endpoint: config.endpoint, sampler: config.sampler, ratio: config.ratio, service: config.serviceName },
    'Exporting traces',
  );
  return {
    tracer: provider.getTracer('eventrunner'),
    shutdown: async () => {
      await Promise.race([
        provider.shutdown().catch((err: unknown) => log.warn({ err }, 'Exporting the last spans failed')),
        new Promise<void>((resolve) => setTimeout(resolve, 5000, undefined).unref()),
      ]);
    },
  };
}
