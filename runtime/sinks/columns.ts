// The columns every sink table has and the typed columns a Sink adds, read from a CloudEvent by
// JSON pointer and converted to one portable value per type. Backends encode these values; a value
// that does not convert rejects only its own event (dead-lettered), never the batch.
import { RowRejectedError } from './errors.js';
import type { ColumnSpec, ColumnType, SinkEvent } from './types.js';

/** Columns every table has, in order; typed columns follow. */
export const STANDARD_COLUMNS = ['id', 'type', 'source', 'subject', 'time', 'data'] as const;

/**
 * A converted value: string for text/json/uuid/date/decimal/bigint (decimal and bigint keep their
 * exact digits), number for int/double, boolean, Date for timestamp, null when missing.
 */
export type ColumnValue = string | number | boolean | Date | null;

export interface ConvertedRow {
  id: string;
  type: string;
  source: string;
  subject: string | null;
  /** The event time, or null when the event has none (or it does not parse). */
  time: Date | null;
  /** The original RFC 3339 time string ('' when absent). */
  timeText: string;
  /** The payload as JSON text, or null when the event has no data. */
  data: string | null;
  /** Typed column values, in the order of the Sink's columns. */
  typed: ColumnValue[];
}

/** Splits an RFC 6901 JSON pointer into reference tokens. */
export function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new Error(`JSON pointer "${pointer}" must start with /`);
  return pointer
    .slice(1)
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** Reads a value by parsed pointer; undefined when any step is missing. */
export function readPointer(root: unknown, tokens: readonly string[]): unknown {
  let cur: unknown = root;
  for (const t of tokens) {
    if (cur === null || typeof cur !== 'object') return undefined;
    if (Array.isArray(cur)) {
      if (!/^(0|[1-9][0-9]*)$/.test(t)) return undefined;
      cur = cur[Number(t)];
    } else {
      // Own properties only: a pointer must never reach Object.prototype.
      if (!Object.prototype.hasOwnProperty.call(cur, t)) return undefined;
      cur = (cur as Record<string, unknown>)[t];
    }
  }
  return cur;
}

const INT_TEXT = /^[-+]?[0-9]+$/;
const DECIMAL_TEXT = /^[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?$/;
const UUID_TEXT = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const DATE_TEXT = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function reject(column: string, type: ColumnType, value: unknown, why: string): never {
  const shown = typeof value === 'string' ? JSON.stringify(value.slice(0, 64)) : typeof value;
  throw new RowRejectedError(`column ${column} (${type}): ${shown} ${why}`);
}

function toNumber(column: string, type: ColumnType, v: unknown): number {
  const n =
    typeof v === 'number' ? v : typeof v === 'string' && DECIMAL_TEXT.test(v.trim()) ? Number(v) : NaN;
  if (!Number.isFinite(n)) reject(column, type, v, 'is not a finite number');
  return n;
}

/** Converts one raw event value to the portable value of a column type. */
export function convertValue(column: string, type: ColumnType, v: unknown): ColumnValue {
  if (v === undefined || v === null) return null;
  switch (type) {
    case 'text':
      return typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);
    case 'json':
      return JSON.stringify(v);
    case 'int': {
      const n = toNumber(column, type, v);
      if (!Number.isInteger(n) || n < -2147483648 || n > 2147483647)
        reject(column, type, v, 'is not a 32-bit integer');
      return n;
    }
    case 'bigint': {
      let text: string;
      if (typeof v === 'number' && Number.isSafeInteger(v)) text = String(v);
      else if (typeof v === 'string' && INT_TEXT.test(v.trim())) text = v.trim();
      else return reject(column, type, v, 'is not an integer');
      const big = BigInt(text);
      if (big < INT64_MIN || big > INT64_MAX) reject(column, type, v, 'does not fit 64 bits');
      return big.toString();
    }
    case 'double':
      return toNumber(column, type, v);
    case 'decimal': {
      if (typeof v === 'number' && Number.isFinite(v)) return String(v);
      if (typeof v === 'string' && DECIMAL_TEXT.test(v.trim())) return v.trim();
      return reject(column, type, v, 'is not a decimal number');
    }
    case 'boolean':
      if (typeof v === 'boolean') return v;
      if (v === 'true' || v === 'false') return v === 'true';
      return reject(column, type, v, 'is not a boolean');
    case 'timestamp': {
      const ms = typeof v === 'number' ? v : typeof v === 'string' ? Date.parse(v) : NaN;
      if (!Number.isFinite(ms)) reject(column, type, v, 'is not an RFC 3339 time or epoch milliseconds');
      return new Date(ms);
    }
    case 'date': {
      const m = typeof v === 'string' ? DATE_TEXT.exec(v) : null;
      const d = m ? new Date(`${v as string}T00:00:00Z`) : null;
      if (!m || !d || Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== v)
        reject(column, type, v, 'is not a date (YYYY-MM-DD)');
      return v as string;
    }
    case 'uuid':
      if (typeof v === 'string' && UUID_TEXT.test(v)) return v.toLowerCase();
      return reject(column, type, v, 'is not a UUID');
  }
}

