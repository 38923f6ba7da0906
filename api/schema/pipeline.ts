// Pipeline: a durable JetStream consumer on one or more EventSources plus a processor Deployment
// that runs the GRL rules on every event and writes it to the outputs the rules route it to.
import {
  ageColumn,
  conditionsSchema,
  objectName,
  observedGenerationSchema,
  readyColumn,
  resources,
  workloadNameRule,
  type KindDefinition,
} from './common.js';
import { arr, bool, bytes, celIsDuration, duration, enumOf, int, obj, str } from './dsl.js';
import { EVENT_TYPE_PATTERN } from './eventsource.js';

/** Output names are what rules pass to Route("..."): identifiers, so GRL strings stay simple. */
export const OUTPUT_NAME_PATTERN = '^[a-zA-Z][a-zA-Z0-9_-]*$';
/** CloudEvents type filters: literal types, `*` for one dot-separated segment, `>` for the rest. */
/** Names queries use for sources: plain SQL identifiers. */
export const SQL_NAME_PATTERN = '^[a-zA-Z][a-zA-Z0-9_]*$';
/** Query names: lowercase DNS labels, because they name JetStream subjects and result sources. */
export const QUERY_NAME_PATTERN = '^[a-z]([-a-z0-9]*[a-z0-9])?$';
export const TYPE_FILTER_PATTERN = '^((\\*|[^\\s.*>]+)(\\.(\\*|[^\\s.*>]+))*(\\.>)?|>)$';

const positiveDuration = (what: string) => ({
  $id: `pl-${what}-positive`,
  rule: `!${celIsDuration('self')} || duration(self) > duration('0s')`,
  message: 'must be greater than 0',
});

const source = obj(
  'PipelineSource',
  'One EventSource the Pipeline consumes, optionally filtered by CloudEvents type.',
  {
    eventSource: objectName('Name of an EventSource in the same namespace.'),
    types: arr(
      'CloudEvents types to consume, e.g. com.shop.order.* ; `*` matches one dot-separated segment and `>` all remaining ones. Empty or omitted: every event.',
      str('A CloudEvents type or a pattern with * and >.', {
        minLength: 1,
        maxLength: 256,
        pattern: TYPE_FILTER_PATTERN,
        $hint:
          'a CloudEvents type such as com.shop.order.created, optionally with * for one segment or a final > for the rest',
      }),
      { maxItems: 32, 'x-kubernetes-list-type': 'set' },
    ),
    as: str(
      "The source's name in queries (FROM orders); unique among the sources. Default: the EventSource's name, which then must be an SQL identifier (letters, digits and _).",
      {
        minLength: 1,
        maxLength: 63,
        pattern: SQL_NAME_PATTERN,
        $hint: 'an SQL identifier (letters, digits and _, starting with a letter)',
      },
    ),
  },
  { required: ['eventSource'] },
);

const output = obj(
  'PipelineOutput',
  'A named destination that rules route events to with Route("<name>").',
  {
    name: str('Name used by Route() in the rules and by defaultOutputs; unique within the Pipeline.', {
      minLength: 1,
      maxLength: 63,
      pattern: OUTPUT_NAME_PATTERN,
      $hint: 'an identifier (letters, digits, _ and -, starting with a letter)',
    }),
    sink: objectName('Name of a Sink in the same namespace that receives the events routed here.'),
  },
  { required: ['name', 'sink'] },
);

const table = obj(
  'PipelineTable',
  'Reference data for lookup joins in queries (JOIN customers AS c ON o.data.customerId = c.id): a table of a Sink, read by its key.',
  {
    name: str('The table’s name in queries; unique among the tables and not the name of a source.', {
      minLength: 1,
      maxLength: 63,
      pattern: SQL_NAME_PATTERN,
      $hint: 'an SQL identifier (letters, digits and _, starting with a letter)',
    }),
    sink: objectName(
      'Name of a Sink in the same namespace (Cassandra/ScyllaDB or ClickHouse) whose table holds the rows.',
    ),
    key: str('The column a lookup reads rows by; a join’s ON compares it with a field of the event.', {
      minLength: 1,
      maxLength: 63,
      pattern: SQL_NAME_PATTERN,
      $hint: 'a column name (letters, digits and _, starting with a letter)',
    }),
    cache: obj(
      'PipelineTableCache',
      'Rows read are kept this long and up to this many, so repeated keys do not each read the database.',
      {
        ttl: duration('How long a row read (or found missing) is reused, e.g. 60s.', { default: '60s' }),
        maxEntries: int('Most rows kept per query worker; the least recently used go first.', {
          minimum: 0,
          maximum: 10000000,
          default: 100000,
        }),
      },
      { default: {} },
    ),
  },
  { required: ['name', 'sink', 'key'] },
);

