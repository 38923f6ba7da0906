// The ingest configuration: read once at start-up from the file the operator mounts, validated
// with ajv against config-schema.ts (defaults filled in), then checked across fields.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '../common/errors.js';
import { compilePointer, subjectTypeProblem, type ConversionSettings } from '../events/index.js';
import { ingestConfigSchema } from './config-schema.js';

export interface ListenerConfig {
  enabled: boolean;
  host: string;
  port: number;
}

export interface IngestConfig {
  nats: { url: string; credentialsFile?: string; name: string };
  stream: { name: string; subjectPrefix: string };
  http: ListenerConfig;
  grpc: ListenerConfig;
  ops: { host: string; port: number };
  auth: { enabled: boolean; tokensFile?: string; reloadIntervalMs: number };
  limits: { maxBodyBytes: number; maxBatchEvents: number; ratePerSecond: number; burst: number };
  conversion: ConversionSettings;
  /** Event type → JSON Schema, files already read. */
  schemas: Record<string, object | boolean>;
  publish: { maxInFlight: number; timeoutMs: number; maxQueued: number };
  drain: { timeoutMs: number };
  logLevel: string;
}

const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false, verbose: true });
const validateShape = ajv.compile(ingestConfigSchema);

const UNITS: Record<string, number> = {
  '': 1,
  k: 1e3,
  K: 1e3,
  M: 1e6,
  G: 1e9,
  Ki: 1024,
  Mi: 1024 ** 2,
  Gi: 1024 ** 3,
};

/** 1Mi → 1048576; integers pass through. */
export function parseSize(v: number | string): number {
  if (typeof v === 'number') return v;
  const m = /^([0-9]+(?:\.[0-9]+)?)(Ki|Mi|Gi|k|K|M|G)?$/.exec(v);
  if (!m) throw new Error(`${JSON.stringify(v)} is not a size`);
  return Math.floor(Number(m[1]) * (UNITS[m[2] ?? ''] ?? 1));
}

function formatAjvErrors(errors: ErrorObject[]): string[] {
  return errors
    .filter((e) => e.keyword !== 'oneOf' || errors.length === 1)
    .map((e) => {
      const at = e.instancePath || '(top level)';
      if (e.keyword === 'additionalProperties') {
        return `${at}: unknown field ${JSON.stringify(e.params.additionalProperty)}`;
      }
      if (e.keyword === 'enum')
        return `${at}: ${e.message} (${(e.params.allowedValues as unknown[]).join(', ')})`;
      return `${at}: ${e.message ?? 'is invalid'}`;
    });
}

function readStructured(path: string): unknown {
  const text = readFileSync(path, 'utf8');
  return parseYaml(text);
}

/** Validates a parsed config object; `source` names the file in errors, `baseDir` resolves paths. */
export function parseIngestConfig(input: unknown, opts: { source: string; baseDir: string }): IngestConfig {
  const raw = structuredClone(input) as Record<string, unknown>;
  if (!validateShape(raw)) {
    const lines = formatAjvErrors(validateShape.errors ?? []);
    throw new ConfigError(`${opts.source}: invalid ingest config:\n  ${lines.join('\n  ')}`);
  }
  const c = raw as unknown as Omit<IngestConfig, 'limits' | 'schemas'> & {
    limits: { maxBodyBytes: number | string; maxBatchEvents: number; ratePerSecond: number; burst?: number };
    schemas: Record<string, object | boolean | string>;
  };
  const problems: string[] = [];
  const fail = (field: string, msg: string) => problems.push(`${field}: ${msg}`);

  const prefixProblem = subjectTypeProblem(c.stream.subjectPrefix);
  if (prefixProblem) fail('/stream/subjectPrefix', `cannot be a NATS subject prefix: ${prefixProblem}`);
  const typeProblem = subjectTypeProblem(c.conversion.defaultType);
  if (typeProblem) fail('/conversion/defaultType', `cannot be used in a NATS subject: ${typeProblem}`);
  if (!c.http.enabled && !c.grpc.enabled)
    fail('/http/enabled', 'at least one of http and grpc must be enabled');
  const ports = [
    ['http', c.http.enabled ? c.http.port : 0],
    ['grpc', c.grpc.enabled ? c.grpc.port : 0],
    ['ops', c.ops.port],
  ] as const;
  for (let i = 0; i < ports.length; i++) {
    for (let j = i + 1; j < ports.length; j++) {
      const [a, pa] = ports[i]!;
      const [b, pb] = ports[j]!;
      if (pa !== 0 && pa === pb) fail(`/${b}/port`, `must differ from ${a}.port (${pa})`);
    }
  }
  if (c.auth.enabled && !c.auth.tokensFile) {
    fail('/auth/tokensFile', 'is required while auth is enabled (set auth.enabled: false to accept anyone)');
  }
  const maxBodyBytes = parseSize(c.limits.maxBodyBytes);
  const burst = c.limits.burst ?? Math.max(c.limits.maxBatchEvents, Math.ceil(c.limits.ratePerSecond));
  if (c.limits.ratePerSecond > 0 && burst < c.limits.maxBatchEvents) {
    fail(
      '/limits/burst',
      `must be at least limits.maxBatchEvents (${c.limits.maxBatchEvents}), or no full batch could pass`,
    );
  }
  const schemas: Record<string, object | boolean> = {};
  for (const [type, s] of Object.entries(c.schemas)) {
    const field = `/schemas/${type.replace(/~/g, '~0').replace(/\//g, '~1')}`;
    const tp = subjectTypeProblem(type);
    if (tp) fail(field, `the event type cannot be used in a NATS subject: ${tp}`);
    if (typeof s === 'string') {
      const path = resolve(opts.baseDir, s);
      try {
        const loaded = readStructured(path);
        if (typeof loaded !== 'object' && typeof loaded !== 'boolean')
          throw new Error('not a JSON Schema object');
        schemas[type] = loaded as object | boolean;
      } catch (err) {
        fail(field, `cannot read schema file ${path}: ${err instanceof Error ? err.message : String(err)}`);
      }
    } else {
      schemas[type] = s;
    }
  }
  for (const key of ['typeFrom', 'sourceFrom', 'idFrom', 'subjectFrom', 'timeFrom'] as const) {
    const p = c.conversion[key];
    if (p === undefined) continue;
    try {
      compilePointer(p);
    } catch (err) {
      fail(`/conversion/${key}`, (err as Error).message);
    }
  }
  if (problems.length) {
    throw new ConfigError(`${opts.source}: invalid ingest config:\n  ${problems.join('\n  ')}`);
  }
  const resolvePath = (p: string | undefined) => (p === undefined ? undefined : resolve(opts.baseDir, p));
  return {
    ...c,
    nats: { ...c.nats, credentialsFile: resolvePath(c.nats.credentialsFile) },
    auth: { ...c.auth, tokensFile: resolvePath(c.auth.tokensFile) },
    limits: { ...c.limits, maxBodyBytes, burst },
    schemas,
  };
}

/** Reads and validates a YAML or JSON config file. */
export function loadIngestConfig(path: string): IngestConfig {
  let parsed: unknown;
  try {
    parsed = readStructured(path);
  } catch (err) {
    throw new ConfigError(
      `${path}: cannot read ingest config: ${err instanceof Error ? err.message : String(err)}`,
      {
        cause: err,
      },
    );
  }
  return parseIngestConfig(parsed ?? {}, { source: path, baseDir: dirname(resolve(path)) });
}
