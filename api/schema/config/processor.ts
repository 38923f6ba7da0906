// The processor's config file (`eventrunner process --config <file>`), which the operator renders
// from a Pipeline, its EventSources and its Sinks. It embeds the CRDs' own sub-schemas (the Sink's
// spec, the EventSource's conversion, the Pipeline's delivery and rule engine) instead of restating
// them; the generated ProcessorConfig type and the validator in api/validate-config.ts come from it.
import { conversion } from '../eventsource.js';
import { arr, duration, int, obj, str } from '../dsl.js';
import {
  delivery,
  OUTPUT_NAME_PATTERN,
  pipeline,
  pipelineQuery,
  pipelineTable,
  ruleEngine,
  SQL_NAME_PATTERN,
} from '../pipeline.js';
import { sink, sinkSpec } from '../sink.js';
import { fastPaths, file, logLevel, natsConnection, opsListener, type ConfigDefinition } from './common.js';

const jetStreamName = (description: string) =>
  str(description, { minLength: 1, maxLength: 253, pattern: '^[^.*>\\s/\\\\]+$' });

const source = obj(
  'ProcessorSource',
  'One stream the processor consumes through the Pipeline’s durable consumer.',
  {
    eventSource: str('Name of the EventSource, for logs and metrics.', { maxLength: 253 }),
    stream: jetStreamName('JetStream stream of the EventSource.'),
    consumer: jetStreamName('Durable consumer of the Pipeline on that stream.'),
    as: str('The source’s name in queries (FROM …). Default: eventSource.', {
      minLength: 1,
      maxLength: 63,
      pattern: SQL_NAME_PATTERN,
    }),
    conversion,
  },
  { required: ['stream', 'consumer'] },
);

const credentials = obj(
  'ProcessorOutputCredentials',
  'Files of the Sink’s mounted Secrets: username and password together or a bearer token (webhooks), a CA bundle with or without them.',
  {
    usernameFile: file('File holding the user name.'),
    passwordFile: file('File holding the password.'),
    tokenFile: file('File holding the bearer token a webhook Sink sends.'),
    caFile: file('File holding the PEM CA bundle the Sink’s TLS connections trust.'),
  },
);

const eventSourceTarget = obj(
  'ProcessorOutputEventSource',
  'Where an eventSource Sink publishes: the target EventSource’s stream and subject prefix, which the operator derives from its namespace and name.',
  {
    stream: jetStreamName('JetStream stream of the target EventSource.'),
    subjectPrefix: str('Subject prefix of the target EventSource; an event goes to <subjectPrefix>.<type>.', {
      minLength: 1,
      maxLength: 253,
      pattern: '^[^.*>\\s]+(\\.[^.*>\\s]+)*$',
      $hint: 'dot-separated NATS subject tokens without wildcards',
    }),
  },
  { required: ['stream', 'subjectPrefix'] },
);

const output = obj(
  'ProcessorOutput',
  'A named output and the Sink it writes to.',
  {
    name: str('Name used by Route() and defaultOutputs.', {
      minLength: 1,
      maxLength: 63,
      pattern: OUTPUT_NAME_PATTERN,
    }),
    sink: sinkSpec,
    credentials,
    eventSource: eventSourceTarget,
    writeConcurrency: int('Cassandra: upserts in flight at once.', {
      minimum: 1,
      maximum: 4096,
      default: 64,
    }),
    maxConcurrentBatches: int('Writes of one batch each running at once.', { minimum: 1, maximum: 64 }),
  },
  { required: ['name', 'sink'] },
);

const rules = obj(
  'ProcessorRules',
  'The Pipeline’s GRL rules: the text inline, or a file holding it.',
  {
    source: str('GRL text.', { maxLength: 262144 }),
    file: file('Path of a file holding the GRL text.'),
    ...ruleEngine.properties,
  },
  { default: {} },
);