const query = obj(
  'PipelineQuery',
  'A streaming-SQL query over the events the rules kept: windows and aggregations; see docs/queries.md.',
  {
    name: str('Name of the query, unique within the Pipeline; part of result ids and sources.', {
      minLength: 1,
      maxLength: 63,
      pattern: QUERY_NAME_PATTERN,
      $hint: 'a lowercase name of a-z, 0-9 and -, starting with a letter',
    }),
    sql: str('The query, e.g. SELECT … FROM orders WINDOW TUMBLING (SIZE 1 MINUTE) GROUP BY …', {
      minLength: 1,
      maxLength: 65536,
    }),
    outputs: arr(
      'Outputs (spec.outputs names) each result row goes to, as a CloudEvent.',
      str('Name of a declared output.', { maxLength: 63 }),
      { minItems: 1, maxItems: 8, 'x-kubernetes-list-type': 'set' },
    ),
    partitions: int(
      'Partitions of the query’s key space, each with one owner at a time. Fixed once created: changing it is a deliberate re-partition (a new query).',
      { minimum: 1, maximum: 1024, default: 1 },
    ),
    type: str('CloudEvents type of the results. Default: <pipeline>.<query>.', {
      minLength: 1,
      maxLength: 256,
      pattern: EVENT_TYPE_PATTERN,
      $hint: 'a CloudEvents type usable as NATS subject tokens: dot-separated, no spaces, * or >',
    }),
    idleTimeout: duration(
      'A partition that receives nothing this long advances its watermark with the wall clock, so windows close on idle input.',
      { default: '10s', 'x-kubernetes-validations': [positiveDuration('idle-timeout')] },
    ),
    maxStateKeys: int(
      'Most keys (groups with open windows) a partition holds; beyond it new keys are refused and reported in status, never an out-of-memory kill.',
      { minimum: 1, maximum: 100000000, default: 1000000 },
    ),
  },
  { required: ['name', 'sql', 'outputs'] },
);

/** A query as pod configs embed it (the processor shuffles for it, the query workers run it). */
export const pipelineQuery = query;

/** A lookup table as pod configs embed it (its name, key and cache; the query workers add the Sink). */
export const pipelineTable = table;

export const ruleEngine = obj(
  'PipelineRuleEngine',
  'How rules execute for each event.',
  {
    mode: enumOf(
      'once: a rule fires at most once per event (predictable, the default). refire: Grule semantics, a rule whose condition still holds fires again in the next cycle until Retract() or maxCycles.',
      ['once', 'refire'],
      { default: 'once' },
    ),
    maxCycles: int(
      'Most rule firings per event; an event that reaches it is dead-lettered (Grule: MaxCycle).',
      { minimum: 1, maximum: 1000000, default: 5000 },
    ),
  },
  { default: {} },
);

