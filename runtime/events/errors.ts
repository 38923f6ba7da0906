// Why an event was refused. Ingest answers 400 with the message; the processor dead-letters the
// message with the code and message in its headers.

export const EventErrorCode = {
  /** The body is not valid JSON (or not the JSON shape the content type promises). */
  Malformed: 'EVENT_MALFORMED',
  /** A required attribute is missing or an attribute has the wrong type or format. */
  InvalidAttribute: 'EVENT_INVALID_ATTRIBUTE',
  /** The `type` cannot be used as NATS subject tokens. */
  InvalidType: 'EVENT_INVALID_TYPE',
  /** specversion other than 1.0. */
  UnsupportedVersion: 'EVENT_UNSUPPORTED_VERSION',
  /** Rejected by the JSON Schema configured for its type. */
  SchemaViolation: 'EVENT_SCHEMA_VIOLATION',
} as const;
export type EventErrorCode = (typeof EventErrorCode)[keyof typeof EventErrorCode];

export class EventError extends Error {
  readonly code: EventErrorCode;
  /** The attribute at fault, when one is. */
  readonly attribute: string | undefined;
  constructor(code: EventErrorCode, message: string, options?: { attribute?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'EventError';
    this.code = code;
    this.attribute = options?.attribute;
  }
}

export function isEventError(err: unknown): err is EventError {
  return err instanceof EventError;
}
