// Binary content mode: attributes travel as `ce-<name>` headers (HTTP or NATS), the datacontenttype
// as Content-Type, and the body is the data. Bodies whose type is JSON (or unstated) become `data`,
// anything else `data_base64`, so the event can be re-encoded in structured mode losslessly.
import { isJsonMediaType, validateEvent } from './attributes.js';
import { EventError, EventErrorCode } from './errors.js';
import type { CloudEvent, HeaderReader } from './types.js';

const CE_PREFIX = 'ce-';
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The HTTP binding percent-encodes non-ASCII and a few reserved characters in header values. */
function percentDecode(v: string): string {
  if (!v.includes('%')) return v;
  try {
    return decodeURIComponent(v);
  } catch {
    return v;
  }
}

function dataFromBody(
  event: Record<string, unknown>,
  contentType: string | undefined,
  body: Uint8Array,
): void {
  if (body.length === 0) return;
  if (isJsonMediaType(contentType)) {
    let text: string | undefined;
    try {
      text = utf8.decode(body);
      event.data = JSON.parse(text);
      return;
    } catch (err) {
      if (contentType !== undefined) {
        throw new EventError(
          EventErrorCode.Malformed,
          `binary-mode data is not valid JSON although its content type is ${contentType}: ${
            err instanceof Error ? err.message : String(err)
          }`,
          { cause: err },
        );
      }
      // No content type stated and not JSON: keep the bytes.
    }
  }
  event.data_base64 = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('base64');
}

/** Builds and validates an event from binary-mode attributes (names without the `ce-` prefix). */
export function fromBinary(
  attributes: Record<string, string>,
  contentType: string | undefined,
  body: Uint8Array,
): CloudEvent {
  const event: Record<string, unknown> = attributes;
  if (contentType !== undefined && contentType !== '') event.datacontenttype = contentType;
  else contentType = undefined;
  dataFromBody(event, contentType, body);
  return validateEvent(event);
}

type HttpHeaders = Record<string, string | string[] | undefined>;

/** True when HTTP request headers (Node lower-cases names) carry a binary-mode event. */
export function isHttpBinary(headers: HttpHeaders): boolean {
  return headers['ce-specversion'] !== undefined;
}

/** A binary-mode event from an HTTP request's headers and body. */
export function fromHttpBinary(headers: HttpHeaders, body: Uint8Array): CloudEvent {
  const attributes: Record<string, string> = {};
  for (const name in headers) {
    if (!name.startsWith(CE_PREFIX)) continue;
    const raw = headers[name];
    if (raw === undefined) continue;
    const attr = name.slice(CE_PREFIX.length);
    if (attr === 'datacontenttype' || attr === 'data' || attr === 'data_base64') continue;
    attributes[attr] = percentDecode(Array.isArray(raw) ? raw.join(',') : raw);
  }
  const ct = headers['content-type'];
  return fromBinary(attributes, Array.isArray(ct) ? ct[0] : ct, body);
}

/**
 * The binary-mode attributes in NATS headers, or undefined when there is no `ce-specversion`.
 * Header names are matched case-insensitively: publishers differ in how they spell them.
 */
export function natsBinaryAttributes(headers: HeaderReader): Record<string, string> | undefined {
  let attributes: Record<string, string> | undefined;
  for (const key of headers.keys()) {
    const lower = key.toLowerCase();
    if (!lower.startsWith(CE_PREFIX)) continue;
    const attr = lower.slice(CE_PREFIX.length);
    if (attr === 'datacontenttype' || attr === 'data' || attr === 'data_base64') continue;
    (attributes ??= {})[attr] = headers.get(key);
  }
  return attributes !== undefined && attributes.specversion !== undefined ? attributes : undefined;
}
