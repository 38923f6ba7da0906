// The ingest configuration: read once at start-up from the file the operator mounts, validated
// against its schema in api/schema/config/ingest.ts (defaults filled in), then checked across fields.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { IngestConfig as IngestConfigFile, IngestHttpListener } from '../../api/generated/types.js';
import { parseBytes } from '../../api/units.js';
import { validate as precompiled } from '../../api/generated/validators/ingest-config.js';
import { ingestConfig } from '../../api/schema/config/index.js';
import { validateConfig } from '../../api/validate-config.js';
import { formatPath } from '../../api/validation.js';
import { ConfigError } from '../common/errors.js';
import { compilePointer, subjectTypeProblem } from '../events/index.js';
import { isJsonSchema, type JsonSchema } from '../schemas/json-schema.js';
import { isTypePattern } from '../schemas/schema-set.js';

export type ListenerConfig = IngestHttpListener;

/** What ingest runs with: the config after defaults, sizes in bytes, schema files read, paths resolved. */
export interface IngestConfig extends Omit<IngestConfigFile, 'limits' | 'schemas'> {
  limits: { maxBodyBytes: number; maxBatchEvents: number; ratePerSecond: number; burst: number };
  /** Event type (or prefix) → JSON Schema, files already read. */
  schemas: Record<string, JsonSchema>;
}

/** 1Mi → 1048576; integers pass through. */
export const parseSize = parseBytes;

function readStructured(path: string): unknown {
  const text = readFileSync(path, 'utf8');
  return parseYaml(text);
}

/** Validates a parsed config object; `source` names the file in errors, `baseDir` resolves paths. */
export function parseIngestConfig(input: unknown, opts: { source: string; baseDir: string }): IngestConfig {
  const { value: c, issues } = validateConfig<IngestConfigFile>(ingestConfig, input, precompiled);
  if (issues.length) {
    const lines = issues.map((i) => `${formatPath(i.path) || '(top level)'}: ${i.message}`);
    throw new ConfigError(`${opts.source}: invalid ingest config:\n  ${lines.join('\n  ')}`);
  }
  const problems: string[] = [];
  const fail = (field: string, msg: string) => problems.push(`${field}: ${msg}`);

  const prefixProblem = subjectTypeProblem(c.stream.subjectPrefix);
  if (prefixProblem) fail('stream.subjectPrefix', `cannot be a NATS subject prefix: ${prefixProblem}`);
  const typeProblem = subjectTypeProblem(c.conversion.defaultType);
  if (typeProblem) fail('conversion.defaultType', `cannot be used in a NATS subject: ${typeProblem}`);
  if (!c.http.enabled && !c.grpc.enabled)
    fail('http.enabled', 'at least one of http and grpc must be enabled');
  const ports = [
    ['http', c.http.enabled ? c.http.port : 0],
    ['grpc', c.grpc.enabled ? c.grpc.port : 0],
    ['ops', c.ops.port],
  ] as const;
  for (let i = 0; i < ports.length; i++) {
    for (let j = i + 1; j < ports.length; j++) {
      const [a, pa] = ports[i]!;
      const [b, pb] = ports[j]!;
      if (pa !== 0 && pa === pb) fail(`${b}.port`, `must differ from ${a}.port (${pa})`);
    }
  }
  if (c.auth.enabled && !c.auth.tokensFile) {
    fail('auth.tokensFile', 'is required while auth is enabled (set auth.enabled: false to accept anyone)');
  }
  const maxBodyBytes = parseBytes(c.limits.maxBodyBytes);
  const burst = c.limits.burst ?? Math.max(c.limits.maxBatchEvents, Math.ceil(c.limits.ratePerSecond));
  if (c.limits.ratePerSecond > 0 && burst < c.limits.maxBatchEvents) {
    fail(
      'limits.burst',
      `must be at least limits.maxBatchEvents (${c.limits.maxBatchEvents}), or no full batch could pass`,
    );
  }
  const schemas: Record<string, JsonSchema> = {};
  for (const [type, s] of Object.entries(c.schemas as Record<string, object | boolean | string>)) {
    const field = `schemas[${JSON.stringify(type)}]`;
    if (!isTypePattern(type)) {
      fail(field, 'must be an event type usable as NATS subject tokens, a prefix ending in .>, or >');
    }
    if (typeof s === 'string') {
      const path = resolve(opts.baseDir, s);
      try {
        const loaded = readStructured(path);
        if (!isJsonSchema(loaded)) throw new Error('not a JSON Schema object');
        schemas[type] = loaded;
      } catch (err) {
        fail(field, `cannot read schema file ${path}: ${err instanceof Error ? err.message : String(err)}`);
      }
    } else {
      schemas[type] = s as JsonSchema;
    }
  }
  for (const key of ['typeFrom', 'sourceFrom', 'idFrom', 'subjectFrom', 'timeFrom'] as const) {
    const p = c.conversion[key];
    if (p === undefined) continue;
    try {
      compilePointer(p);
    } catch (err) {
      fail(`conversion.${key}`, (err as Error).message);
    }
  }
  if (problems.length) {
    throw new ConfigError(`${opts.source}: invalid ingest config:\n  ${problems.join('\n  ')}`);
  }
  const resolvePath = (p: string | undefined) => (p === undefined ? undefined : resolve(opts.baseDir, p));
  return {
    ...c,
    nats: {
      ...c.nats,
      name: c.nats.name ?? 'eventrunner-ingest',
      credentialsFile: resolvePath(c.nats.credentialsFile),
      nkeySeedFile: resolvePath(c.nats.nkeySeedFile),
      tokenFile: resolvePath(c.nats.tokenFile),
      userFile: resolvePath(c.nats.userFile),
      passwordFile: resolvePath(c.nats.passwordFile),
      caFile: resolvePath(c.nats.caFile),
    },
    auth: { ...c.auth, tokensFile: resolvePath(c.auth.tokensFile) },
    ...(c.schemaSet ? { schemaSet: { ...c.schemaSet, file: resolve(opts.baseDir, c.schemaSet.file) } } : {}),
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
