// Public entry of the query engine: streaming SQL over CloudEvents with windows and aggregations.
// The core is pure — events and time in, results, late-event reports and state out — so the query
// workers and `eventrunner test` run the same code. See README.md in this folder.
export {
  compileQuery,
  restoreState,
  resultEvent,
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_MAX_STATE_KEYS,
} from './query.js';
export { runOffline, sortOutput, type OfflineOptions } from './offline.js';
export {
  QueryCompileError,
  QueryStateError,
  QueriesErrorCode,
  isQueryCompileError,
  isQueryStateError,
  type QueryDiagnostic,
} from './errors.js';
export { fnv1a32, partitionOf, resultId } from './ids.js';
export type {
  CompiledQuery,
  LateEvent,
  LateReason,
  PartitionState,
  QueryCheckpoint,
  QueryContext,
  QueryDefinition,
  QueryInput,
  QueryResult,
  StepOutput,
  WindowKindName,
} from './types.js';
