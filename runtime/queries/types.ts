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
}

export interface QueryInput {
  source: string;
  /** Source stream sequence, > 0. */
  seq: number;
  /** Structured CloudEvent JSON. */
  event: Record<string, unknown>;
  /** Stream timestamp in ms, the event time of an event without a usable `time`. */
  streamTime?: number;
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

/** Versioned plain-JSON state of one partition; the layout is documented in state.ts. */
export interface QueryCheckpoint {
  version: 1;
  query: string;
  fingerprint: string;
  window: 'none' | 'tumbling' | 'hopping' | 'session' | 'sliding' | 'count';
  /** Highest source sequence pushed, per source. */
  covers: Record<string, number>;
  /** Inputs pushed since the state was created. */
  inputs: number;
  maxTime: number | null;
  watermarkFloor: number | null;
  ended: boolean;
  rejected: number;
  state: unknown;
}

export interface PartitionState {
  /** Feed events in arrival order. Pure with respect to the wall clock. */
  push(inputs: readonly QueryInput[]): StepOutput;
  /**
   * Advance time: `now` is wall-clock ms. When no input arrived for idleTimeout, the watermark
   * moves to `now − idleTimeout − grace`, never past `inFlightMinTime − 1`.
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
  readonly kind: 'stateless' | 'window';
  readonly windowKind?: WindowKindName;
  readonly emit: 'final' | 'changes';
  readonly columns: readonly string[];
  /** The source in FROM. */
  readonly source: string;
  readonly partitions: number;
  /** Partition key text (GROUP BY values, canonical JSON), '' for no key; undefined when WHERE rejects. */
  keyOf(input: QueryInput): string | undefined;
  /** FNV-1a 32-bit of the key's UTF-8 bytes, modulo `partitions`. */
  partitionOf(key: string, partitions: number): number;
  createState(): PartitionState;
}