export const delivery = obj(
  'PipelineDelivery',
  'Redelivery of events whose writes failed transiently (JetStream consumer settings).',
  {
    maxDeliver: int('Deliveries of one event before it is dead-lettered.', {
      minimum: 1,
      maximum: 1000,
      default: 5,
    }),
    ackWait: duration('How long a delivery may stay unacknowledged before JetStream redelivers it.', {
      default: '30s',
      'x-kubernetes-validations': [positiveDuration('ack-wait')],
    }),
    backoff: arr(
      'Delays before each redelivery after a failure, e.g. [1s, 10s, 60s]; the last repeats. Fewer entries than maxDeliver.',
      duration('A redelivery delay.', { 'x-kubernetes-validations': [positiveDuration('backoff')] }),
      { maxItems: 20 },
    ),
    maxAckPending: int(
      'Events delivered but not yet acknowledged, across all replicas; bounds memory and applies backpressure.',
      { minimum: 1, maximum: 100000, default: 1000 },
    ),
  },
  {
    default: {},
    'x-kubernetes-validations': [
      {
        $id: 'pl-backoff-max-deliver',
        rule: '!has(self.backoff) || self.backoff.size() < self.maxDeliver',
        message: 'backoff must list fewer delays than maxDeliver',
        fieldPath: '.backoff',
      },
    ],
  },
);

