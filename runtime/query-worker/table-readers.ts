// Reading the rows of a lookup table (spec.tables) from its Sink's database: a Cassandra/ScyllaDB
// table through one prepared single-partition SELECT per key, run with a bounded number in flight
// (the driver's executeConcurrent), or a ClickHouse table through one SELECT … IN per chunk of
// keys. Rows come back as plain JSON values keyed by column name, as the engine reads `c.<column>`.
import cassandra from 'cassandra-driver';
import type { ClickHouseClient } from '@clickhouse/client';
import { cassandraClient } from '../sinks/cassandra-client.js';
import { clickhouseClient } from '../sinks/clickhouse.js';
import { chIdent, chString, chTable } from '../sinks/clickhouse-sql.js';
import { cqlIdent, cqlTable } from '../sinks/cql.js';
import { SinkConfigError } from '../sinks/errors.js';
import type { ClickHouseSpec, ScyllaSpec, SinkCredentials, SinkSpec } from '../sinks/types.js';

export type Row = Record<string, unknown>;

export interface TableReader {
  /** The row of each key, in order; null where the table has none. Throws when the database fails. */
  read(keys: readonly unknown[]): Promise<(Row | null)[]>;
  close(): Promise<void>;
}

export interface TableReaderOptions {
  /** The column rows are read by. */
  key: string;
  /** Reads in flight at once. */
  concurrency: number;
  applicationName?: string;
}

export function openTableReader(
  sink: SinkSpec,
  credentials: SinkCredentials | undefined,
  opts: TableReaderOptions,
): TableReader {
  if (sink.scylla) return new CassandraTableReader(sink.scylla, credentials, opts);
  if (sink.clickhouse) return new ClickHouseTableReader(sink.clickhouse, credentials, opts);
  throw new SinkConfigError('a lookup table reads a Cassandra/ScyllaDB or ClickHouse Sink');
}

/**
 * A database value as JSON: 64-bit integers and decimals as numbers, timestamps as RFC 3339,
 * UUIDs and addresses as text, and the `data` column of a Sink's table as the JSON it holds (so
 * `c.data.x` reads into it).
 */
export function jsonValue(column: string, v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (v instanceof Date) return v.toISOString();
  if (v instanceof cassandra.types.Long) return v.toNumber();
  if (v instanceof cassandra.types.BigDecimal || v instanceof cassandra.types.Integer)
    return Number(v.toString());
  if (v instanceof cassandra.types.Uuid || v instanceof cassandra.types.InetAddress) return v.toString();
  if (v instanceof cassandra.types.LocalDate || v instanceof cassandra.types.LocalTime) return v.toString();
  if (Buffer.isBuffer(v)) return v.toString('base64');
  if (column === 'data' && typeof v === 'string') {
    try {
      return JSON.parse(v) as unknown;
    } catch {
      return v;
    }
  }
  if (Array.isArray(v)) return v.map((x) => jsonValue('', x));
  if (v instanceof Map) return Object.fromEntries([...v].map(([k, x]) => [String(k), jsonValue('', x)]));
  if (v instanceof Set) return [...v].map((x) => jsonValue('', x));
  return v;
}

function toRow(columns: readonly string[], get: (c: string) => unknown): Row {
  const row: Row = {};
  for (const c of columns) row[c] = jsonValue(c, get(c));
  return row;
}

/**
 * Several rows with one key (a key that is an indexed column rather than the partition key): the
 * one with the latest `time`, else the first.
 */
function latest(rows: Row[]): Row | null {
  if (rows.length <= 1) return rows[0] ?? null;
  return rows.reduce((a, b) => (String(b.time ?? '') > String(a.time ?? '') ? b : a));
}

class CassandraTableReader implements TableReader {
  private readonly client: cassandra.Client;
  private readonly select: string;

  constructor(
    spec: ScyllaSpec,
    credentials: SinkCredentials | undefined,
    private readonly opts: TableReaderOptions,
  ) {
    this.client = cassandraClient(spec, credentials, { applicationName: opts.applicationName });
    this.select = `SELECT * FROM ${cqlTable(spec)} WHERE ${cqlIdent(opts.key)} = ?`;
  }

  async read(keys: readonly unknown[]): Promise<(Row | null)[]> {
    if (keys.length === 0) return [];
    const { resultItems } = await cassandra.concurrent.executeConcurrent(
      this.client,
      this.select,
      keys.map((k) => [k]),
      { concurrencyLevel: this.opts.concurrency, collectResults: true, raiseOnFirstError: false },
    );
    return (resultItems as (cassandra.types.ResultSet | Error)[]).map((rs) => {
      // A key the column's type cannot hold (text for an int key) is in no row; any other error is
      // the database's, and fails the whole read.
      if (rs instanceof TypeError || rs instanceof RangeError) return null;
      if (rs instanceof Error) throw rs;
      const columns = rs.columns?.map((c) => c.name) ?? [];
      return latest(rs.rows.map((r) => toRow(columns, (c) => r.get(c) as unknown)));
    });
  }

  close(): Promise<void> {
    return this.client.shutdown();
  }
}

/** Keys per ClickHouse SELECT … IN (the list is part of the query text). */
const CH_CHUNK = 1000;

class ClickHouseTableReader implements TableReader {
  private readonly client: ClickHouseClient;
  private readonly select: string;

  constructor(
    spec: ClickHouseSpec,
    credentials: SinkCredentials | undefined,
    private readonly opts: TableReaderOptions,
  ) {
    this.client = clickhouseClient(spec, credentials, {
      applicationName: opts.applicationName,
      maxOpenConnections: Math.max(1, Math.min(opts.concurrency, 16)),
    });
    // Keys compare as text, so that a key column of any type can be read. The keys go in as
    // escaped literals: query parameters need a newer server than every one we support.
    this.select = `SELECT * FROM ${chTable(spec)} WHERE toString(${chIdent(opts.key)}) IN `;
  }

  async read(keys: readonly unknown[]): Promise<(Row | null)[]> {
    const text = keys.map((k) => (typeof k === 'string' ? k : JSON.stringify(k)));
    const chunks: string[][] = [];
    for (let i = 0; i < text.length; i += CH_CHUNK) chunks.push(text.slice(i, i + CH_CHUNK));
    const found = new Map<string, Row[]>();
    for (let i = 0; i < chunks.length; i += this.opts.concurrency)
      await Promise.all(
        chunks.slice(i, i + this.opts.concurrency).map(async (chunk) => {
          const rs = await this.client.query({
            query: `${this.select}(${chunk.map(chString).join(',')})`,
            format: 'JSONEachRow',
            clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
          });
          for (const r of await rs.json<Row>()) {
            const row = toRow(Object.keys(r), (c) => r[c]);
            const k = r[this.opts.key];
            const id = typeof k === 'string' ? k : JSON.stringify(k);
            found.set(id, [...(found.get(id) ?? []), row]);
          }
        }),
      );
    return text.map((k) => latest(found.get(k) ?? []));
  }

  close(): Promise<void> {
    return this.client.close();
  }
}