export const processorConfig: ConfigDefinition = {
  schema: obj(
    'ProcessorConfig',
    'Configuration of a Pipeline’s processor pods.',
    {
      pipeline: obj(
        'ProcessorPipeline',
        'Identity of the Pipeline, for logs and metrics.',
        {
          namespace: str('Namespace of the Pipeline.', { default: 'default' }),
          name: str('Name of the Pipeline.', { default: 'pipeline' }),
        },
        { default: {} },
      ),
      nats: natsConnection,
      sources: arr('Streams consumed.', source, { minItems: 1, maxItems: 16 }),
      rules,
      outputs: arr('Outputs events can be routed to.', output, { minItems: 1, maxItems: 32 }),
      defaultOutputs: arr(
        'Outputs of events no rule routed or dropped. Omitted: every output; empty: such events are dropped.',
        str('Name of an output.', { maxLength: 63 }),
        { maxItems: 32, 'x-kubernetes-list-type': 'set' },
      ),
      delivery,
      deadLetter: obj(
        'ProcessorDeadLetter',
        'Where events that cannot be processed go, with the reason in headers.',
        {
          stream: jetStreamName('Dead-letter stream of the Pipeline.'),
          subject: str('Subject dead letters are published to.', { minLength: 1, maxLength: 253 }),
        },
        { required: ['stream', 'subject'] },
      ),
      advisories: obj(
        'ProcessorAdvisories',
        'The stream keeping the max-deliveries advisories of the sources’ consumers, read through a durable consumer: an event a consumer gave up on is dead-lettered even when no processor was connected at the time. Omitted: the processor listens for the advisories as core NATS messages and misses those sent while it is away.',
        {
          stream: jetStreamName('Advisory stream of the Pipeline.'),
          consumer: jetStreamName('Durable consumer of the processors on it.'),
        },
        { required: ['stream', 'consumer'] },
      ),
      queries: arr(
        'The Pipeline’s queries: each event the rules kept is published to the shuffle stream for each query whose WHERE accepts it.',
        pipelineQuery,
        { maxItems: 16 },
      ),
      tables: arr(
        'The Pipeline’s lookup tables (spec.tables): the processor compiles the queries that join them.',
        pipelineTable,
        { maxItems: 16 },
      ),
      shuffle: obj(
        'ProcessorShuffle',
        'Where events for queries go: subject <subjectPrefix>.<query>.<partition> of the shuffle stream.',
        {
          stream: jetStreamName('Shuffle stream of the Pipeline.'),
          subjectPrefix: str('Subject prefix of the shuffle stream.', { minLength: 1, maxLength: 200 }),
        },
        { required: ['stream', 'subjectPrefix'] },
      ),
      processing: obj(
        'ProcessorProcessing',
        'How the processor pulls and bounds its work.',
        {
          pullBatch: int('Messages requested per pull from JetStream.', {
            minimum: 1,
            maximum: 10000,
            default: 256,
          }),
          maxInFlight: int(
            'Events taken but not yet acked by this replica; at most delivery.maxAckPending (its default).',
            { minimum: 1, maximum: 100000 },
          ),
          lagInterval: duration('How often consumer lag is read from JetStream.', { default: '5s' }),
        },
        { default: {} },
      ),
      ops: opsListener('OpsListener'),
      fastPaths,
      shutdownGracePeriod: duration(
        'Longest a SIGTERM drain may take before the process exits anyway (unacked events are redelivered).',
        { default: '25s' },
      ),
      logLevel,
    },
    { required: ['nats', 'sources', 'outputs', 'deadLetter'] },
  ) as ConfigDefinition['schema'],
  embeds: [
    { at: ['outputs', '[]', 'sink'], kind: sink, from: ['spec'] },
    { at: ['delivery'], kind: pipeline, from: ['spec', 'delivery'] },
    { at: ['queries'], kind: pipeline, from: ['spec', 'queries'] },
  ],
};

/** An output and its Sink, as other workloads that write to a Pipeline's outputs embed it. */
export const processorOutput = output;

/** The files of a Sink's mounted Secrets, as other workloads that connect to a Sink embed them. */
export const processorOutputCredentials = credentials;
