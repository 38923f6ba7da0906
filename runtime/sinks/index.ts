// Sinks: ScyllaDB/Cassandra and ClickHouse tables that events are written to idempotently, HTTP
// webhooks, and other EventSources' streams. The processor opens them with `openSink`; the
// operator probes a Sink with `probeSink` and creates its schema with `ensureSchema`.
export type {
  Sink,
  SinkSpec,
  ScyllaSpec,
  ClickHouseSpec,
  HttpSpec,
  EventSourceSpec,
  SinkKind,
  RequestObserver,
  ColumnSpec,
  ColumnType,
  SinkCredentials,
  SinkEvent,
  RowResult,
  BatchSpec,
} from './types.js';
export {
  SinkError,
  SinkErrorCode,
  TransientSinkError,
  RowRejectedError,
  SinkConfigError,
  isTransientSinkError,
  isRowRejectedError,
  isSinkConfigError,
  errorMessage,
  SinkProbeError,
  SinkProbeErrorCode,
  isSinkProbeError,
} from './errors.js';
export {
  probeSink,
  ensureSchema,
  openSink,
  probeError,
  sinkTarget,
  backendOf,
  type ProbeOptions,
  type ProbeResult,
  type ProbeReason,
  type OpenSinkOptions,
} from './probe.js';
export { readCredentials, type CredentialFiles } from './credentials.js';
export {
  Batcher,
  yieldToIo,
  type BatchEntry,
  type BatcherOptions,
  type RowWaiter,
  type WriteFn,
} from './batcher.js';
export { compileColumns, STANDARD_COLUMNS } from './columns.js';
export type { EventSourceTarget } from './eventsource.js';
export { httpTarget } from './http.js';
