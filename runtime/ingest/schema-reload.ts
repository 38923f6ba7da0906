// The schemas ingest checks events against right now: the static `schemas` of the config plus the
// schema-set file the operator renders, re-read when it changes (a ConfigMap volume is updated in
// place by the kubelet), so a new schema version takes effect without a restart. A file that
// cannot be read or holds an invalid schema is logged and the versions already loaded keep serving.
import { readFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { ConfigError } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
import type { JsonSchema } from '../schemas/json-schema.js';
import { parseSchemaSet, type SchemaSet } from '../schemas/schema-set.js';
import { SchemaRegistry, staticEntries, type RegistryEntry } from './schemas.js';

/** The registry every request reads; replaced as a whole, never changed in place. */
export class LiveSchemas {
  constructor(public current: SchemaRegistry) {}
}

function entriesOf(fixed: Record<string, JsonSchema>, set: SchemaSet | undefined): RegistryEntry[] {
  const fromSet: RegistryEntry[] = (set?.entries ?? []).map((e) => ({
    type: e.type,
    schema: e.schema,
    id: e.id,
    version: e.version,
  }));
  const named = new Set(fromSet.map((e) => e.type));
  return [...staticEntries(fixed).filter((e) => !named.has(e.type)), ...fromSet];
}

function readSet(path: string, text: string): SchemaSet {
  try {
    return parseSchemaSet(text);
  } catch (err) {
    throw new ConfigError(`schema set ${path}: ${(err as Error).message}`, { cause: err });
  }
}

export interface SchemaSetSource {
  file: string;
  reloadIntervalMs: number;
}

/**
 * Loads the schemas at start-up (throws ConfigError when the schema-set file is unreadable or
 * invalid) and, with a schema-set file, re-reads it every `reloadIntervalMs` until `signal` aborts.
 */
export function loadLiveSchemas(
  fixed: Record<string, JsonSchema>,
  source: SchemaSetSource | undefined,
  logger: Logger,
  signal: AbortSignal,
  onLoaded?: (registry: SchemaRegistry) => void,
): LiveSchemas {
  if (source === undefined) {
    const live = new LiveSchemas(new SchemaRegistry(entriesOf(fixed, undefined)));
    onLoaded?.(live.current);
    return live;
  }
  let text: string;
  try {
    text = readFileSync(source.file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read schema set ${source.file}: ${(err as Error).message}`, { cause: err });
  }
  const live = new LiveSchemas(new SchemaRegistry(entriesOf(fixed, readSet(source.file, text))));
  onLoaded?.(live.current);
  logger.info({ schemas: live.current.size }, 'Loaded schemas');
  let failing = false;
  let refused: string | undefined;
  const timer = setInterval(() => {
    void readFile(source.file, 'utf8').then(
      (next) => {
        if (next === text || next === refused) return;
        try {
          live.current = new SchemaRegistry(entriesOf(fixed, readSet(source.file, next)), live.current);
        } catch (err) {
          logger.error({ err }, 'Refused a new schema set; the loaded schemas keep serving');
          refused = next;
          return;
        }
        text = next;
        failing = false;
        onLoaded?.(live.current);
        logger.info(
          { schemas: live.current.entries.map((e) => `${e.type}@${e.version ?? 'config'}`) },
          'Reloaded schemas',
        );
      },
      (err: unknown) => {
        if (!failing) logger.warn({ err }, 'Cannot read the schema set; the loaded schemas keep serving');
        failing = true;
      },
    );
  }, source.reloadIntervalMs);
  timer.unref();
  signal.addEventListener('abort', () => clearInterval(timer), { once: true });
  return live;
}
