// JSON Schema (draft 2020-12) per event type or type prefix, checked against the event's `data`
// (the payload a producer controls; the envelope is already checked by the codec). Each schema
// version is compiled once; a registry is immutable, and a new schema set builds a new registry
// that reuses the compiled versions it shares with the old one.
import type { ValidateFunction } from 'ajv';
import { ConfigError } from '../common/errors.js';
import { EventError, EventErrorCode, type CloudEvent } from '../events/index.js';
import { newSchemaAjv, schemaProblem, violationOf, type Violation } from '../schemas/compile.js';
import type { JsonSchema } from '../schemas/json-schema.js';
import { schemaDigest, TypeMatcher } from '../schemas/schema-set.js';

export interface RegistryEntry {
  /** Exact type, `prefix.>` or `>`. */
  type: string;
  schema: JsonSchema;
  /** Set as `dataschema` on events this schema accepted; entries from the static config have none. */
  id?: string;
  version?: number;
}

export interface CompiledEntry {
  type: string;
  id: string | undefined;
  version: number | undefined;
  digest: string;
  schema: JsonSchema;
  validate: ValidateFunction;
}

/** Why `data` was refused: the EventError ingest answers 400 with, plus where and which keyword. */
export class SchemaViolationError extends EventError {
  constructor(
    message: string,
    readonly violation: Violation & { type: string; dataschema?: string },
  ) {
    super(EventErrorCode.SchemaViolation, message, { attribute: 'data' });
    this.name = 'SchemaViolationError';
  }
}

export function isSchemaViolation(err: unknown): err is SchemaViolationError {
  return err instanceof SchemaViolationError;
}

/** Static config entries (`schemas:` of the ingest config) as registry entries. */
export function staticEntries(schemas: Record<string, JsonSchema>): RegistryEntry[] {
  return Object.entries(schemas).map(([type, schema]) => ({ type, schema }));
}

export class SchemaRegistry {
  private readonly matcher: TypeMatcher<CompiledEntry>;
  readonly entries: readonly CompiledEntry[];
  /** Compiled validators by digest, shared with the registries built from this one. */
  private readonly compiled: Map<string, ValidateFunction>;

  /** Throws ConfigError naming the entry whose schema is not valid. */
  constructor(entries: readonly RegistryEntry[], previous?: SchemaRegistry) {
    const ajv = newSchemaAjv();
    this.compiled = new Map();
    const list: CompiledEntry[] = [];
    for (const e of entries) {
      const digest = schemaDigest(e.schema);
      let validate = previous?.compiled.get(digest) ?? this.compiled.get(digest);
      if (validate === undefined) {
        const problem = schemaProblem(e.schema);
        if (problem) throw new ConfigError(`schemas[${JSON.stringify(e.type)}]: ${problem}`);
        validate = ajv.compile(e.schema);
      }
      this.compiled.set(digest, validate);
      list.push({ type: e.type, id: e.id, version: e.version, digest, schema: e.schema, validate });
    }
    this.entries = list;
    this.matcher = new TypeMatcher(list.map((e) => [e.type, e]));
  }

  get size(): number {
    return this.entries.length;
  }

  /** The entry that applies to an event type, if any. */
  lookup(type: string): CompiledEntry | undefined {
    return this.matcher.lookup(type);
  }

  /**
   * Throws SchemaViolationError (400) when the event's type has a schema its data does not
   * satisfy; on success sets `dataschema` to the accepted version's id (when it has one).
   */
  check(event: CloudEvent): void {
    const entry = this.matcher.lookup(event.type);
    if (entry === undefined) return;
    const violation = (v: Violation): SchemaViolationError =>
      new SchemaViolationError(
        `event ${JSON.stringify(event.id)} does not match the schema for type ${event.type}: ${v.message}`,
        { ...v, type: event.type, ...(entry.id !== undefined ? { dataschema: entry.id } : {}) },
      );
    if (event.data_base64 !== undefined) {
      throw new SchemaViolationError(
        `events of type ${event.type} must carry JSON data (a JSON Schema applies), but this one has data_base64`,
        { pointer: '', keyword: 'type', message: 'data is not JSON', type: event.type },
      );
    }
    let ok: boolean;
    try {
      ok = entry.validate(event.data) as boolean;
    } catch (err) {
      // ajv's generated code throws on a few odd keyword combinations: refuse rather than fail.
      throw violation({
        pointer: '',
        keyword: 'schema',
        message: `data could not be checked: ${(err as Error).message}`,
      });
    }
    if (!ok) throw violation(violationOf(entry.validate.errors));
    if (entry.id !== undefined) event.dataschema = entry.id;
  }
}