const spec = obj(
  'PipelineSpec',
  'Desired state of the Pipeline.',
  {
    sources: arr('EventSources the Pipeline consumes; each EventSource may appear once.', source, {
      minItems: 1,
      maxItems: 16,
    }),
    rules: str(
      'Rules in GRL (the Grule Rule Language) evaluated on every event; see docs/rules.md. Empty: every event goes to defaultOutputs.',
      { maxLength: 262144, default: '' },
    ),
    ruleEngine: ruleEngine,
    outputs: arr('Destinations events can be routed to; names must be unique.', output, {
      minItems: 1,
      maxItems: 32,
    }),
    queries: arr(
      'Streaming-SQL queries over the events the rules kept; their results go to outputs like events.',
      query,
      { maxItems: 16 },
    ),
    tables: arr('Reference tables for lookup joins in queries; names must be unique.', table, {
      maxItems: 16,
    }),
    defaultOutputs: arr(
      'Outputs receiving events that no rule routed or dropped. Omitted: all outputs. Empty list: such events are dropped.',
      str('Name of a declared output.', { maxLength: 63 }),
      { maxItems: 32, 'x-kubernetes-list-type': 'set' },
    ),
    delivery: delivery,
    deadLetter: obj(
      'PipelineDeadLetter',
      'The dead-letter stream of this Pipeline, holding events that could not be processed with the reason in headers.',
      {
        maxAge: duration('Keep dead letters this long, e.g. 168h; 0 keeps them until maxBytes is reached.', {
          default: '168h',
        }),
        maxBytes: bytes(
          'Largest size of the dead-letter stream; the oldest dead letters are discarded beyond it.',
          {
            default: '1Gi',
          },
        ),
        deletionPolicy: enumOf(
          'What happens to the dead-letter stream when the Pipeline is deleted: Delete removes it, Retain keeps it (with what it holds) in NATS. spec.deletionPolicy Retain keeps it in any case.',
          ['Delete', 'Retain'],
          { default: 'Delete' },
        ),
      },
      { default: {} },
    ),
    replicas: int('Number of processor pods; the scale subresource (HPA, KEDA, kubectl scale) sets it.', {
      minimum: 0,
      maximum: 100,
      default: 1,
    }),
    suspend: bool(
      'Stop processing: the processor and query workers scale to zero and the consumer keeps its position; false again continues from it.',
      { default: false },
    ),
    autoscaling: obj(
      'PipelineAutoscaling',
      'The operator scales the processor Deployment and the query-worker Deployment, each on its own pending work and measured processing rate, between minReplicas and maxReplicas (query workers: at least 1, at most the partitions of all queries); spec.replicas and spec.queryWorkers.replicas are then ignored and never written (docs/operations.md, Autoscaling).',
      {
        minReplicas: int(
          'Fewest processor pods, and query-worker pods (at least 1 of those); 0 lets the processors scale to zero when nothing is pending (they wake when events arrive).',
          {
            minimum: 0,
            maximum: 100,
            default: 1,
          },
        ),
        maxReplicas: int(
          'Most processor pods, and most query-worker pods (never more than the partitions).',
          { minimum: 1, maximum: 100 },
        ),
        targetLagSeconds: int(
          'Pending events should be worked off within this many seconds at the measured rate per pod.',
          { minimum: 1, maximum: 86400, default: 30 },
        ),
        scaleDownDelay: duration(
          'How long fewer pods must have sufficed before one step down (each step at most halves the pods), e.g. 5m.',
          { default: '5m' },
        ),
        lookback: duration(
          'Window over which the processing rate is measured; after each step up, the new pods are measured for this long before the next decision.',
          { default: '30s', 'x-kubernetes-validations': [positiveDuration('lookback')] },
        ),
      },
      {
        required: ['maxReplicas'],
        'x-kubernetes-validations': [
          {
            $id: 'pl-autoscaling-range',
            rule: 'self.minReplicas <= self.maxReplicas',
            message: 'minReplicas must not exceed maxReplicas',
            fieldPath: '.minReplicas',
          },
        ],
      },
    ),
    resources: resources('ProcessorResources', 'processor'),
    queryWorkers: obj(
      'PipelineQueryWorkers',
      'The query-worker pods that own the partitions of spec.queries; they exist only while the Pipeline has queries.',
      {
        replicas: int(
          'Number of query-worker pods; never more than the partitions of all queries together (the rest would own nothing). Ignored under spec.autoscaling, which sizes the query workers too.',
          { minimum: 0, maximum: 100, default: 1 },
        ),
        resources: resources('QueryWorkerResources', 'query-worker'),
      },
      { default: {} },
    ),
    deletionPolicy: enumOf(
      'What happens to the Pipeline’s JetStream state when it is deleted: Delete removes its consumers, dead-letter stream, shuffle stream and query checkpoints; Retain leaves them in NATS, so a Pipeline created again with the same name continues where this one stopped.',
      ['Delete', 'Retain'],
      { default: 'Delete' },
    ),
  },
  {
    required: ['sources', 'outputs'],
    'x-kubernetes-validations': [
      {
        $id: 'pl-outputs-unique',
        rule: 'self.outputs.all(o, self.outputs.exists_one(p, p.name == o.name))',
        message: 'output names must be unique',
        fieldPath: '.outputs',
      },
      {
        $id: 'pl-sources-unique',
        rule: 'self.sources.all(s, self.sources.exists_one(t, t.eventSource == s.eventSource))',
        message: 'each eventSource may appear once; list all its types in one entry',
        fieldPath: '.sources',
      },
      {
        $id: 'pl-tables-unique',
        rule: '!has(self.tables) || self.tables.all(t, self.tables.exists_one(u, u.name == t.name))',
        message: 'table names must be unique',
        fieldPath: '.tables',
      },
      {
        $id: 'pl-queries-unique',
        rule: '!has(self.queries) || self.queries.all(q, self.queries.exists_one(r, r.name == q.name))',
        message: 'query names must be unique',
        fieldPath: '.queries',
      },
      {
        $id: 'pl-query-outputs-declared',
        rule: '!has(self.queries) || self.queries.all(q, q.outputs.all(n, self.outputs.exists(o, o.name == n)))',
        message: 'query outputs must name outputs declared in spec.outputs',
        fieldPath: '.queries',
      },
      {
        $id: 'pl-query-partitions-immutable',
        rule: '!has(self.queries) || !has(oldSelf.queries) || self.queries.all(q, oldSelf.queries.all(o, o.name != q.name || o.partitions == q.partitions))',
        message: 'a query’s partitions are fixed once created; give the query a new name to re-partition it',
        fieldPath: '.queries',
        $transition: true,
      },
      {
        $id: 'pl-default-outputs-declared',
        rule: '!has(self.defaultOutputs) || self.defaultOutputs.all(d, self.outputs.exists(o, o.name == d))',
        message: 'defaultOutputs must name outputs declared in spec.outputs',
        fieldPath: '.defaultOutputs',
      },
    ],
  },
);

const ruleError = obj('RuleError', 'A rule compile error, positioned in spec.rules.', {
  line: int('Line in spec.rules, starting at 1.', { minimum: 0 }),
  column: int('Column, starting at 1.', { minimum: 0 }),
  message: str('What is wrong and how to fix it.'),
  rule: str('Name of the rule the error is in, when known.'),
});

