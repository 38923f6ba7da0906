// The schema set: the accepted JSON Schema per event-type pattern of one EventSource, each with its
// version and the id that accepted events carry in `dataschema`. The operator renders it as a JSON
// file into a ConfigMap the ingest pods mount and re-read; docs/schemas.md describes the format.
import { createHash } from 'node:crypto';
import { SCHEMA_TYPE_PATTERN } from '../../api/schema/eventsource.js';
import { canonicalJson } from './canonical.js';
import { isJsonSchema, type JsonSchema } from './json-schema.js';

const typePattern = new RegExp(SCHEMA_TYPE_PATTERN);

/** An exact type, a prefix ending in `.>` (every type below it), or `>` alone (every type). */
export function isTypePattern(p: string): boolean {
  return typePattern.test(p);
}

/**
 * Finds the entry for a type: the exact pattern first, then the longest matching prefix, then `>`.
 * Built once per schema set; a lookup is one Map read plus a walk over the (few) prefixes.
 */
export class TypeMatcher<T> {
  private readonly exact = new Map<string, T>();
  private readonly prefixes: { prefix: string; value: T }[] = [];

  constructor(entries: Iterable<[pattern: string, value: T]>) {
    for (const [pattern, value] of entries) {
      if (pattern === '>') this.prefixes.push({ prefix: '', value });
      else if (pattern.endsWith('.>')) this.prefixes.push({ prefix: pattern.slice(0, -1), value });
      else this.exact.set(pattern, value);
    }
    this.prefixes.sort((a, b) => b.prefix.length - a.prefix.length);
  }

  get size(): number {
    return this.exact.size + this.prefixes.length;
  }

  lookup(type: string): T | undefined {
    const hit = this.exact.get(type);
    if (hit !== undefined) return hit;
    for (const p of this.prefixes) {
      if (type.length > p.prefix.length && type.startsWith(p.prefix)) return p.value;
    }
    return undefined;
  }
}

/** One accepted schema. */
export interface SchemaSetEntry {
  /** Exact type, `prefix.>` or `>`. */
  type: string;
  /** 1 for the first accepted schema of this pattern, +1 for each accepted change. */
  version: number;
  /** What ingest sets as `dataschema` on events this schema accepted (see schemaId). */
  id: string;
  /** `sha256:<hex>` of the schema's canonical JSON. */
  digest: string;
  schema: JsonSchema;
}

export interface SchemaSet {
  entries: SchemaSetEntry[];
}

/**
 * The `dataschema` of an accepted event: `urn:eventrunner:schema:<namespace>:<eventsource>:<pattern>:v<version>`,
 * each part percent-encoded, so a consumer can tell which accepted version checked the data.
 */
export function schemaId(namespace: string, eventSource: string, pattern: string, version: number): string {
  const enc = (s: string) =>
    encodeURIComponent(s).replace(/[!'()*]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`);
  return `urn:eventrunner:schema:${enc(namespace)}:${enc(eventSource)}:${enc(pattern)}:v${version}`;
}

export function schemaDigest(schema: JsonSchema): string {
  return `sha256:${createHash('sha256').update(canonicalJson(schema)).digest('hex')}`;
}

/** Reads a schema-set file's text; throws Error naming what is wrong. */
export function parseSchemaSet(text: string): SchemaSet {
  const doc = JSON.parse(text) as unknown;
  const entries = (doc as { entries?: unknown } | null)?.entries;
  if (!Array.isArray(entries)) throw new Error('a schema set is an object with an "entries" array');
  const seen = new Set<string>();
  return {
    entries: entries.map((e: unknown, i) => {
      const x = e as Partial<SchemaSetEntry> | null;
      const where = `entries[${i}]`;
      if (typeof x?.type !== 'string' || !isTypePattern(x.type))
        throw new Error(`${where}.type must be an event type, a prefix ending in .> or >`);
      if (seen.has(x.type)) throw new Error(`${where}.type ${x.type} appears twice`);
      seen.add(x.type);
      if (typeof x.version !== 'number' || !Number.isInteger(x.version) || x.version < 1)
        throw new Error(`${where}.version must be a positive integer`);
      if (typeof x.id !== 'string' || x.id === '') throw new Error(`${where}.id must be a non-empty string`);
      if (!isJsonSchema(x.schema)) throw new Error(`${where}.schema must be a JSON Schema`);
      return {
        type: x.type,
        version: x.version,
        id: x.id,
        digest: typeof x.digest === 'string' ? x.digest : schemaDigest(x.schema),
        schema: x.schema,
      };
    }),
  };
}

/** The schema-set file's text: stable (canonical) so that equal sets render equal files. */
export function renderSchemaSet(set: SchemaSet): string {
  const entries = [...set.entries].sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : 0));
  return `${canonicalJson({ entries })}\n`;
}
