// Condition types and reasons of the three kinds, in one place, and pure helpers for lists in
// the metav1.Condition shape. Reasons are CamelCase and stable: users alert on them.
import type { Condition } from './generated/types.js';

export type { Condition } from './generated/types.js';

export const ConditionType = {
  /** Summary of every other condition of the object. */
  Ready: 'Ready',
  StreamReady: 'StreamReady',
  IngestReady: 'IngestReady',
  /** The EventSource's schemas are valid and every change of one is accepted (docs/schemas.md). */
  SchemasValid: 'SchemasValid',
  RulesValid: 'RulesValid',
  QueriesValid: 'QueriesValid',
  /** No query partition holds its maxStateKeys (so none refuses inputs that need new state). */
  QueryStateWithinLimits: 'QueryStateWithinLimits',
  ConsumerReady: 'ConsumerReady',
  WorkloadReady: 'WorkloadReady',
  SinksReady: 'SinksReady',
  /** A Replay: Unknown while it runs, True when every event landed, False when it failed. */
  Succeeded: 'Succeeded',
} as const;
export type ConditionType = (typeof ConditionType)[keyof typeof ConditionType];

/** Which conditions each kind reports; Ready is True only when all the others are. */
export const conditionTypesByKind = {
  EventSource: [
    ConditionType.Ready,
    ConditionType.StreamReady,
    ConditionType.IngestReady,
    ConditionType.SchemasValid,
  ],
  Pipeline: [
    ConditionType.Ready,
    ConditionType.RulesValid,
    ConditionType.QueriesValid,
    ConditionType.QueryStateWithinLimits,
    ConditionType.ConsumerReady,
    ConditionType.WorkloadReady,
    ConditionType.SinksReady,
  ],
  Sink: [ConditionType.Ready],
  Replay: [ConditionType.Succeeded],
} as const satisfies Record<string, readonly ConditionType[]>;

export const ConditionReason = {
  // Shared
  Reconciling: 'Reconciling',
  Ready: 'Ready',
  NotReady: 'NotReady',
  InvalidSpec: 'InvalidSpec',
  SecretNotFound: 'SecretNotFound',
  Suspended: 'Suspended',
  /** An Event: a suspended object was resumed. */
  Resumed: 'Resumed',
  // EventSource
  StreamCreated: 'StreamCreated',
  StreamUpdated: 'StreamUpdated',
  StreamError: 'StreamError',
  /** The stream's storage type changed; JetStream cannot change it in place. */
  StorageImmutable: 'StorageImmutable',
  NatsUnavailable: 'NatsUnavailable',
  IngestAvailable: 'IngestAvailable',
  IngestProgressing: 'IngestProgressing',
  IngestUnavailable: 'IngestUnavailable',
  /** Every schema of spec.schemas is valid and served (or there are none). */
  SchemasAccepted: 'SchemasAccepted',
  /** A schema is not JSON Schema draft 2020-12 or does not compile; the accepted version keeps serving. */
  SchemaInvalid: 'SchemaInvalid',
  /** The ConfigMap or key a schema names does not exist; the accepted version keeps serving. */
  SchemaNotFound: 'SchemaNotFound',
  /** A changed schema refuses events its accepted version accepts, under compatibility Backward. */
  BreakingSchemaChange: 'BreakingSchemaChange',
  // Pipeline
  RulesCompiled: 'RulesCompiled',
  RulesInvalid: 'RulesInvalid',
  QueriesCompiled: 'QueriesCompiled',
  /** A query does not compile; status.queries.errors has each problem with its line and column. */
  QueriesInvalid: 'QueriesInvalid',
  ConsumerCreated: 'ConsumerCreated',
  ConsumerError: 'ConsumerError',
  EventSourceNotFound: 'EventSourceNotFound',
  EventSourceNotReady: 'EventSourceNotReady',
  WorkloadAvailable: 'WorkloadAvailable',
  WorkloadProgressing: 'WorkloadProgressing',
  WorkloadUnavailable: 'WorkloadUnavailable',
  SinksReady: 'SinksReady',
  SinkNotFound: 'SinkNotFound',
  SinkNotReady: 'SinkNotReady',
  /** An output publishes to an EventSource this Pipeline reads, directly or through other Pipelines. */
  OutputCycle: 'OutputCycle',
  /** An Event: a query partition moved to another worker (failover or rebalancing). */
  PartitionOwnerChanged: 'PartitionOwnerChanged',
  /** Every query partition holds fewer state keys than its query's maxStateKeys. */
  StateWithinLimits: 'StateWithinLimits',
  /**
   * A query partition holds maxStateKeys: inputs that need new state are dead-lettered with reason
   * state-limit until windows close or the limit is raised.
   */
  StateLimitReached: 'StateLimitReached',
  /** The shuffle stream or the state bucket of the queries could not be created or read. */
  QueryStateError: 'QueryStateError',
  /**
   * An Event: a source EventSource's stream removed events (maxAge, maxBytes) before the Pipeline
   * processed them; the message says how many at most and which sequences.
   */
  EventsDiscarded: 'EventsDiscarded',
  /**
   * An Event: a source stream is near its limits with the Pipeline's oldest unprocessed events among
   * the first it would remove.
   */
  EventsAtRisk: 'EventsAtRisk',
  /** An Event: events were dead-lettered since the last look; the message names the latest reason. */
  EventsDeadLettered: 'EventsDeadLettered',
  // Sink: a failed probe's reason follows from its error code (reasonByProbeCode in the Sink controller).
  ProbeSucceeded: 'ProbeSucceeded',
  /** The server could not be reached or could not answer (refused, timed out, reset, unavailable). */
  ConnectionFailed: 'ConnectionFailed',
  /** The TLS handshake failed: the certificate, its CA bundle, or TLS on one side only. */
  TLSFailed: 'TLSFailed',
  /** The server refused the credentials: unknown user, wrong or missing password, no permission. */
  AuthenticationFailed: 'AuthenticationFailed',
  /** An Event: manageSchema created the keyspace/database, the table or columns. */
  SchemaCreated: 'SchemaCreated',
  /**
   * An Event (Ready stays True): the table is not keyed by the event id (a hand-made MergeTree, a
   * primary key without id), so a redelivered event is stored twice or events overwrite one another.
   */
  NotIdempotent: 'NotIdempotent',
  /** The table exists, but a column the Sink writes is missing or has another type. */
  SchemaMismatch: 'SchemaMismatch',
  /** The table, or its keyspace/database, does not exist and manageSchema is off. */
  TableNotFound: 'TableNotFound',
  // Replay
  /** The Replay's worker is selecting and sending its events. */
  ReplayRunning: 'ReplayRunning',
  /** Every selected event went through the Pipeline's rules and outputs. */
  ReplaySucceeded: 'ReplaySucceeded',
  /** Selected events were dead-lettered again; the dead-letter stream has their new reasons. */
  EventsDeadLetteredAgain: 'EventsDeadLetteredAgain',
  /** The Replay could not run (its worker reports why). */
  ReplayFailed: 'ReplayFailed',
  /** spec.pipeline names no Pipeline in the namespace, or the Pipeline has no processor yet. */
  PipelineNotFound: 'PipelineNotFound',
} as const;
export type ConditionReason = (typeof ConditionReason)[keyof typeof ConditionReason];

