// What an HTTP ingest request carries: its mode (from Content-Type and ce-* headers) and its
// events, parsed per mode: CloudEvents structured, batch or binary, or raw JSON converted per the
// EventSource's conversion settings (a top-level array is a batch of raw events).
import type { IncomingMessage } from 'node:http';
import {
  EventError,
  fromHttpBinary,
  isHttpBinary,
  looksStructured,
  parseBatch,
  parseJsonBody,
  parseStructured,
  validateEvent,
  type Converter,
} from '../events/index.js';
import type { Parsed } from './ingestor.js';
import { IngestRejection, Reason } from './outcome.js';

export type Mode = 'structured' | 'batch' | 'binary' | 'raw' | 'raw-batch';

function mediaType(req: IncomingMessage): string {
  const ct = req.headers['content-type'];
  if (ct === undefined) return '';
  const semi = ct.indexOf(';');
  return (semi < 0 ? ct : ct.slice(0, semi)).trim().toLowerCase();
}

export function modeOf(req: IncomingMessage): Mode | undefined {
  const mt = mediaType(req);
  if (mt === 'application/cloudevents+json') return 'structured';
  if (mt === 'application/cloudevents-batch+json') return 'batch';
  if (isHttpBinary(req.headers)) return 'binary';
  if (mt === '' || mt === 'application/json' || mt === 'text/json' || mt.endsWith('+json')) return 'raw';
  return undefined;
}

function parseOrError<T>(fn: () => T): T | EventError {
  try {
    return fn();
  } catch (err) {
    if (err instanceof EventError) return err;
    throw err;
  }
}

export interface ParseSettings {
  converter: Converter;
  /** Arrival time, for converted events without a time of their own. */
  now: Date;
  maxBatchEvents: number;
}

/** The request's events (each parsed or its error), or why the whole request is refused. */
export function eventsOf(
  mode: Mode,
  req: IncomingMessage,
  body: Buffer,
  s: ParseSettings,
): { mode: Mode; items: Parsed[] } | { rejection: IngestRejection; events: number; mode?: Mode } {
  const tooMany = (n: number) => ({
    rejection: new IngestRejection(
      Reason.TooMany,
      `batch has ${n} events, over the limit of ${s.maxBatchEvents} (limits.maxBatchEvents); split it`,
    ),
    events: n,
  });
  if (mode === 'batch') {
    const parsed = parseOrError(() => parseBatch(body));
    if (parsed instanceof EventError)
      return { rejection: new IngestRejection(Reason.Invalid, parsed.message), events: 1 };
    if (parsed.length > s.maxBatchEvents) return tooMany(parsed.length);
    return { mode, items: parsed };
  }
  if (mode === 'structured') return { mode, items: [parseOrError(() => parseStructured(body))] };
  if (mode === 'binary') return { mode, items: [parseOrError(() => fromHttpBinary(req.headers, body))] };
  // Raw JSON: an object is one event; a top-level array is a batch of raw events.
  let value: unknown;
  try {
    value = parseJsonBody(body, 'request body');
  } catch (err) {
    if (err instanceof EventError)
      return { rejection: new IngestRejection(Reason.Invalid, err.message), events: 1 };
    throw err;
  }
  if (Array.isArray(value) && value.length > s.maxBatchEvents)
    return { ...tooMany(value.length), mode: 'raw-batch' };
  const values = Array.isArray(value) ? value : [value];
  return {
    mode: Array.isArray(value) ? 'raw-batch' : mode,
    items: values.map((v) =>
      parseOrError(() => (looksStructured(v) ? validateEvent(v) : s.converter.convert(v, s.now))),
    ),
  };
}
