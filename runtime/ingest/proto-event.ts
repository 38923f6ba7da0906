// io.cloudevents.v1.CloudEvent (protobuf format) ↔ the CloudEvent JSON shape. Binary data whose
// content type is JSON becomes `data`, other binary data `data_base64`; ce_bytes extensions become
// base64 strings and ce_timestamp RFC 3339 strings, as the JSON format represents them.
import {
  EventError,
  EventErrorCode,
  isJsonMediaType,
  validateEvent,
  type CloudEvent,
} from '../events/index.js';

interface Timestamp {
  seconds?: string | number;
  nanos?: number;
}

export interface ProtoAttributeValue {
  attr?: string;
  ce_boolean?: boolean;
  ce_integer?: number;
  ce_string?: string;
  ce_bytes?: Buffer | Uint8Array;
  ce_uri?: string;
  ce_uri_ref?: string;
  ce_timestamp?: Timestamp;
}

export interface ProtoCloudEvent {
  id?: string;
  source?: string;
  spec_version?: string;
  type?: string;
  attributes?: Record<string, ProtoAttributeValue>;
  data?: string;
  binary_data?: Buffer | Uint8Array;
  text_data?: string;
  proto_data?: { type_url?: string; value?: Buffer };
}

function timestampToRfc3339(ts: Timestamp): string {
  const seconds = Number(ts.seconds ?? 0);
  const nanos = ts.nanos ?? 0;
  const base = new Date(seconds * 1000).toISOString().slice(0, 19);
  if (nanos === 0) return `${base}Z`;
  return `${base}.${String(nanos).padStart(9, '0').replace(/0+$/, '')}Z`;
}

function attributeValue(name: string, v: ProtoAttributeValue): unknown {
  switch (v.attr) {
    case 'ce_boolean':
      return v.ce_boolean ?? false;
    case 'ce_integer':
      return v.ce_integer ?? 0;
    case 'ce_string':
      return v.ce_string ?? '';
    case 'ce_uri':
      return v.ce_uri ?? '';
    case 'ce_uri_ref':
      return v.ce_uri_ref ?? '';
    case 'ce_bytes':
      return Buffer.from(v.ce_bytes ?? []).toString('base64');
    case 'ce_timestamp':
      return timestampToRfc3339(v.ce_timestamp ?? {});
    default:
      throw new EventError(EventErrorCode.InvalidAttribute, `attribute "${name}" has no value`, {
        attribute: name,
      });
  }
}

const textDecoder = new TextDecoder('utf-8', { fatal: true });

export function fromProtoEvent(p: ProtoCloudEvent): CloudEvent {
  // Built by assignment, absent fields left out: deleting keys would turn the object into a
  // dictionary, slower for everything after (checks, JSON encoding) on this per-event path.
  const event: Record<string, unknown> = {};
  if (p.spec_version) event.specversion = p.spec_version;
  if (p.id) event.id = p.id;
  if (p.source) event.source = p.source;
  if (p.type) event.type = p.type;
  const attributes = p.attributes;
  if (attributes) {
    for (const name in attributes) {
      const v = attributes[name]!;
      if (
        name === 'specversion' ||
        name === 'id' ||
        name === 'source' ||
        name === 'type' ||
        name === 'data'
      ) {
        throw new EventError(
          EventErrorCode.InvalidAttribute,
          `attribute "${name}" must be sent in its own field, not in attributes`,
          { attribute: name },
        );
      }
      event[name] = attributeValue(name, v);
    }
  }
  const ct = typeof event.datacontenttype === 'string' ? event.datacontenttype : undefined;
  if (p.data === 'text_data' && p.text_data !== undefined) {
    if (isJsonMediaType(ct)) {
      try {
        event.data = JSON.parse(p.text_data);
      } catch (err) {
        if (ct !== undefined) {
          throw new EventError(
            EventErrorCode.Malformed,
            `text_data is not valid JSON although datacontenttype is ${ct}`,
            {
              cause: err,
            },
          );
        }
        event.data = p.text_data;
      }
    } else {
      event.data_base64 = Buffer.from(p.text_data, 'utf8').toString('base64');
    }
  } else if (p.data === 'binary_data' && p.binary_data !== undefined) {
    const bytes = Buffer.from(p.binary_data.buffer, p.binary_data.byteOffset, p.binary_data.byteLength);
    if (ct !== undefined && isJsonMediaType(ct)) {
      try {
        event.data = JSON.parse(textDecoder.decode(bytes));
      } catch (err) {
        throw new EventError(
          EventErrorCode.Malformed,
          `binary_data is not valid JSON although datacontenttype is ${ct}`,
          {
            cause: err,
          },
        );
      }
    } else {
      event.data_base64 = bytes.toString('base64');
    }
  } else if (p.data === 'proto_data') {
    throw new EventError(
      EventErrorCode.Malformed,
      'proto_data (google.protobuf.Any) is not supported: send the serialized message as binary_data with datacontenttype application/protobuf and dataschema naming its type',
      { attribute: 'data' },
    );
  }
  return validateEvent(event);
}

/** The protobuf form of an event, for clients (tests, the benchmark's load generator). */
export function toProtoEvent(e: CloudEvent): ProtoCloudEvent {
  const attributes: Record<string, ProtoAttributeValue> = {};
  for (const [k, v] of Object.entries(e)) {
    if (
      k === 'specversion' ||
      k === 'id' ||
      k === 'source' ||
      k === 'type' ||
      k === 'data' ||
      k === 'data_base64'
    )
      continue;
    if (typeof v === 'boolean') attributes[k] = { ce_boolean: v };
    else if (typeof v === 'number') attributes[k] = { ce_integer: v };
    else attributes[k] = { ce_string: String(v) };
  }
  const p: ProtoCloudEvent = {
    id: e.id,
    source: e.source,
    spec_version: e.specversion,
    type: e.type,
    attributes,
  };
  if (e.data_base64 !== undefined) p.binary_data = Buffer.from(e.data_base64, 'base64');
  else if (e.data !== undefined) {
    if (e.datacontenttype === undefined || isJsonMediaType(e.datacontenttype))
      p.text_data = JSON.stringify(e.data);
    else p.text_data = String(e.data);
  }
  return p;
}
