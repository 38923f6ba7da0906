// The headers every event is published with: Nats-Msg-Id, Content-Type, Nats-Expected-Stream and
// the trace context. nats-core's `headers().set()` looks every key up twice, canonicalises and
// validates it and the value, and `encode()` goes through a TextEncoder: for these few headers
// that cost about as much as encoding the event itself. Here the values are checked once and put
// straight into nats-core's own header map, and the block is encoded by nats-core's `toString()`
// (so the bytes are the same) into Node's buffer pool. A value nats-core would change (it trims
// surrounding whitespace) or refuse (CR, LF) takes the plain path, so that both paths publish the
// same message or fail the same way.
import { headers as natsHeaders, MsgHdrsImpl, type MsgHdrs } from '@nats-io/nats-core';
import { CONTENT_TYPE_HEADER, MSG_ID_HEADER, STRUCTURED_CONTENT_TYPE } from '../events/index.js';
import { TRACEPARENT, TRACESTATE, type TraceHeaders } from '../common/trace-context.js';

export const EXPECTED_STREAM_HEADER = 'Nats-Expected-Stream';

/** What nats-core's `validHeaderValue` would trim or refuse. */
const NOT_VERBATIM = /^\s|\s$|[\r\n]/;

class EncodedHeaders extends MsgHdrsImpl {
  override encode(): Uint8Array {
    return Buffer.from(this.toString(), 'utf8');
  }
}

/** The headers of an event's message, built the plain way (nats-core's `set()`). */
export function plainEventHeaders(msgId: string, stream: string, trace?: TraceHeaders): MsgHdrs {
  const h = natsHeaders();
  h.set(MSG_ID_HEADER, msgId);
  h.set(CONTENT_TYPE_HEADER, STRUCTURED_CONTENT_TYPE);
  // The server refuses the message unless this stream is the one that captures the subject.
  h.set(EXPECTED_STREAM_HEADER, stream);
  if (trace?.traceparent) {
    h.set(TRACEPARENT, trace.traceparent);
    if (trace.tracestate) h.set(TRACESTATE, trace.tracestate);
  }
  return h;
}

/** The same headers as `plainEventHeaders`, without its per-key work when the values allow. */
export function eventHeaders(msgId: string, stream: string, trace?: TraceHeaders): MsgHdrs {
  const traceparent = trace?.traceparent || undefined;
  const tracestate = traceparent !== undefined ? trace?.tracestate || undefined : undefined;
  if (
    NOT_VERBATIM.test(msgId) ||
    NOT_VERBATIM.test(stream) ||
    (traceparent !== undefined && NOT_VERBATIM.test(traceparent)) ||
    (tracestate !== undefined && NOT_VERBATIM.test(tracestate))
  )
    return plainEventHeaders(msgId, stream, trace);
  const h = new EncodedHeaders();
  const m = h.headers;
  m.set(MSG_ID_HEADER, [msgId]);
  m.set(CONTENT_TYPE_HEADER, [STRUCTURED_CONTENT_TYPE]);
  m.set(EXPECTED_STREAM_HEADER, [stream]);
  if (traceparent !== undefined) {
    m.set(TRACEPARENT, [traceparent]);
    if (tracestate !== undefined) m.set(TRACESTATE, [tracestate]);
  }
  return h;
}
