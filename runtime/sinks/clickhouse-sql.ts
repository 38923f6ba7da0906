// SQL and row encoding for the ClickHouse data model (docs/data-model.md): a ReplacingMergeTree
// ordered by the CloudEvent id, so redelivered duplicates collapse on merge (and at once with
// FINAL). Only what ClickHouse 18.16 (the test stack) and current releases both accept, with
// DateTime64 where the server has it (docs/clickhouse.md). Pure functions, unit-tested.
import type { ColumnValue, ConvertedRow } from './columns.js';
import { RowRejectedError } from './errors.js';
import type { ClickHouseSpec, ColumnSpec, ColumnType } from './types.js';

export interface ServerVersion {
  major: number;
  minor: number;
  text: string;
}

export function parseVersion(text: string): ServerVersion {
  const m = /^(\d+)\.(\d+)/.exec(text.trim());
  if (!m) throw new Error(`cannot read the ClickHouse version from ${JSON.stringify(text)}`);
  return { major: Number(m[1]), minor: Number(m[2]), text: text.trim() };
}

export function atLeast(v: ServerVersion, major: number, minor: number): boolean {
  return v.major > major || (v.major === major && v.minor >= minor);
}

/** DateTime64 arrived in 20.1; older servers keep seconds (the original string is kept too). */
export function timeType(v: ServerVersion): string {
  return atLeast(v, 20, 1) ? "DateTime64(3, 'UTC')" : "DateTime('UTC')";
}

export function chType(type: ColumnType, v: ServerVersion): string {
  switch (type) {
    case 'text':
    case 'json':
      return 'String';
    case 'int':
      return 'Int32';
    case 'bigint':
      return 'Int64';
    case 'double':
      return 'Float64';
    case 'decimal':
      return 'Decimal(38, 9)';
    case 'boolean':
      return 'UInt8';
    case 'timestamp':
      return timeType(v);
    case 'date':
      return 'Date';
    case 'uuid':
      return 'UUID';
  }
}

export function chIdent(name: string): string {
  return `\`${name}\``;
}

export function chTable(spec: Pick<ClickHouseSpec, 'database' | 'table'>): string {
  return `${chIdent(spec.database ?? 'default')}.${chIdent(spec.table)}`;
}

/** Every column the table must have, name → ClickHouse type, in table order. */
export function chColumns(columns: readonly ColumnSpec[], v: ServerVersion): Map<string, string> {
  const out = new Map<string, string>([
    ['id', 'String'],
    ['type', 'String'],
    ['source', 'String'],
    ['subject', 'Nullable(String)'],
    ['time', timeType(v)],
    ['time_text', 'String'],
    ['data', 'Nullable(String)'],
  ]);
  for (const c of columns) out.set(c.name, `Nullable(${chType(c.type, v)})`);
  return out;
}

export function createDatabaseSql(spec: Pick<ClickHouseSpec, 'database'>): string {
  return `CREATE DATABASE IF NOT EXISTS ${chIdent(spec.database ?? 'default')}`;
}

/**
 * The id is the sorting key, so equal ids meet in one merge; the month partition follows the
 * event's own time, which every delivery of the event carries unchanged, so duplicates never land
 * in different partitions.
 */
export function createTableSql(
  spec: ClickHouseSpec,
  columns: readonly ColumnSpec[],
  v: ServerVersion,
): string {
  const cols = [...chColumns(columns, v)].map(([n, t]) => `${chIdent(n)} ${t}`);
  return (
    `CREATE TABLE IF NOT EXISTS ${chTable(spec)} (${cols.join(', ')}) ` +
    'ENGINE = ReplacingMergeTree() PARTITION BY toYYYYMM(time) ORDER BY id'
  );
}

export function addColumnSql(spec: ClickHouseSpec, name: string, type: string): string {
  return `ALTER TABLE ${chTable(spec)} ADD COLUMN ${chIdent(name)} ${type}`;
}

