// The shapes sinks work with. A Sink's spec is the generated type of the Sink resource's spec
// (api/schema/sink.ts) as written, so the operator can pass a Sink's spec as it is, the processor's
// config embeds the same object, and the sinks apply the schema's defaults to what is omitted.
import type {
  SinkClickHouseInput,
  SinkColumnInput,
  SinkEventSourceInput,
  SinkHttpInput,
  SinkScyllaBatchInput,
  SinkScyllaInput,
  SinkSpecInput,
} from '../../api/generated/types.js';
import type { SinkKind } from '../../api/schema/sink.js';
import type { SinkError } from './errors.js';

export type SinkSpec = SinkSpecInput;
export type ScyllaSpec = SinkScyllaInput;
export type ClickHouseSpec = SinkClickHouseInput;
export type HttpSpec = SinkHttpInput;
export type EventSourceSpec = SinkEventSourceInput;
export type { SinkKind };
export type ColumnSpec = SinkColumnInput;
export type BatchSpec = SinkScyllaBatchInput;
export type ColumnType = SinkColumnInput['type'];
export type Consistency = NonNullable<SinkScyllaInput['consistency']>;

/** Read from the files of mounted Secrets; never logged. */
export interface SinkCredentials {
  /** With password, or neither when the server needs no authentication (a TLS Sink may carry only a CA). */
  username?: string;
  password?: string;
  /** A webhook Sink's bearer token (never together with username and password). */
  token?: string;
  /** PEM CA bundle for TLS, when the Sink names one. */
  ca?: string;
}

/**
 * Told about every request a sink sends on its own (a webhook call, a stream publish): its outcome
 * class (2xx, 4xx, 5xx, timeout, error; ok or error for a publish) and how long it took.
 */
export type RequestObserver = (outcome: string, seconds: number) => void;

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
  readonly kind: SinkKind;
  /** keyspace.table, database.table, the webhook URL or the stream, for logs and metrics. */
  readonly target: string;
  /** The row written for an event; throws RowRejectedError when a value does not convert. */
  prepare(event: SinkEvent): Row;
  /** Writes prepared rows, one result per row in order. Never throws for a single row's fault. */
  writeRows(rows: readonly Row[]): Promise<RowResult[]>;
  /** prepare + writeRows: one result per event in order. */
  write(events: readonly SinkEvent[]): Promise<RowResult[]>;
  close(): Promise<void>;
}