const queryError = obj('QueryError', 'A query compile error, positioned in the query’s sql.', {
  query: str('Name of the query.'),
  line: int('Line in the query’s sql, starting at 1.', { minimum: 0 }),
  column: int('Column, starting at 1.', { minimum: 0 }),
  message: str('What is wrong and how to fix it.'),
});

const queryStatus = obj(
  'QueryStatus',
  'One query’s partitions, from what their owners write at each checkpoint.',
  {
    name: str('Name of the query.'),
    partitions: int('Partitions of the query.', { minimum: 0 }),
    owned: int('Partitions with a live owner (a lease renewed within its duration).', { minimum: 0 }),
    workers: int('Distinct workers owning its partitions.', { minimum: 0 }),
    watermark: str(
      'Watermark of its slowest partition at that partition’s last checkpoint (kubectl shows its age: how far event time is behind the wall clock); absent before the first event.',
      { format: 'date-time' },
    ),
    lateEvents: int('Late events sent to the dead-letter stream with reason late, over all partitions.', {
      minimum: 0,
      format: 'int64',
    }),
    stateKeys: int('Keys with open windows held over all partitions, at their last checkpoints.', {
      minimum: 0,
      format: 'int64',
    }),
    stateLimitedEvents: int(
      'Inputs refused because a partition held maxStateKeys, dead-lettered with reason state-limit, over all partitions.',
      { minimum: 0, format: 'int64' },
    ),
    partitionsAtStateLimit: int(
      'Partitions holding maxStateKeys at their last checkpoints (condition QueryStateWithinLimits is False while any does).',
      { minimum: 0 },
    ),
    lastCheckpoint: str('When the partition checkpointed least recently did so.', { format: 'date-time' }),
  },
  { required: ['name'] },
);

// The autoscaler's last decision, the same shape for the processors and the query workers.
const autoscalingStatus = obj(
  'PipelineAutoscalingStatus',
  'The last decision of the autoscaler (spec.autoscaling) for this Deployment.',
  {
    desiredReplicas: int('Pods the autoscaler set on the Deployment.', { minimum: 0 }),
    reason: str(
      'Why, as a CamelCase word: ScaledUp, ScaledDown, ScaledFromZero, Steady, Measuring, ThroughputPlateau, ScaleDownDelay, NoProgress, AtMax, Unknown.',
    ),
    message: str('The decision with its figures: pending events, measured rate, per-pod rate.'),
    lastScaleTime: str('When the autoscaler last changed the replicas.', { format: 'date-time' }),
  },
);

