// JSON schema of the processor's config file (`eventrunner process --config <file>`), which the
// operator renders from a Pipeline, its EventSources and its Sinks. Each output embeds its Sink's
// spec unchanged; that part is checked by the API's own Sink validator (see config.ts).
import { DURATION_PATTERN, JSON_POINTER_PATTERN } from '../../api/schema/dsl.js';

const duration = { type: 'string', pattern: DURATION_PATTERN } as const;
const pointer = { type: 'string', pattern: JSON_POINTER_PATTERN } as const;
const name = { type: 'string', minLength: 1, maxLength: 253 } as const;
const file = { type: 'string', minLength: 1 } as const;

export const processConfigSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['nats', 'sources', 'outputs', 'deadLetter'],
  properties: {
    pipeline: {
      type: 'object',
      additionalProperties: false,
      description: 'Identity of the Pipeline, for logs and metrics.',
      properties: {
        namespace: { type: 'string', default: 'default' },
        name: { type: 'string', default: 'pipeline' },
      },
      default: {},
    },
    nats: {
      type: 'object',
      additionalProperties: false,
      required: ['url'],
      properties: {
        url: { type: 'string', pattern: '^(nats|tls)://' },
        /** Files of a mounted Secret; never logged. */
        tokenFile: file,
        userFile: file,
        passwordFile: file,
      },
    },
    sources: {
      type: 'array',
      minItems: 1,
      maxItems: 16,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['stream', 'consumer'],
        properties: {
          /** Name of the EventSource, for logs and metrics. */
          eventSource: name,
          stream: name,
          consumer: name,
          /** The EventSource's spec.conversion, for raw JSON messages. */
          conversion: {
            type: 'object',
            additionalProperties: false,
            properties: {
              defaultType: { type: 'string', minLength: 1, default: 'io.eventrunner.raw' },
              typeFrom: pointer,
              defaultSource: { type: 'string', minLength: 1 },
              sourceFrom: pointer,
              idFrom: pointer,
              subjectFrom: pointer,
              timeFrom: pointer,
            },
            default: {},
          },
        },
      },
    },
    rules: {
      type: 'object',
      additionalProperties: false,
      properties: {
        /** GRL text; or `file`, a path to it. */
        source: { type: 'string', maxLength: 262144 },
        file,
        mode: { enum: ['once', 'refire'], default: 'once' },
        maxCycles: { type: 'integer', minimum: 1, maximum: 1000000, default: 5000 },
      },
      default: {},
    },
    outputs: {
      type: 'array',
      minItems: 1,
      maxItems: 32,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'sink'],
        properties: {
          name: { type: 'string', pattern: '^[a-zA-Z][a-zA-Z0-9_-]*$', maxLength: 63 },
          /** A Sink's spec (scylla or clickhouse, columns). */
          sink: { type: 'object' },
          /** Files of mounted Secrets: username and password together, a CA bundle with or without them. */
          credentials: {
            type: 'object',
            additionalProperties: false,
            minProperties: 1,
            dependencies: { usernameFile: ['passwordFile'], passwordFile: ['usernameFile'] },
            properties: { usernameFile: file, passwordFile: file, caFile: file },
          },
          /** Cassandra: upserts in flight at once. */
          writeConcurrency: { type: 'integer', minimum: 1, maximum: 4096, default: 64 },
          /** Writes of one batch each running at once. */
          maxConcurrentBatches: { type: 'integer', minimum: 1, maximum: 64 },
        },
      },
    },
    /** Omitted: every output; empty: events no rule routed are dropped. */
    defaultOutputs: { type: 'array', items: { type: 'string' }, uniqueItems: true },
    delivery: {
      type: 'object',
      additionalProperties: false,
      properties: {
        maxDeliver: { type: 'integer', minimum: 1, maximum: 1000, default: 5 },
        backoff: { type: 'array', items: duration, maxItems: 20, default: [] },
        maxAckPending: { type: 'integer', minimum: 1, maximum: 100000, default: 1000 },
      },
      default: {},
    },
    deadLetter: {
      type: 'object',
      additionalProperties: false,
      required: ['stream', 'subject'],
      properties: { stream: name, subject: name },
    },
    processing: {
      type: 'object',
      additionalProperties: false,
      properties: {
        /** Messages requested per pull from JetStream. */
        pullBatch: { type: 'integer', minimum: 1, maximum: 10000, default: 256 },
        /** Events taken but not yet acked by this replica; at most delivery.maxAckPending. */
        maxInFlight: { type: 'integer', minimum: 1, maximum: 100000 },
        /** How often consumer lag is read from JetStream. */
        lagInterval: { ...duration, default: '5s' },
      },
      default: {},
    },
    ops: {
      type: 'object',
      additionalProperties: false,
      properties: {
        port: { type: 'integer', minimum: 0, maximum: 65535, default: 8081 },
        host: { type: 'string' },
      },
      default: {},
    },
    /** Longest a SIGTERM drain may take before the process exits anyway (unacked events are redelivered). */
    shutdownGracePeriod: { ...duration, default: '25s' },
    logLevel: { enum: ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'], default: 'info' },
  },
} as const;
