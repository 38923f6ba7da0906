// The query worker's config file (`eventrunner query-worker --config <file>`), which the operator
// renders from a Pipeline with queries. It embeds the Pipeline's query schema and the processor's
// output schema (the Sink spec with its credentials) instead of restating them.
import { arr, duration, int, obj, str } from '../dsl.js';
import { pipeline, pipelineQuery, pipelineTable, SQL_NAME_PATTERN } from '../pipeline.js';
import { sink, sinkSpec } from '../sink.js';
import { fastPaths, logLevel, natsConnection, opsListener, type ConfigDefinition } from './common.js';
import { processorOutput, processorOutputCredentials } from './processor.js';

const jetStreamName = (description: string) =>
  str(description, { minLength: 1, maxLength: 253, pattern: '^[^.*>\\s/\\\\]+$' });

// A lookup table: the Pipeline's spec.tables entry with the Sink it names, how to log in to it,
// and how hard the lookups of one fetched batch may press on the database.
const table = obj(
  'QueryWorkerTable',
  'A lookup table of the Pipeline (spec.tables) and the Sink whose table holds its rows.',
  {
    ...pipelineTable.properties,
    sink: sinkSpec,
    credentials: processorOutputCredentials,
    concurrency: int('Lookups of one batch in flight at once.', { minimum: 1, maximum: 1024, default: 32 }),
  },
  { required: ['name', 'key', 'sink'] },
);

export const queryWorkerConfig: ConfigDefinition = {
  schema: obj(
    'QueryWorkerConfig',
    'Configuration of a Pipeline’s query workers.',
    {
      pipeline: obj(
        'QueryWorkerPipeline',
        'Identity of the Pipeline: part of result ids and sources.',
        {
          namespace: str('Namespace of the Pipeline.', { default: 'default' }),
          name: str('Name of the Pipeline.', { default: 'pipeline' }),
        },
        { default: {} },
      ),
      workerId: str('This worker’s identity in partition leases. Default: the host name and process id.', {
        minLength: 1,
        maxLength: 253,
      }),
      nats: natsConnection,
      sources: arr(
        'The names queries use for the Pipeline’s sources (FROM …).',
        str('A source name.', { minLength: 1, maxLength: 63, pattern: SQL_NAME_PATTERN }),
        { minItems: 1, maxItems: 16 },
      ),
      queries: arr('The Pipeline’s queries.', pipelineQuery, { minItems: 1, maxItems: 16 }),
      outputs: arr('Outputs results can be written to.', processorOutput, { minItems: 1, maxItems: 32 }),
      tables: arr('Lookup tables the queries join (spec.tables), with their Sinks.', table, { maxItems: 16 }),
      shuffle: obj(
        'QueryWorkerShuffle',
        'The shuffle stream the processors publish query inputs to, subject <subjectPrefix>.<query>.<partition>.',
        {
          stream: jetStreamName('Shuffle stream of the Pipeline.'),
          subjectPrefix: str('Subject prefix of the shuffle stream.', { minLength: 1, maxLength: 200 }),
        },
        { required: ['stream', 'subjectPrefix'] },
      ),
      state: obj(
        'QueryWorkerState',
        'Where partition leases and checkpoints live.',
        {
          bucket: str('NATS KV bucket of the Pipeline’s leases and checkpoints.', {
            minLength: 1,
            maxLength: 200,
            pattern: '^[-\\w]+$',
          }),
          leaseDuration: duration(
            'How long a partition stays with an owner that stopped renewing its lease; failover takes about this long.',
            { default: '10s' },
          ),
          checkpointInterval: duration(
            'Longest time between checkpoints of a partition that received input.',
            {
              default: '2s',
            },
          ),
          checkpointEvery: int(
            'Inputs after which a partition checkpoints without waiting for the interval.',
            {
              minimum: 1,
              maximum: 1000000,
              default: 5000,
            },
          ),
        },
        { required: ['bucket'] },
      ),
      deadLetter: obj(
        'QueryWorkerDeadLetter',
        'Where late events go, with reason `late` and the query in headers.',
        {
          stream: jetStreamName('Dead-letter stream of the Pipeline.'),
          subject: str('Subject dead letters are published to.', { minLength: 1, maxLength: 253 }),
        },
        { required: ['stream', 'subject'] },
      ),
      processing: obj(
        'QueryWorkerProcessing',
        'How a partition pulls its input.',
        {
          pullBatch: int('Messages requested per pull from the shuffle stream.', {
            minimum: 1,
            maximum: 10000,
            default: 1000,
          }),
          tickInterval: duration('How often idle partitions advance their watermark.', { default: '1s' }),
        },
        { default: {} },
      ),
      ops: opsListener('QueryWorkerOps'),
      fastPaths,
      shutdownGracePeriod: duration(
        'Longest a SIGTERM drain may take: results written, a last checkpoint, leases released.',
        { default: '25s' },
      ),
      logLevel,
    },
    { required: ['nats', 'sources', 'queries', 'outputs', 'shuffle', 'state', 'deadLetter'] },
  ) as ConfigDefinition['schema'],
  embeds: [
    { at: ['outputs', '[]', 'sink'], kind: sink, from: ['spec'] },
    { at: ['tables', '[]', 'sink'], kind: sink, from: ['spec'] },
    { at: ['queries'], kind: pipeline, from: ['spec', 'queries'] },
  ],
};