// Events are final once the rules ran, and the processor hands the same object to each output in
// turn: an event routed to several sinks is serialised and converted once, the second sink taking
// what the first left in these one-event caches.
let lastDataEvent: SinkEvent | undefined;
let lastData: string | null = null;

function dataJson(event: SinkEvent): string | null {
  if (event === lastDataEvent) return lastData;
  let data: string | null = null;
  if (event.data !== undefined) data = JSON.stringify(event.data);
  else if (typeof event.data_base64 === 'string') data = JSON.stringify(event.data_base64);
  lastDataEvent = event;
  lastData = data;
  return data;
}

/** Pre-parses the Sink's typed columns once, so the hot path only walks tokens. */
export interface CompiledColumns {
  specs: readonly ColumnSpec[];
  /** The event's row; the same (read-only) object for the same event, as long as no other comes between. */
  convert(event: SinkEvent): ConvertedRow;
}

// Sinks declaring the same columns share one compiled set, and with it the converted row.
const compiled = new Map<string, CompiledColumns>();

export function compileColumns(specs: readonly ColumnSpec[] = []): CompiledColumns {
  const key = JSON.stringify(specs.map((c) => [c.name, c.type, c.from]));
  let c = compiled.get(key);
  if (!c) {
    c = compile(specs);
    compiled.set(key, c);
  }
  return c;
}

function compile(specs: readonly ColumnSpec[]): CompiledColumns {
  const reserved = new Set<string>(STANDARD_COLUMNS);
  const seen = new Set<string>();
  for (const c of specs) {
    const lower = c.name.toLowerCase();
    if (reserved.has(lower) || lower === 'time_text')
      throw new Error(`column ${c.name} is a standard column; choose another name`);
    if (seen.has(lower)) throw new Error(`column ${c.name} is declared twice`);
    seen.add(lower);
  }
  const pointers = specs.map((c) => parsePointer(c.from));
  let lastEvent: SinkEvent | undefined;
  let lastRow: ConvertedRow | undefined;
  return {
    specs,
    convert(event) {
      if (event === lastEvent) return lastRow!;
      if (typeof event.id !== 'string' || event.id === '')
        throw new RowRejectedError('event has no id; rows are keyed by the CloudEvent id');
      const timeText = typeof event.time === 'string' ? event.time : '';
      const ms = timeText ? Date.parse(timeText) : NaN;
      const row: ConvertedRow = {
        id: event.id,
        type: String(event.type ?? ''),
        source: String(event.source ?? ''),
        subject: typeof event.subject === 'string' ? event.subject : null,
        time: Number.isFinite(ms) ? new Date(ms) : null,
        timeText,
        data: dataJson(event),
        typed: specs.map((c, i) => convertValue(c.name, c.type, readPointer(event, pointers[i]!))),
      };
      lastEvent = event;
      lastRow = row;
      return row;
    },
  };
}
