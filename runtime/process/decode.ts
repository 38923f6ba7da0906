// Message → CloudEvent with the shared codec. Raw JSON messages (published straight to the stream
// rather than through ingest) get their id and time from the conversion settings; when those do
// not name them, the codec would invent a fresh UUID and the arrival time on every delivery, which
// would write a redelivered event twice. Here they come from the message itself instead: its
// Nats-Msg-Id (or stream and sequence) and its stream timestamp, identical on every delivery.
import type { EventSourceConversion } from '../../api/generated/types.js';
import type { JsMsg } from '@nats-io/jetstream';
import {
  CONTENT_TYPE_HEADER,
  STRUCTURED_CONTENT_TYPE,
  converterFor,
  fromNatsMessage,
  looksStructured,
  natsBinaryAttributes,
  parseJsonBody,
  parseStructured,
  validateEvent,
  type CloudEvent,
} from '../events/index.js';
import { rawHeaderSearch, type RawHeaderSearch } from '../internals/nats-raw-headers.js';

// What ingest writes, as a line of the raw header block.
const STRUCTURED_LINE = Buffer.from(`\r\n${CONTENT_TYPE_HEADER}: ${STRUCTURED_CONTENT_TYPE}\r\n`);

/**
 * Whether the message's raw header block carries ingest's structured Content-Type line, read
 * without decoding the headers (runtime/internals/nats-raw-headers.ts). Undefined when the fast
 * path is off or the raw block is not where it was; the caller then decodes the headers.
 */
export function rawHeadersSayStructured(
  m: JsMsg,
  search: RawHeaderSearch = rawHeaderSearch(),
): boolean | undefined {
  return search(m, STRUCTURED_LINE);
}

function isCloudEventMessage(m: JsMsg): boolean {
  const h = m.headers;
  if (!h) return false;
  for (const k of h.keys()) {
    if (k.toLowerCase() === 'content-type' && h.get(k).toLowerCase().startsWith('application/cloudevents'))
      return true;
  }
  return natsBinaryAttributes(h) !== undefined;
}

/**
 * Throws the codec's EventError for a message that is no valid event. `search` reads the raw
 * header bytes (from `rawHeaderSearch(fastPaths)`; the default FastPaths when not given).
 */
export function decodeMessage(
  m: JsMsg,
  stream: string,
  conversion: EventSourceConversion,
  search: RawHeaderSearch = rawHeaderSearch(),
): CloudEvent {
  // What ingest publishes: found in the raw header bytes, or by one header lookup.
  const structured = search(m, STRUCTURED_LINE);
  if (structured ?? m.headers?.get(CONTENT_TYPE_HEADER) === STRUCTURED_CONTENT_TYPE)
    return parseStructured(m.data);
  if (isCloudEventMessage(m)) return fromNatsMessage(m.subject, m.headers, m.data, conversion);
  const value = parseJsonBody(m.data, 'message body');
  if (looksStructured(value)) return validateEvent(value);
  const event = converterFor(conversion).convert(value);
  if (!conversion.idFrom) event.id = m.headers?.get('Nats-Msg-Id') || `${stream}:${m.info.streamSequence}`;
  if (!conversion.timeFrom) event.time = new Date(m.info.timestampNanos / 1e6).toISOString();
  return event;
}