/** A string literal for identifiers the schema already restricts to [a-zA-Z0-9_]. */
export function chString(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

export function liveColumnsSql(spec: ClickHouseSpec): string {
  return (
    `SELECT name, type FROM system.columns WHERE database = ${chString(spec.database ?? 'default')} ` +
    `AND table = ${chString(spec.table)}`
  );
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** 'YYYY-MM-DD hh:mm:ss[.sss]' in UTC, which every version parses for DateTime/DateTime64. */
export function chDateTime(d: Date, millis: boolean): string {
  // toISOString is 'YYYY-MM-DDThh:mm:ss.sssZ' for years 0 to 9999 (the native path, once per row).
  const iso = d.toISOString();
  if (iso.length === 24) return `${iso.slice(0, 10)} ${iso.slice(11, millis ? 23 : 19)}`;
  const base =
    `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  return millis ? `${base}.${pad(d.getUTCMilliseconds(), 3)}` : base;
}

// DateTime in 18.16 cannot hold times before the epoch or after 2105; clamp so that an odd event
// time never makes a whole batch fail (the original string is kept in time_text).
const MIN_TIME = new Date(0);
const MAX_TIME = new Date(Date.UTC(2105, 11, 31));

function encodeValue(type: ColumnType, v: ColumnValue, millis: boolean): string {
  if (v === null) return 'null';
  switch (type) {
    case 'int':
    case 'double':
      return String(v);
    case 'decimal':
      // Unquoted, so that every digit reaches the server (18.16 does not read quoted decimals).
      return v as string;
    case 'boolean':
      return v ? '1' : '0';
    case 'timestamp':
      return JSON.stringify(chDateTime(v as Date, millis));
    default:
      // text, json, uuid, date and bigint (quoted Int64 is read exactly by every version)
      return JSON.stringify(v);
  }
}

// `,"name":` of each typed column, built once per Sink rather than per row.
const columnKeys = new WeakMap<readonly string[], string[]>();

function keysOf(names: readonly string[]): string[] {
  let keys = columnKeys.get(names);
  if (!keys) {
    keys = names.map((n) => `,${JSON.stringify(n)}:`);
    columnKeys.set(names, keys);
  }
  return keys;
}

/**
 * The row's time for the server. An event time already in toISOString's form within the range the
 * column holds is cut into shape; anything else goes through the clamped Date.
 */
function rowTime(row: ConvertedRow, millis: boolean): string {
  const t = row.timeText;
  if (t.length === 24 && t[10] === 'T' && t[23] === 'Z' && row.time !== null && t >= '1970' && t < '2105')
    return `${t.slice(0, 10)} ${t.slice(11, millis ? 23 : 19)}`;
  let time = row.time ?? MIN_TIME;
  if (time < MIN_TIME) time = MIN_TIME;
  if (time > MAX_TIME) time = MAX_TIME;
  return chDateTime(time, millis);
}

/** One JSONEachRow line (with trailing newline) for a converted row. */
export function encodeRow(
  row: ConvertedRow,
  columns: readonly ColumnSpec[],
  names: readonly string[],
  millis: boolean,
): string {
  // Joined, not concatenated: one flat string is encoded to bytes as it is, where a rope of a dozen
  // concatenations would first be flattened into another copy.
  const parts = [
    '{"id":',
    JSON.stringify(row.id),
    ',"type":',
    JSON.stringify(row.type),
    ',"source":',
    JSON.stringify(row.source),
    ',"subject":',
    row.subject === null ? 'null' : JSON.stringify(row.subject),
    // The time text has no character JSON would escape.
    ',"time":"',
    rowTime(row, millis),
    '","time_text":',
    JSON.stringify(row.timeText),
    ',"data":',
    row.data === null ? 'null' : JSON.stringify(row.data),
  ];
  const keys = keysOf(names);
  for (let i = 0; i < columns.length; i++) {
    parts.push(keys[i]!, encodeValue(columns[i]!.type, row.typed[i]!, millis));
  }
  parts.push('}\n');
  return parts.join('');
}

/**
 * Whether rows with these typed columns can be sent as TabSeparated text that the server stores
 * exactly as it stores the JSONEachRow line. Decimals stay on JSONEachRow: their text may carry an
 * exponent, which the two input formats do not read alike on every server version.
 */
export function tsvEncodable(columns: readonly ColumnSpec[]): boolean {
  return columns.every((c) => c.type !== 'decimal');
}

const TSV_SPECIAL = /[\\\t\n\r\0]/;
const TSV_SPECIAL_ALL = /[\\\t\n\r\0]/g;
const TSV_ESCAPES: Readonly<Record<string, string>> = {
  '\\': '\\\\',
  '\t': '\\t',
  '\n': '\\n',
  '\r': '\\r',
  '\0': '\\0',
};
const tsvEscape = (c: string) => TSV_ESCAPES[c]!;

/**
 * A string as a TabSeparated field. Text that is not well-formed UTF-16 (a lone surrogate) is
 * rejected, as the server rejects it in a JSONEachRow line, rather than stored with a replacement
 * character.
 */
function tsvString(column: string, s: string): string {
  // String.prototype.isWellFormed (Node 20) is not in the ES2023 typings.
  if (!(s as string & { isWellFormed(): boolean }).isWellFormed())
    throw new RowRejectedError(`column ${column}: text holds a lone surrogate (not valid Unicode)`);
  return TSV_SPECIAL.test(s) ? s.replace(TSV_SPECIAL_ALL, tsvEscape) : s;
}

function tsvValue(name: string, type: ColumnType, v: ColumnValue, millis: boolean): string {
  if (v === null) return '\\N';
  switch (type) {
    case 'int':
    case 'double':
      return String(v);
    case 'boolean':
      return v ? '1' : '0';
    case 'timestamp':
      return chDateTime(v as Date, millis);
    default:
      // text, json, uuid, date, bigint (and decimal, which tsvEncodable keeps off this path)
      return tsvString(name, v as string);
  }
}

/**
 * One TabSeparated line (with trailing newline) for a converted row, columns in the order of
 * encodeRow: the same values, without JSON's quoting and escaping, which costs the processor and
 * the server more than a tab-separated line (and a third more bytes). Throws RowRejectedError.
 */
export function encodeTsvRow(row: ConvertedRow, columns: readonly ColumnSpec[], millis: boolean): string {
  let line =
    tsvString('id', row.id) +
    '\t' +
    tsvString('type', row.type) +
    '\t' +
    tsvString('source', row.source) +
    '\t' +
    (row.subject === null ? '\\N' : tsvString('subject', row.subject)) +
    '\t' +
    rowTime(row, millis) +
    '\t' +
    tsvString('time_text', row.timeText) +
    '\t' +
    (row.data === null ? '\\N' : tsvString('data', row.data));
  for (let i = 0; i < columns.length; i++) {
    const c = columns[i]!;
    line += '\t' + tsvValue(c.name, c.type, row.typed[i]!, millis);
  }
  return line + '\n';
}
