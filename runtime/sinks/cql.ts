// CQL text for the Cassandra/ScyllaDB data model (docs/data-model.md): one row per CloudEvent,
// partitioned by its id. The id hashes uniformly over the token ring, so writes spread over every
// node and shard however skewed types or sources are, and an upsert on the id makes redelivery
// harmless. Pure functions, unit-tested without a server.
import type { ColumnType, ColumnSpec, ScyllaSpec } from './types.js';

export const CQL_TYPES: Record<ColumnType, string> = {
  text: 'text',
  int: 'int',
  bigint: 'bigint',
  double: 'double',
  decimal: 'decimal',
  boolean: 'boolean',
  timestamp: 'timestamp',
  date: 'date',
  uuid: 'uuid',
  json: 'text',
};

/** Standard columns with their CQL types; `id` is the whole primary key. */
export const CQL_STANDARD: readonly (readonly [string, string])[] = [
  ['id', 'text'],
  ['type', 'text'],
  ['source', 'text'],
  ['subject', 'text'],
  ['time', 'timestamp'],
  ['data', 'text'],
];

/**
 * CQL folds unquoted identifiers to lower case; we quote the folded name so that a column called
 * e.g. `order` or `token` (reserved words) still works while `Amount` and `amount` stay the same.
 */
export function cqlIdent(name: string): string {
  return `"${name.toLowerCase()}"`;
}

export function cqlTable(spec: Pick<ScyllaSpec, 'keyspace' | 'table'>): string {
  return `${cqlIdent(spec.keyspace)}.${cqlIdent(spec.table)}`;
}

/** Every column the table must have, lower-cased name → CQL type. */
export function cqlColumns(columns: readonly ColumnSpec[] = []): Map<string, string> {
  const out = new Map<string, string>(CQL_STANDARD.map(([n, t]) => [n, t]));
  for (const c of columns) out.set(c.name.toLowerCase(), CQL_TYPES[c.type]);
  return out;
}

export function createKeyspaceCql(
  spec: Pick<ScyllaSpec, 'keyspace' | 'localDataCenter' | 'replicationFactor'>,
): string {
  const dc = spec.localDataCenter.replace(/'/g, "''");
  return (
    `CREATE KEYSPACE IF NOT EXISTS ${cqlIdent(spec.keyspace)} WITH replication = ` +
    `{'class': 'NetworkTopologyStrategy', '${dc}': ${spec.replicationFactor ?? 3}}`
  );
}

export function createTableCql(
  spec: Pick<ScyllaSpec, 'keyspace' | 'table'>,
  columns: readonly ColumnSpec[] = [],
): string {
  const cols = [...cqlColumns(columns)].map(([n, t]) => `${cqlIdent(n)} ${t}`);
  return `CREATE TABLE IF NOT EXISTS ${cqlTable(spec)} (${cols.join(', ')}, PRIMARY KEY (${cqlIdent('id')}))`;
}

export function addColumnCql(
  spec: Pick<ScyllaSpec, 'keyspace' | 'table'>,
  name: string,
  type: string,
): string {
  return `ALTER TABLE ${cqlTable(spec)} ADD ${cqlIdent(name)} ${type}`;
}

/** The prepared upsert; the TTL is a constant of the Sink, so it is part of the statement text. */
export function insertCql(
  spec: Pick<ScyllaSpec, 'keyspace' | 'table'>,
  columns: readonly ColumnSpec[] = [],
  ttlSeconds = 0,
): string {
  const names = [...cqlColumns(columns).keys()];
  const ttl = ttlSeconds > 0 ? ` USING TTL ${Math.round(ttlSeconds)}` : '';
  return (
    `INSERT INTO ${cqlTable(spec)} (${names.map(cqlIdent).join(', ')}) ` +
    `VALUES (${names.map(() => '?').join(', ')})${ttl}`
  );
}

/** Differences between the wanted columns and the live table's (lower-cased name → CQL type). */
export function compareColumns(
  wanted: Map<string, string>,
  live: Map<string, string>,
): { missing: [string, string][]; mismatched: { name: string; want: string; have: string }[] } {
  const missing: [string, string][] = [];
  const mismatched: { name: string; want: string; have: string }[] = [];
  for (const [name, type] of wanted) {
    const have = live.get(name);
    if (have === undefined) missing.push([name, type]);
    else if (have !== type) mismatched.push({ name, want: type, have });
  }
  return { missing, mismatched };
}
