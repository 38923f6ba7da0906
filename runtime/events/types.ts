// The CloudEvent as eventrunner passes it around: the structured-mode JSON object itself
// (CloudEvents 1.0 JSON format). Plain objects, not SDK classes, because the processor handles
// every event on its hot path and rules read `event.data.…` straight from it.

/** A validated CloudEvents 1.0 event in its JSON-format shape. */
export interface CloudEvent {
  specversion: '1.0';
  id: string;
  source: string;
  type: string;
  subject?: string;
  time?: string;
  datacontenttype?: string;
  dataschema?: string;
  /** The payload when it is JSON (datacontenttype JSON or absent), or a string for textual types. */
  data?: unknown;
  /** The payload, base64-encoded, when it is not JSON. Never set together with `data`. */
  data_base64?: string;
  /** Extension attributes: lower-case alphanumeric names, string/integer/boolean values. */
  [extension: string]: unknown;
}

/** Where `source` points when neither the body nor the settings name one. */
export const FALLBACK_SOURCE = '/eventrunner/ingest';

/** Reads message headers; `@nats-io/nats-core` MsgHdrs satisfies it. */
export interface HeaderReader {
  keys(): string[];
  get(key: string): string;
}
