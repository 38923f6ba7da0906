// The ingest config file (`eventrunner ingest --config <file>`, documented in
// runtime/ingest/README.md), which the operator renders from an EventSource. It embeds the
// EventSource's conversion schema; the generated IngestConfig type and the validator in
// api/validate-config.ts come from it.
import { conversion } from '../eventsource.js';
import { anyOf, bool, bytes, int, map, num, obj, str } from '../dsl.js';
import { eventSource } from '../eventsource.js';
import { file, logLevel, natsConnection, opsListener, type ConfigDefinition } from './common.js';

function listener(name: string, protocol: string, port: number) {
  return obj(
    name,
    `${protocol} listener.`,
    {
      enabled: bool(`Serve ${protocol}.`, { default: true }),
      host: str('Address to bind.', { minLength: 1, maxLength: 256, default: '0.0.0.0' }),
      port: int('Port; 0 picks a free one.', { minimum: 0, maximum: 65535, default: port }),
    },
    { default: {} },
  );
}

export const ingestConfig: ConfigDefinition = {
  schema: obj(
    'IngestConfig',
    'Configuration of an EventSource’s ingest pods.',
    {
      nats: natsConnection,
      stream: obj(
        'IngestStream',
        'The JetStream stream events are published to.',
        {
          name: str('JetStream stream name.', { minLength: 1, maxLength: 253, pattern: '^[^.*>\\s/\\\\]+$' }),
          subjectPrefix: str('Events go to <subjectPrefix>.<type>.', { minLength: 1, maxLength: 253 }),
        },
        { required: ['name', 'subjectPrefix'] },
      ),
      http: listener('IngestHttpListener', 'HTTP', 8080),
      grpc: listener('IngestGrpcListener', 'gRPC', 9090),
      tls: obj(
        'IngestTls',
        'Serve the HTTP and gRPC listeners over TLS (not the ops listener).',
        {
          certFile: file('PEM certificate chain of the listeners.'),
          keyFile: file('PEM private key of the certificate.'),
        },
        { required: ['certFile', 'keyFile'] },
      ),
      ops: opsListener('OpsListener'),
      auth: obj(
        'IngestAuth',
        'Bearer-token authentication of producers.',
        {
          enabled: bool('Require a token; false accepts anyone (client "anonymous").', { default: true }),
          tokensFile: file('File of accepted tokens, one per line (`<token>` or `<client>: <token>`).'),
          reloadIntervalMs: int('How often the tokens file is re-read, in ms.', {
            minimum: 100,
            maximum: 3600000,
            default: 10000,
          }),
        },
        { default: {} },
      ),
      limits: obj(
        'IngestLimits',
        'What one request and one client may send.',
        {
          maxBodyBytes: bytes('Largest accepted request body, e.g. 1Mi.', { default: '1Mi' }),
          maxBatchEvents: int('Most events in one request.', { minimum: 1, maximum: 100000, default: 1000 }),
          ratePerSecond: num('Events per second per client; 0: unlimited.', { minimum: 0, default: 0 }),
          burst: int('Events a client may send at once; default: max(maxBatchEvents, ratePerSecond).', {
            minimum: 1,
          }),
        },
        { default: {} },
      ),
      conversion,
      eventSource: obj(
        'IngestEventSource',
        'The EventSource these pods serve, named in the OpenAPI and AsyncAPI documents ingest serves.',
        {
          namespace: str('Namespace of the EventSource.', { minLength: 1, maxLength: 63 }),
          name: str('Name of the EventSource.', { minLength: 1, maxLength: 253 }),
          httpUrl: str(
            'Base URL producers reach the HTTP ingest at, e.g. http://shop-ingest.default.svc:8080.',
            {
              minLength: 1,
              maxLength: 2048,
            },
          ),
        },
        { required: ['namespace', 'name'] },
      ),
      schemaSet: obj(
        'IngestSchemaSet',
        'A schema-set file (JSON, docs/schemas.md): the versioned JSON Schemas per event type or prefix that the operator renders from spec.schemas. Re-read when it changes, so a new schema version needs no restart.',
        {
          file: file('Path of the schema-set file.'),
          reloadIntervalMs: int('How often the file is checked for changes, in ms.', {
            minimum: 100,
            maximum: 3600000,
            default: 2000,
          }),
        },
        { required: ['file'] },
      ),
      schemas: map(
        'Event type (or a prefix ending in `.>`, or `>`) → JSON Schema (draft 2020-12) for `data`: inline, or the path of a JSON/YAML file. Fixed for the life of the process; the schema set wins for a type both name.',
        anyOf('A JSON Schema object or boolean, or a file path.', [
          { type: 'object' },
          { type: 'boolean' },
          { type: 'string', minLength: 1 },
        ]),
        { default: {} },
      ),
      publish: obj(
        'IngestPublish',
        'Asynchronous publishing to JetStream.',
        {
          maxInFlight: int('Publishes awaiting their ack at once.', {
            minimum: 1,
            maximum: 65536,
            default: 1024,
          }),
          timeoutMs: int('How long a publish may wait for its ack, in ms.', { minimum: 100, default: 5000 }),
          maxQueued: int('Events queued behind maxInFlight before requests are refused.', {
            minimum: 0,
            default: 16384,
          }),
        },
        { default: {} },
      ),
      drain: obj(
        'IngestDrain',
        'Shutdown on SIGTERM.',
        { timeoutMs: int('Longest the drain may take, in ms.', { minimum: 0, default: 25000 }) },
        { default: {} },
      ),
      logLevel,
    },
    { required: ['nats', 'stream'] },
  ) as ConfigDefinition['schema'],
  embeds: [{ at: ['conversion'], kind: eventSource, from: ['spec', 'conversion'] }],
};
