// The public shapes of the query engine: definitions in, events and time in, results, late-event
// reports and checkpoints out. See README.md in this folder for the semantics.

export interface QueryDefinition {
  name: string;
  sql: string;
  /** CloudEvents type of results; default `<pipeline>.<query>`. */
  type?: string;
  partitions?: number;
  /** Go duration such as '10s' or '1m30s'; default 10s. */
  idleTimeout?: string;
  /** Open state entries a partition may hold (see README); default 1,000,000. */
  maxStateKeys?: number;
}

export interface QueryContext {
  namespace: string;
  pipeline: string;
  /** Names usable in FROM. */
  sources: readonly string[];
  /** Tables for lookup joins (spec.tables): name and key column. */
  tables?: readonly { name: string; key: string }[];
}

export interface QueryInput {
  source: string;
  /** Source stream sequence, > 0. */
  seq: number;
  /** Structured CloudEvent JSON. */
  event: Record<string, unknown>;
  /** Stream timestamp in ms, the event time of an event without a usable `time`. */
  streamTime?: number;
  /**
   * Lookup joins: the row of the joined table for this event's key, by table name, read by the
   * caller before pushing (CompiledQuery.lookup); null or absent when the table has none.
   */
  rows?: Record<string, Record<string, unknown> | null>;
}

export interface QueryResult {
  query: string;
  id: string;
  /** RFC 3339 with milliseconds. */
  time: string;
  data: Record<string, unknown>;
  /** Partition key text. */
  key: string;
}

/**
 * Why an input did not count: `late` (its window had closed in its partition), `invalid-time` (no
 * RFC 3339 `time` and no stream time), `state-limit` (it needed a new state entry while the
 * partition held maxStateKeys).
 */
export type LateReason = 'late' | 'invalid-time' | 'state-limit';

export interface LateEvent {
  query: string;
  /** The input event's id ('' when it has none). */
  id: string;
  seq: number;
  source: string;
  reason: LateReason;
}

export interface StepOutput {
  results: QueryResult[];
  late: LateEvent[];
}

/** What a partition's state holds: a window kind, a pattern, a join, or nothing. */
export type StateKind =
  | 'none'
  | 'tumbling'
  | 'hopping'
  | 'session'
  | 'sliding'
  | 'count'
  | 'pattern'
  | 'interval-join'
  | 'lookup-join';

/** Versioned plain-JSON state of one partition; the layout is documented in state.ts. */
export interface QueryCheckpoint {
  version: 1;
  query: string;
  fingerprint: string;
  window: StateKind;
  /** Highest source sequence pushed, per source. */
  covers: Record<string, number>;
  /** Inputs pushed since the state was created. */
  inputs: number;
  maxTime: number | null;
  watermarkFloor: number | null;
  /** A query of several sources: each source's largest event time and idle floor (state.ts). */
  sources?: Record<string, { maxTime: number | null; watermarkFloor: number | null }>;
  ended: boolean;
  rejected: number;
  state: unknown;
}

export interface PartitionState {
  /** Feed events in arrival order. Pure with respect to the wall clock. */
  push(inputs: readonly QueryInput[]): StepOutput;
  /**
   * Advance time: `now` is wall-clock ms. When no input arrived for idleTimeout, the watermark
   * moves to `now − idleTimeout − grace`, never past `inFlightMinTime − 1` (with several sources,
   * per source: a source without input for idleTimeout moves its own watermark so).
   */
  tick(now: number, inFlightMinTime?: number): StepOutput;
  /** End of input: watermark to +infinity, every window closes. */
  end(): StepOutput;
  checkpoint(): QueryCheckpoint;
  /** Open state entries held now (see README). */
  readonly stateKeys: number;
  /** True while stateKeys is at maxStateKeys, so new entries are being refused. */
  readonly overLimit: boolean;
  /** Inputs refused so far because of maxStateKeys. */
  readonly rejected: number;
  /** The current watermark in ms (−Infinity before any event, +Infinity after end()). */
  readonly watermark: number;
}

export type WindowKindName = 'tumbling' | 'hopping' | 'session' | 'sliding' | 'count';

export interface CompiledQuery {
  readonly name: string;
  readonly namespace: string;
  readonly pipeline: string;
  /** CloudEvents type of results. */
  readonly type: string;
  readonly kind: 'stateless' | 'window' | 'pattern' | 'join';
  readonly windowKind?: WindowKindName;
  readonly emit: 'final' | 'changes';
  readonly columns: readonly string[];
  /** The source in FROM ('' for patterns: see `sources`). */
  readonly source: string;
  /** Every source the query reads; a partition gets the inputs of all of them. */
  readonly sources: readonly string[];
  /**
   * A lookup join's table: before pushing an input, read the row whose `keyColumn` equals
   * `keyOf(input)` and pass it in `input.rows[table]`. keyOf gives undefined for a NULL key (no
   * row to read).
   */
  readonly lookup?: {
    readonly table: string;
    readonly keyColumn: string;
    readonly left: boolean;
    keyOf(input: QueryInput): unknown;
  };
  readonly partitions: number;
  /** Partition key text (GROUP BY values, canonical JSON), '' for no key; undefined when WHERE rejects. */
  keyOf(input: QueryInput): string | undefined;
  /** FNV-1a 32-bit of the key's UTF-8 bytes, modulo `partitions`. */
  partitionOf(key: string, partitions: number): number;
  /** The event with only what the query reads of it (projection.ts): what the shuffle carries. */
  project(event: Record<string, unknown>): Record<string, unknown>;
  createState(): PartitionState;
}
