// Whether an existing table keeps writes idempotent by the CloudEvent id, as the data model needs
// (docs/data-model.md): a redelivered event is written again, and only a table keyed by the id
// turns that into the same row. The tables manageSchema creates are (Cassandra PRIMARY KEY (id),
// ClickHouse ReplacingMergeTree ORDER BY id); one created by hand may not be. The probe reports a
// table that is not as a warning on the Sink's Ready condition, not as a failure: writes work.
import type cassandra from 'cassandra-driver';
import type { ClickHouseClient } from '@clickhouse/client';
import { chString } from './clickhouse-sql.js';
import type { ClickHouseSpec, ScyllaSpec } from './types.js';

/** Why a Cassandra table with this primary key is not keyed by the id; undefined when it is. */
export function cqlKeyProblem(key: readonly string[]): string | undefined {
  if (key.includes('id')) return undefined;
  return (
    `primary key (${key.join(', ')}) does not include id: events with equal keys overwrite one ` +
    'another; a primary key with id (as manageSchema creates) keeps each event once'
  );
}

/** Why a ClickHouse table with this engine and sorting key is not idempotent; undefined when it is. */
export function chEngineProblem(engine: string, sortingKey: string): string | undefined {
  if (!/ReplacingMergeTree$/.test(engine))
    return (
      `engine ${engine} keeps every write: a redelivered event becomes a second row; ` +
      'ReplacingMergeTree ORDER BY id (as manageSchema creates) folds them'
    );
  const columns = sortingKey.split(',').map((c) => c.trim().replace(/^`(.*)`$/, '$1'));
  if (!columns.includes('id'))
    return (
      `ORDER BY ${sortingKey || 'tuple()'} does not include id: ReplacingMergeTree folds distinct ` +
      'events with equal sorting keys into one row; order by id (as manageSchema creates)'
    );
  return undefined;
}

/** The Cassandra table's key check (the table is known to exist). */
export async function cassandraKeyWarning(
  client: cassandra.Client,
  spec: ScyllaSpec,
): Promise<string | undefined> {
  const rs = await client.execute(
    'SELECT column_name, kind, position FROM system_schema.columns WHERE keyspace_name = ? AND table_name = ?',
    [spec.keyspace.toLowerCase(), spec.table.toLowerCase()],
    { prepare: true },
  );
  const rank = (kind: string) => (kind === 'partition_key' ? 0 : 1);
  const key = rs.rows
    .filter((r) => ['partition_key', 'clustering'].includes(String(r.get('kind'))))
    .sort(
      (a, b) =>
        rank(String(a.get('kind'))) - rank(String(b.get('kind'))) ||
        Number(a.get('position')) - Number(b.get('position')),
    )
    .map((r) => String(r.get('column_name')));
  return cqlKeyProblem(key);
}

/** The ClickHouse table's engine check (the table is known to exist). */
export async function clickhouseKeyWarning(
  client: ClickHouseClient,
  spec: ClickHouseSpec,
): Promise<string | undefined> {
  const rs = await client.query({
    query:
      `SELECT engine, sorting_key FROM system.tables WHERE database = ${chString(spec.database ?? 'default')} ` +
      `AND name = ${chString(spec.table)}`,
    format: 'JSONEachRow',
  });
  const [row] = await rs.json<{ engine: string; sorting_key: string }>();
  return row ? chEngineProblem(row.engine, row.sorting_key) : undefined;
}