export type ConditionStatus = Condition['status'];

/** A condition as a reconciler computes it; time and generation are filled in by setCondition. */
export interface ConditionInput {
  type: ConditionType;
  status: ConditionStatus;
  reason: ConditionReason;
  message: string;
}

export function findCondition(
  conditions: readonly Condition[] | undefined,
  type: string,
): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

export function isConditionTrue(conditions: readonly Condition[] | undefined, type: string): boolean {
  return findCondition(conditions, type)?.status === 'True';
}

/**
 * Returns a new list with `input` set. lastTransitionTime moves only when the status flips, so a
 * status computed twice from the same state is identical and writes nothing. Order is kept.
 */
export function setCondition(
  conditions: readonly Condition[] | undefined,
  input: ConditionInput,
  observedGeneration: number,
  now: Date,
): Condition[] {
  const list = [...(conditions ?? [])];
  const i = list.findIndex((c) => c.type === input.type);
  const previous = i >= 0 ? list[i] : undefined;
  const next: Condition = {
    type: input.type,
    status: input.status,
    observedGeneration,
    lastTransitionTime:
      previous && previous.status === input.status ? previous.lastTransitionTime : rfc3339(now),
    reason: input.reason,
    message: input.message,
  };
  if (i >= 0) list[i] = next;
  else list.push(next);
  return list;
}

/**
 * The Ready summary: True when every other listed type is True; otherwise False (or Unknown when
 * nothing is False) carrying the reason and message of the first condition that is not True.
 */
export function readyFrom(conditions: readonly Condition[], types: readonly string[]): ConditionInput {
  const others = types.filter((t) => t !== ConditionType.Ready);
  const notTrue = others
    .map((t) => findCondition(conditions, t) ?? missing(t))
    .filter((c) => c.status !== 'True');
  if (notTrue.length === 0) {
    return { type: ConditionType.Ready, status: 'True', reason: ConditionReason.Ready, message: 'Ready' };
  }
  const first = notTrue.find((c) => c.status === 'False') ?? notTrue[0]!;
  return {
    type: ConditionType.Ready,
    status: first.status === 'False' ? 'False' : 'Unknown',
    reason: first.reason as ConditionReason,
    message: `${first.type}: ${first.message}`,
  };
}

function missing(type: string): Condition {
  return {
    type,
    status: 'Unknown',
    reason: ConditionReason.Reconciling,
    message: 'not yet observed',
    lastTransitionTime: '',
  };
}

/** True when two condition lists say the same (ignoring order), so status writes can be skipped. */
export function conditionsEqual(
  a: readonly Condition[] | undefined,
  b: readonly Condition[] | undefined,
): boolean {
  const x = a ?? [];
  const y = b ?? [];
  if (x.length !== y.length) return false;
  return x.every((c) => {
    const d = findCondition(y, c.type);
    return (
      d !== undefined &&
      d.status === c.status &&
      d.reason === c.reason &&
      d.message === c.message &&
      d.lastTransitionTime === c.lastTransitionTime &&
      d.observedGeneration === c.observedGeneration
    );
  });
}

/** metav1.Time serializes with second precision; matching it keeps round-trips stable. */
function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
