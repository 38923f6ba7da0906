// A CloudEvent as an HTTP request, in the three content modes of the CloudEvents HTTP binding:
//   binary      attributes as ce-* headers, the datacontenttype as Content-Type, the body is the data
//   structured  the whole event as application/cloudevents+json
//   batch       several events as one application/cloudevents-batch+json array
// Pure functions, so the encoding is tested without a server.
import { isJsonMediaType } from '../events/index.js';
import type { SinkEvent } from './types.js';

export const STRUCTURED_TYPE = 'application/cloudevents+json; charset=utf-8';
export const BATCH_TYPE = 'application/cloudevents-batch+json; charset=utf-8';

/**
 * One event ready to send: its request headers as a flat [name, value, …] list (binary mode: the
 * ce-* headers and Content-Type; none for an element of a batch), and its body.
 */
export interface HttpRow {
  id: string;
  headers: string[] | undefined;
  body: Buffer;
}

// Attributes that are not headers in binary mode: the payload travels as the body.
const NOT_HEADERS = new Set(['data', 'data_base64', 'datacontenttype']);
// What the HTTP binding lets through unencoded: printable ASCII except space, '"' and '%'.
const NEEDS_ENCODING = /[^\x21\x23\x24\x26-\x7e]/;

/**
 * A header value as the CloudEvents HTTP binding writes it: space, '"', '%' and anything outside
 * printable ASCII percent-encoded (non-ASCII as its UTF-8 bytes).
 */
export function headerValue(value: string): string {
  if (!NEEDS_ENCODING.test(value)) return value;
  let out = '';
  for (const ch of value) {
    const c = ch.codePointAt(0)!;
    if (c >= 0x21 && c <= 0x7e && c !== 0x22 && c !== 0x25) out += ch;
    else if (c < 0x80) out += `%${c.toString(16).toUpperCase().padStart(2, '0')}`;
    else out += encodeURIComponent(ch);
  }
  return out;
}

/** The body of binary mode: the data as JSON, as text, or the decoded data_base64. */
function binaryBody(event: SinkEvent): Buffer {
  if (typeof event.data_base64 === 'string') return Buffer.from(event.data_base64, 'base64');
  if (event.data === undefined) return Buffer.alloc(0);
  const contentType = typeof event.datacontenttype === 'string' ? event.datacontenttype : undefined;
  if (typeof event.data === 'string' && !isJsonMediaType(contentType)) return Buffer.from(event.data, 'utf8');
  return Buffer.from(JSON.stringify(event.data), 'utf8');
}

/**
 * `headers` is appended to and becomes the row's: pass the request's other headers to have them
 * all in one list.
 */
export function binaryRow(event: SinkEvent, headers: string[] = []): HttpRow {
  for (const name in event) {
    if (NOT_HEADERS.has(name)) continue;
    const v = event[name];
    if (v === undefined || v === null || typeof v === 'object') continue;
    headers.push(`ce-${name}`, headerValue(String(v)));
  }
  const contentType =
    typeof event.datacontenttype === 'string'
      ? event.datacontenttype
      : event.data !== undefined || event.data_base64 !== undefined
        ? 'application/json'
        : undefined;
  if (contentType !== undefined) headers.push('content-type', contentType);
  return { id: event.id, headers, body: binaryBody(event) };
}

/** Structured mode, and one element of a batch: the event's JSON. */
export function structuredRow(event: SinkEvent): HttpRow {
  return { id: event.id, headers: undefined, body: Buffer.from(JSON.stringify(event), 'utf8') };
}

const OPEN = Buffer.from('[');
const COMMA = Buffer.from(',');
const CLOSE = Buffer.from(']');

/** The JSON array of a batch request from its events' structured bodies. */
export function batchBody(rows: readonly HttpRow[]): Buffer {
  const parts: Buffer[] = [OPEN];
  for (let i = 0; i < rows.length; i++) {
    if (i > 0) parts.push(COMMA);
    parts.push(rows[i]!.body);
  }
  parts.push(CLOSE);
  return Buffer.concat(parts);
}

/** A flat header list as an object with lower-cased names (for tests and logs). */
export function headerObject(headers: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < headers.length; i += 2) out[headers[i]!.toLowerCase()] = headers[i + 1]!;
  return out;
}
