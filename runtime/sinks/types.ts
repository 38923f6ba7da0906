// The shapes sinks work with. The spec types are the Sink resource's spec (api/schema/sink.ts)
// with every field the sinks read, so the operator can pass a Sink's spec as it is and the
// processor's config can embed the same object.
import type { SinkError } from './errors.js';

export type ColumnType =
  'text' | 'int' | 'bigint' | 'double' | 'decimal' | 'boolean' | 'timestamp' | 'date' | 'uuid' | 'json';

export interface ColumnSpec {
  name: string;
  type: ColumnType;
  /** JSON pointer into the CloudEvent, e.g. /data/amount. */
  from: string;
}

export interface BatchSpec {
  maxRows?: number;
  /** Go-style duration, e.g. 50ms or 1s. */
  maxDelay?: string;
}

export type Consistency =
  'ANY' | 'ONE' | 'TWO' | 'THREE' | 'QUORUM' | 'ALL' | 'LOCAL_ONE' | 'LOCAL_QUORUM' | 'EACH_QUORUM';

export interface ScyllaSpec {
  contactPoints: string[];
  localDataCenter: string;
  keyspace: string;
  table: string;
  consistency?: Consistency;
  manageSchema?: boolean;
  replicationFactor?: number;
  /** Go-style duration; 0s keeps rows forever. */
  ttl?: string;
  batch?: BatchSpec;
  tls?: { enabled?: boolean; insecureSkipVerify?: boolean };
}

export interface ClickHouseSpec {
  url: string;
  database?: string;
  table: string;
  manageSchema?: boolean;
  batch?: BatchSpec;
  tls?: { enabled?: boolean; insecureSkipVerify?: boolean };
}

/** A Sink's spec: exactly one of scylla or clickhouse, plus typed columns. */
export interface SinkSpec {
  scylla?: ScyllaSpec;
  clickhouse?: ClickHouseSpec;
  columns?: ColumnSpec[];
}

/** Read from the files of mounted Secrets; never logged. */
export interface SinkCredentials {
  /** With password, or neither when the server needs no authentication (a TLS Sink may carry only a CA). */
  username?: string;
  password?: string;
  /** PEM CA bundle for TLS, when the Sink names one. */
  ca?: string;
}

/** A CloudEvent in structured JSON form (attributes and extensions at the top level). */
export interface SinkEvent {
  id: string;
  type: string;
  source: string;
  subject?: string;
  time?: string;
  data?: unknown;
  data_base64?: string;
  [attribute: string]: unknown;
}

/** Per-event outcome of a write: undefined when written, or the error that stopped it. */
export type RowResult = SinkError | undefined;

export interface Sink<Row = unknown> {
  readonly kind: 'scylla' | 'clickhouse';
  /** keyspace.table or database.table, for logs and metrics. */
  readonly target: string;
  /** The row written for an event; throws RowRejectedError when a value does not convert. */
  prepare(event: SinkEvent): Row;
  /** Writes prepared rows, one result per row in order. Never throws for a single row's fault. */
  writeRows(rows: readonly Row[]): Promise<RowResult[]>;
  /** prepare + writeRows: one result per event in order. */
  write(events: readonly SinkEvent[]): Promise<RowResult[]>;
  close(): Promise<void>;
}
