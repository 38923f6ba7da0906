// Optional JSON Schema per event type, checked against the event's `data` (the payload a producer
// controls; the envelope is already checked by the codec). Compiled once at start-up.
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { ConfigError } from '../common/errors.js';
import { EventError, EventErrorCode, type CloudEvent } from '../events/index.js';

// ajv-formats is CommonJS; under NodeNext its default export arrives wrapped.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ??
  addFormatsModule) as unknown as (ajv: Ajv) => Ajv;

export class SchemaRegistry {
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(schemas: Record<string, object | boolean>) {
    const ajv = new Ajv({ allErrors: false, strict: false });
    addFormats(ajv);
    for (const [type, schema] of Object.entries(schemas)) {
      try {
        this.validators.set(type, ajv.compile(schema));
      } catch (err) {
        throw new ConfigError(`schemas.${type}: not a valid JSON Schema: ${(err as Error).message}`, {
          cause: err,
        });
      }
    }
  }

  get size(): number {
    return this.validators.size;
  }

  /** Throws EventError (400) when the event's type has a schema its data does not satisfy. */
  check(event: CloudEvent): void {
    const validate = this.validators.get(event.type);
    if (validate === undefined) return;
    if (event.data_base64 !== undefined) {
      throw new EventError(
        EventErrorCode.SchemaViolation,
        `events of type ${event.type} must carry JSON data (a JSON Schema applies), but this one has data_base64`,
        { attribute: 'data' },
      );
    }
    if (validate(event.data)) return;
    const e = validate.errors?.[0];
    const where = `data${e?.instancePath ?? ''}`;
    let detail = e?.message ?? 'is invalid';
    if (e?.keyword === 'additionalProperties') detail += ` (${String(e.params.additionalProperty)})`;
    if (e?.keyword === 'enum')
      detail += ` (${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')})`;
    throw new EventError(
      EventErrorCode.SchemaViolation,
      `event ${JSON.stringify(event.id)} does not match the schema for type ${event.type}: ${where} ${detail}`,
      { attribute: 'data' },
    );
  }
}
