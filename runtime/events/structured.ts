// Structured mode (application/cloudevents+json), batch mode (application/cloudevents-batch+json)
// and the JSON encoding of an event.
import { validateEvent } from './attributes.js';
import { EventError, EventErrorCode } from './errors.js';
import type { CloudEvent } from './types.js';

const decoder = new TextDecoder('utf-8', { fatal: true });

/** Decodes UTF-8 bytes and parses JSON; `what` names the input in the error. */
export function parseJsonBody(body: Uint8Array | string, what = 'body'): unknown {
  let text: string;
  try {
    text = typeof body === 'string' ? body : decoder.decode(body);
  } catch (err) {
    throw new EventError(EventErrorCode.Malformed, `${what} is not valid UTF-8`, { cause: err });
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new EventError(
      EventErrorCode.Malformed,
      `${what} is not valid JSON: ${err instanceof Error ? err.message : String(err)}`,
      { cause: err },
    );
  }
}

/** One structured-mode event. */
export function parseStructured(body: Uint8Array | string): CloudEvent {
  return validateEvent(parseJsonBody(body, 'structured-mode CloudEvent'));
}

/**
 * A batch: a JSON array of structured events. Each element is validated on its own, so one bad
 * event does not sink the others; the result holds the event or the reason per position.
 */
export function parseBatch(body: Uint8Array | string): Array<CloudEvent | EventError> {
  const value = parseJsonBody(body, 'CloudEvents batch');
  if (!Array.isArray(value)) {
    throw new EventError(EventErrorCode.Malformed, 'a CloudEvents batch must be a JSON array of events');
  }
  return batchItems(value);
}

export function batchItems(values: unknown[]): Array<CloudEvent | EventError> {
  return values.map((v) => {
    try {
      return validateEvent(v);
    } catch (err) {
      if (err instanceof EventError) return err;
      throw err;
    }
  });
}

/** The structured-mode JSON text of an event. */
export function encodeStructured(event: CloudEvent): string {
  return JSON.stringify(event);
}