const status = obj('PipelineStatus', 'Observed state of the Pipeline, written by the operator.', {
  observedGeneration: observedGenerationSchema,
  phase: enumOf(
    'Summary for humans: Pending (being set up), Running, Degraded (running with a problem, see conditions), Suspended, Failed (cannot run, see conditions).',
    ['Pending', 'Running', 'Degraded', 'Suspended', 'Failed'],
  ),
  conditions: conditionsSchema,
  replicas: int('Processor pods that exist (the scale subresource reads it).', { minimum: 0 }),
  readyReplicas: int('Processor pods that are ready.', { minimum: 0 }),
  selector: str('Label selector of the processor pods, for the scale subresource (HPA).'),
  lag: int(
    'Events of the sources not yet acknowledged by the processors: not yet delivered (consumer num_pending) plus delivered and awaiting acknowledgement (num_ack_pending), summed over the sources. Absent when a consumer cannot be read (ConsumerReady says why); refreshed at least every 10 s while not 0.',
    { minimum: 0, format: 'int64' },
  ),
  deadLetters: int(
    'Dead letters currently held in the dead-letter stream (its message count, after maxAge and maxBytes discarded old ones), not the number ever dead-lettered. Absent when the stream cannot be read (ConsumerReady says why).',
    { minimum: 0, format: 'int64' },
  ),
  autoscaling: autoscalingStatus,
  consumer: obj(
    'PipelineConsumerStatus',
    'JetStream objects of the Pipeline, named from namespace and name.',
    {
      name: str('Name of the durable consumer.'),
      deadLetterStream: str('Name of the dead-letter stream.'),
    },
  ),
  rules: obj('PipelineRulesStatus', 'Result of compiling spec.rules.', {
    count: int('Rules compiled from the running version.', { minimum: 0 }),
    errors: arr('Compile errors of the current spec.rules; empty when it compiles.', ruleError, {
      maxItems: 100,
    }),
  }),
  queries: obj('PipelineQueriesStatus', 'Result of compiling spec.queries, and how their partitions run.', {
    count: int('Queries compiled from the running version.', { minimum: 0 }),
    errors: arr('Compile errors of the current spec.queries; empty when they compile.', queryError, {
      maxItems: 100,
    }),
    owned: str(
      'Partitions with a live owner over all partitions, e.g. 16/16; unknown when the query state cannot be read.',
    ),
    watermark: str(
      'The oldest watermark of any query’s partition at its last checkpoint; kubectl shows its age, the largest watermark delay.',
      { format: 'date-time' },
    ),
    items: arr('Each query, as its workers last reported it.', queryStatus, { maxItems: 16 }),
  }),
  queryWorkers: obj('PipelineQueryWorkersStatus', 'The query-worker Deployment.', {
    autoscaling: autoscalingStatus,
    replicas: int('Query-worker pods that exist.', { minimum: 0 }),
    readyReplicas: int('Query-worker pods that are ready.', { minimum: 0 }),
    shuffleStream: str('JetStream stream the processors publish query inputs to.'),
    stateBucket: str('NATS KV bucket of partition leases, checkpoints and partition status.'),
  }),
  summary: obj('PipelineSummary', 'One-line summaries shown by kubectl get -o wide.', {
    sources: str('EventSources consumed, comma-separated.'),
    outputs: str('Outputs as name=sink, comma-separated.'),
  }),
});

export const pipeline: KindDefinition = {
  kind: 'Pipeline',
  plural: 'pipelines',
  singular: 'pipeline',
  shortNames: ['pl'],
  description:
    'Pipeline consumes events from EventSources, evaluates GRL rules on each and writes it to the Sinks of the outputs the rules route it to, acknowledging only after every write succeeded.',
  spec,
  status,
  rootValidations: [workloadNameRule('pl-name', 'processor Deployment')],
  printerColumns: [
    readyColumn(),
    { name: 'Replicas', type: 'integer', jsonPath: '.status.replicas', description: 'Processor pods.' },
    {
      name: 'Lag',
      type: 'integer',
      jsonPath: '.status.lag',
      description:
        'Events of the sources not yet acknowledged (pending plus ack pending); empty when it cannot be read.',
    },
    {
      name: 'DLQ',
      type: 'integer',
      jsonPath: '.status.deadLetters',
      description:
        'Dead letters now held in the dead-letter stream (its depth, not a running total); empty when it cannot be read.',
    },
    ageColumn(),
    {
      name: 'Sources',
      type: 'string',
      jsonPath: '.status.summary.sources',
      description: 'EventSources consumed.',
      priority: 1,
    },
    {
      name: 'Outputs',
      type: 'string',
      jsonPath: '.status.summary.outputs',
      description: 'Outputs and their Sinks.',
      priority: 1,
    },
    {
      name: 'Queries',
      type: 'integer',
      jsonPath: '.status.queries.count',
      description: 'Queries compiled.',
      priority: 1,
    },
    {
      name: 'Owned',
      type: 'string',
      jsonPath: '.status.queries.owned',
      description: 'Query partitions with a live owner, of all partitions.',
      priority: 1,
    },
    {
      name: 'Workers',
      type: 'integer',
      jsonPath: '.status.queryWorkers.readyReplicas',
      description: 'Query-worker pods ready.',
      priority: 1,
    },
    {
      name: 'Watermark',
      type: 'date',
      jsonPath: '.status.queries.watermark',
      description:
        'Age of the oldest query watermark: how far the slowest partition is behind the wall clock.',
      priority: 1,
    },
  ],
  scale: {
    specReplicasPath: '.spec.replicas',
    statusReplicasPath: '.status.replicas',
    labelSelectorPath: '.status.selector',
  },
};
