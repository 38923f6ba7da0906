// Validation of CloudEvents 1.0 context attributes (spec "Context Attributes" and the JSON event
// format). Validates in place and returns the same object: the processor calls this per message,
// so it walks the keys once and allocates nothing on the happy path.
import { EventError, EventErrorCode } from './errors.js';
import type { CloudEvent } from './types.js';

const ATTRIBUTE_NAME = /^[a-z0-9]+$/;
const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;
/** RFC 2045 token: what a media type's type, subtype and parameter names are made of. */
const TOKEN = "[!#$%&'*+\\-.^_`|~0-9A-Za-z]+";
/** RFC 2046 media type: type/subtype, then parameters (name=token or name="quoted string"). */
const MEDIA_TYPE = new RegExp(
  `^${TOKEN}/${TOKEN}(?:[ \\t]*;[ \\t]*${TOKEN}=(?:${TOKEN}|"(?:[^"\\\\]|\\\\.)*"))*[ \\t]*$`,
);
/** RFC 3986 absolute-URI (section 4.3): scheme ":" hier-part [ "?" query ], no fragment. */
const ABSOLUTE_URI = /^[A-Za-z][A-Za-z0-9+.-]*:(?:[A-Za-z0-9\-._~:/?[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

function invalid(attribute: string, message: string): EventError {
  return new EventError(EventErrorCode.InvalidAttribute, message, { attribute });
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * True for an RFC 3339 date-time that names a real instant: the day exists in its month (leap
 * years counted), hours 00-23, minutes 00-59, and second 60 only for a leap second, which falls at
 * 23:59:60 UTC (after the offset is applied).
 */
export function isRfc3339(value: string): boolean {
  const m = RFC3339.exec(value);
  if (m === null) return false;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = Number(m[6]);
  if (month < 1 || month > 12 || day < 1) return false;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (day > (month === 2 && leap ? 29 : MONTH_DAYS[month - 1]!)) return false;
  if (hour > 23 || minute > 59 || second > 60) return false;
  let offset = 0;
  if (m[7] !== undefined) {
    const oh = Number(m[8]);
    const om = Number(m[9]);
    if (oh > 23 || om > 59) return false;
    offset = (m[7] === '+' ? 1 : -1) * (oh * 60 + om);
  }
  if (second === 60) {
    const utcMinute = (((hour * 60 + minute - offset) % 1440) + 1440) % 1440;
    if (utcMinute !== 23 * 60 + 59) return false;
  }
  return true;
}

/** True for an RFC 2046 media type with optional parameters, e.g. `application/json; charset=utf-8`. */
export function isMediaType(value: string): boolean {
  return MEDIA_TYPE.test(value);
}

/** True for an RFC 3986 absolute URI (a scheme, no fragment), as CloudEvents' `URI` type requires. */
export function isAbsoluteUri(value: string): boolean {
  return ABSOLUTE_URI.test(value);
}

/** True when a media type says the data is JSON: application/json, text/json or any `+json`. */
export function isJsonMediaType(mediaType: string | undefined): boolean {
  if (mediaType === undefined) return true;
  let end = mediaType.indexOf(';');
  if (end < 0) end = mediaType.length;
  const t = mediaType.slice(0, end).trim().toLowerCase();
  return t === 'application/json' || t === 'text/json' || t.endsWith('+json');
}

function requiredString(event: Record<string, unknown>, name: string): void {
  const v = event[name];
  if (typeof v !== 'string' || v.length === 0) {
    throw invalid(
      name,
      v === undefined || v === null
        ? `required attribute "${name}" is missing`
        : `attribute "${name}" must be a non-empty string`,
    );
  }
}

function optionalString(event: Record<string, unknown>, name: string): void {
  const v = event[name];
  if (typeof v !== 'string' || v.length === 0) {
    throw invalid(name, `attribute "${name}" must be a non-empty string when present`);
  }
}

/**
 * Checks that `value` is a CloudEvents 1.0 event in JSON format and returns it typed. Attributes
 * set to null are removed (the JSON format treats null as absent).
 */
export function validateEvent(value: unknown): CloudEvent {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new EventError(EventErrorCode.Malformed, 'a CloudEvent must be a JSON object');
  }
  const event = value as Record<string, unknown>;
  const sv = event.specversion;
  if (sv !== '1.0') {
    if (sv === undefined || sv === null)
      throw invalid('specversion', 'required attribute "specversion" is missing');
    throw new EventError(
      EventErrorCode.UnsupportedVersion,
      `attribute "specversion" is ${JSON.stringify(sv)}; only CloudEvents 1.0 ("1.0") is supported`,
      { attribute: 'specversion' },
    );
  }
  requiredString(event, 'id');
  // The id travels as the Nats-Msg-Id header (deduplication), and a header value cannot hold a line break.
  if (/[\r\n]/.test(event.id as string)) {
    throw invalid(
      'id',
      'attribute "id" must not contain a line break (CR or LF): it is the deduplication header',
    );
  }
  requiredString(event, 'source');
  requiredString(event, 'type');
  let nulls: string[] | undefined;
  for (const name in event) {
    const v = event[name];
    switch (name) {
      case 'specversion':
      case 'id':
      case 'source':
      case 'type':
      case 'data':
        continue;
      default:
    }
    if (v === null) {
      (nulls ??= []).push(name);
      continue;
    }
    switch (name) {
      case 'subject':
        optionalString(event, name);
        break;
      case 'datacontenttype':
        optionalString(event, name);
        if (!isMediaType(v as string)) {
          throw invalid(
            name,
            `attribute "datacontenttype" must be an RFC 2046 media type such as application/json or text/plain; charset=utf-8, got ${JSON.stringify(v)}`,
          );
        }
        break;
      case 'dataschema':
        optionalString(event, name);
        if (!isAbsoluteUri(v as string)) {
          throw invalid(
            name,
            `attribute "dataschema" must be an absolute URI (RFC 3986: a scheme such as https: or urn:, no fragment), got ${JSON.stringify(v)}`,
          );
        }
        break;
      case 'time':
        if (typeof v !== 'string' || !isRfc3339(v)) {
          throw invalid(
            'time',
            `attribute "time" must be an RFC 3339 timestamp of a real instant (e.g. 2024-05-01T10:00:00Z), got ${JSON.stringify(v)}`,
          );
        }
        break;
      case 'data_base64':
        if (typeof v !== 'string' || v.length % 4 !== 0 || !BASE64.test(v)) {
          throw invalid('data_base64', 'attribute "data_base64" must be a base64 string');
        }
        if (event.data !== undefined) {
          throw invalid('data_base64', 'an event cannot have both "data" and "data_base64"');
        }
        break;
      default:
        if (!ATTRIBUTE_NAME.test(name)) {
          throw invalid(
            name,
            `attribute name ${JSON.stringify(name)} is not valid: CloudEvents attribute names are lower-case letters and digits`,
          );
        }
        if (typeof v === 'string' || typeof v === 'boolean') break;
        if (typeof v === 'number' && Number.isInteger(v) && v >= INT32_MIN && v <= INT32_MAX) break;
        throw invalid(
          name,
          `extension attribute "${name}" must be a string, boolean or 32-bit integer, got ${JSON.stringify(v)}`,
        );
    }
  }
  if (nulls) for (const n of nulls) delete event[n];
  return event as CloudEvent;
}
