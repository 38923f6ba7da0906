// Raw JSON → CloudEvent, per an EventSource's conversion settings. Pointers are compiled once per
// settings object (cached), so converting an event is a few property reads.
import type { EventSourceConversion } from '../../api/generated/types.js';
import { randomUUID } from 'node:crypto';
import { isRfc3339 } from './attributes.js';
import { EventError, EventErrorCode } from './errors.js';
import { compilePointer, resolvePointer, type CompiledPointer } from './pointer.js';
import { FALLBACK_SOURCE, type CloudEvent } from './types.js';

export interface Converter {
  readonly settings: EventSourceConversion;
  /** Converts one raw JSON value (the whole body) to a CloudEvent; `now` is the arrival time. */
  convert(value: unknown, now?: Date): CloudEvent;
}

const cache = new WeakMap<EventSourceConversion, Converter>();

function pointerOrUndefined(p: string | undefined): CompiledPointer | undefined {
  return p === undefined ? undefined : compilePointer(p);
}

/** Compiles the settings (throws PointerSyntaxError on a bad pointer). */
export function compileConversion(settings: EventSourceConversion): Converter {
  const typeFrom = pointerOrUndefined(settings.typeFrom);
  const sourceFrom = pointerOrUndefined(settings.sourceFrom);
  const idFrom = pointerOrUndefined(settings.idFrom);
  const subjectFrom = pointerOrUndefined(settings.subjectFrom);
  const timeFrom = pointerOrUndefined(settings.timeFrom);
  const defaultSource = settings.defaultSource ?? FALLBACK_SOURCE;

  const stringAt = (doc: unknown, p: CompiledPointer | undefined): string | undefined => {
    if (p === undefined) return undefined;
    const v = resolvePointer(doc, p);
    return typeof v === 'string' && v.length > 0 ? v : undefined;
  };

  return {
    settings,
    convert(value: unknown, now?: Date): CloudEvent {
      let id: string | undefined;
      if (idFrom !== undefined) {
        const v = resolvePointer(value, idFrom);
        if (typeof v === 'string' && v.length > 0) id = v;
        else if (typeof v === 'number' && Number.isFinite(v)) id = String(v);
      }
      let time: string;
      const rawTime = timeFrom === undefined ? undefined : resolvePointer(value, timeFrom);
      if (rawTime === undefined || rawTime === null) {
        time = (now ?? new Date()).toISOString();
      } else if (typeof rawTime === 'string' && isRfc3339(rawTime)) {
        time = rawTime;
      } else {
        throw new EventError(
          EventErrorCode.InvalidAttribute,
          `the value at conversion.timeFrom (${settings.timeFrom}) must be an RFC 3339 timestamp, got ${JSON.stringify(rawTime)}`,
          { attribute: 'time' },
        );
      }
      const event: CloudEvent = {
        specversion: '1.0',
        id: id ?? randomUUID(),
        source: stringAt(value, sourceFrom) ?? defaultSource,
        type: stringAt(value, typeFrom) ?? settings.defaultType,
        time,
        datacontenttype: 'application/json',
        data: value,
      };
      const subject = stringAt(value, subjectFrom);
      if (subject !== undefined) event.subject = subject;
      return event;
    },
  };
}

/** The cached converter for a settings object. */
export function converterFor(settings: EventSourceConversion): Converter {
  let c = cache.get(settings);
  if (c === undefined) {
    c = compileConversion(settings);
    cache.set(settings, c);
  }
  return c;
}

/**
 * True when a JSON value already is a structured CloudEvent (an object with a string
 * `specversion`); such bodies are used as they are instead of being wrapped.
 */
export function looksStructured(value: unknown): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    typeof (value as { specversion?: unknown }).specversion === 'string'
  );
}
