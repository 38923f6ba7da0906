// The event schemas an EventSource manifest declares, read offline: inline ones as written,
// ConfigMap ones from ConfigMap manifests given alongside. Shared by `eventrunner validate` (every
// schema must be JSON Schema 2020-12 that compiles) and `eventrunner describe eventsource`.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { Path } from '../../api/crossfield.js';
import type { EventSource } from '../../api/generated/types.js';
import { parseManifests } from '../../api/manifests.js';
import { formatPath, validateResource } from '../../api/validate.js';
import { ConfigError } from '../../runtime/common/errors.js';
import { SchemaRegistry } from '../../runtime/ingest/schemas.js';
import { schemaProblem } from '../../runtime/schemas/compile.js';
import type { DescribedSchema } from '../../runtime/schemas/describe.js';
import { isJsonSchema } from '../../runtime/schemas/json-schema.js';
import { schemaDigest } from '../../runtime/schemas/schema-set.js';

/** ConfigMap manifests by name: their `data`. */
export type ConfigMapData = Map<string, Record<string, string>>;

/** Collects `v1` ConfigMaps from parsed documents (others are ignored). */
export function addConfigMaps(into: ConfigMapData, objects: readonly unknown[]): void {
  for (const o of objects) {
    const cm = o as { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown }; data?: unknown };
    if (cm?.apiVersion !== 'v1' || cm.kind !== 'ConfigMap' || typeof cm.metadata?.name !== 'string') continue;
    into.set(cm.metadata.name, (cm.data ?? {}) as Record<string, string>);
  }
}

export interface SchemaIssue {
  path: Path;
  message: string;
}

/**
 * The declared schemas, with the version and id status reports for a schema unchanged since (when
 * the manifest carries status, as `kubectl get -o yaml` prints it). A ConfigMap not among
 * `configMaps` is an issue only with `requireConfigMaps`; otherwise that entry is skipped.
 */
export function offlineSchemas(
  es: EventSource,
  configMaps: ConfigMapData,
  requireConfigMaps: boolean,
): { schemas: DescribedSchema[]; issues: SchemaIssue[] } {
  const schemas: DescribedSchema[] = [];
  const issues: SchemaIssue[] = [];
  (es.spec.schemas ?? []).forEach((entry, i) => {
    let schema: unknown = entry.schema;
    let path: Path = ['spec', 'schemas', i, 'schema'];
    const ref = entry.configMapKeyRef;
    if (ref) {
      path = ['spec', 'schemas', i, 'configMapKeyRef'];
      const data = configMaps.get(ref.name);
      if (data === undefined) {
        if (requireConfigMaps)
          issues.push({
            path,
            message: `ConfigMap ${ref.name} is not among the files: add its manifest with -f`,
          });
        return;
      }
      const text = data[ref.key];
      if (text === undefined) {
        issues.push({ path, message: `ConfigMap ${ref.name} has no key ${ref.key}` });
        return;
      }
      try {
        schema = parseYaml(text) as unknown;
      } catch (err) {
        issues.push({
          path,
          message: `key ${ref.key} of ConfigMap ${ref.name} is not JSON or YAML: ${(err as Error).message}`,
        });
        return;
      }
    }
    const problem = schemaProblem(schema);
    if (problem || !isJsonSchema(schema)) {
      issues.push({
        path,
        message: `${ref ? `key ${ref.key} of ConfigMap ${ref.name}: ` : ''}${problem ?? 'not a JSON Schema'}`,
      });
      return;
    }
    const accepted = es.status?.schemas?.find(
      (s) => s.type === entry.type && s.digest === schemaDigest(schema),
    );
    schemas.push({
      type: entry.type,
      schema,
      ...(accepted ? { id: accepted.id, version: accepted.version } : {}),
    });
  });
  return { schemas, issues };
}

const manifestFile = /\.(ya?ml|json)$/i;

/** The documents of files and directories (their *.yaml, *.yml, *.json), `-` for stdin. */
export function readManifestObjects(paths: readonly string[]): unknown[] {
  const objects: unknown[] = [];
  for (const path of paths) {
    const files =
      path !== '-' && statSync(path).isDirectory()
        ? readdirSync(path)
            .sort()
            .filter((f) => manifestFile.test(f))
            .map((f) => join(path, f))
        : [path];
    for (const file of files) {
      const parsed = parseManifests(readFileSync(file === '-' ? 0 : file, 'utf8'));
      const e = parsed.errors[0];
      if (e) throw new ConfigError(`${file}:${e.line}:${e.column}: YAML: ${e.message}`);
      objects.push(...parsed.documents.map((d) => d.object));
    }
  }
  return objects;
}

/**
 * The schemas of the one EventSource in `paths` (ConfigMaps read from the same files), compiled as
 * ingest compiles them. Throws ConfigError naming what is wrong.
 */
export function offlineRegistry(paths: readonly string[]): SchemaRegistry {
  const objects = readManifestObjects(paths);
  const configMaps: ConfigMapData = new Map();
  addConfigMaps(configMaps, objects);
  const sources = objects.filter((o) => (o as { kind?: unknown } | null)?.kind === 'EventSource');
  if (sources.length !== 1)
    throw new ConfigError(`${paths.join(', ')}: expected one EventSource, found ${sources.length}`);
  const { value, issues } = validateResource(sources[0]);
  const declared = offlineSchemas(value as EventSource, configMaps, true);
  const all = [...issues, ...declared.issues];
  if (all.length) {
    throw new ConfigError(
      `${paths.join(', ')}: ${all.map((i) => `${formatPath(i.path)}: ${i.message}`).join('; ')}`,
    );
  }
  return new SchemaRegistry(declared.schemas);
}
