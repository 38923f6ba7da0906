// The JetStream wire format, the contract between ingest, the processor and the operator:
//   subject  <subjectPrefix>.<type>
//   headers  Nats-Msg-Id: <id> (JetStream dedup), Content-Type: application/cloudevents+json; charset=utf-8
//   body     the structured-mode CloudEvent JSON
// The processor also accepts what other publishers send on the stream: binary mode (ce-* headers,
// body = data) and raw JSON (converted with the EventSource's conversion settings).
import type { EventSourceConversion } from '../../api/generated/types.js';
import { validateEvent } from './attributes.js';
import { fromBinary, natsBinaryAttributes } from './binary.js';
import { converterFor, looksStructured } from './convert.js';
import { EventError, EventErrorCode } from './errors.js';
import { parseJsonBody, parseStructured } from './structured.js';
import { subjectFor } from './subject.js';
import type { CloudEvent, HeaderReader } from './types.js';

export const STRUCTURED_CONTENT_TYPE = 'application/cloudevents+json; charset=utf-8';
export const MSG_ID_HEADER = 'Nats-Msg-Id';
export const CONTENT_TYPE_HEADER = 'Content-Type';

export interface NatsMessage {
  subject: string;
  /** The CloudEvent id, sent as Nats-Msg-Id. */
  msgId: string;
  headers: { [MSG_ID_HEADER]: string; [CONTENT_TYPE_HEADER]: string };
  body: Uint8Array;
}

/** The message to publish for an event (subject, headers, structured-mode body). */
export function toNatsMessage(event: CloudEvent, subjectPrefix: string): NatsMessage {
  return {
    subject: subjectFor(subjectPrefix, event.type),
    msgId: event.id,
    headers: { [MSG_ID_HEADER]: event.id, [CONTENT_TYPE_HEADER]: STRUCTURED_CONTENT_TYPE },
    // Buffer.from draws small strings from Node's shared pool: half the cost of TextEncoder here.
    body: Buffer.from(JSON.stringify(event), 'utf8'),
  };
}

function contentTypeOf(headers: HeaderReader): string | undefined {
  const exact = headers.get(CONTENT_TYPE_HEADER);
  if (exact !== '') return exact;
  for (const key of headers.keys()) {
    if (key.length === 12 && key.toLowerCase() === 'content-type') {
      const v = headers.get(key);
      return v === '' ? undefined : v;
    }
  }
  return undefined;
}

function mediaTypeIs(contentType: string, mediaType: string): boolean {
  return (
    contentType.length >= mediaType.length &&
    contentType.slice(0, mediaType.length).toLowerCase() === mediaType &&
    (contentType.length === mediaType.length ||
      contentType[mediaType.length] === ';' ||
      contentType[mediaType.length] === ' ')
  );
}

/**
 * Decodes a message from an EventSource's stream into a CloudEvent, whichever way it was
 * published. Throws EventError for a message that is no valid event (the processor dead-letters it).
 */
export function fromNatsMessage(
  _subject: string,
  headers: HeaderReader | undefined,
  body: Uint8Array,
  conversion: EventSourceConversion,
): CloudEvent {
  if (headers !== undefined) {
    const ct = contentTypeOf(headers);
    if (ct !== undefined && mediaTypeIs(ct, 'application/cloudevents+json')) return parseStructured(body);
    if (ct !== undefined && mediaTypeIs(ct, 'application/cloudevents-batch+json')) {
      throw new EventError(
        EventErrorCode.Malformed,
        'a stream message holds one event; batches must be split before publishing',
      );
    }
    const attributes = natsBinaryAttributes(headers);
    if (attributes !== undefined) return fromBinary(attributes, ct, body);
  }
  const value = parseJsonBody(body, 'message body');
  if (looksStructured(value)) return validateEvent(value);
  return converterFor(conversion).convert(value);
}
