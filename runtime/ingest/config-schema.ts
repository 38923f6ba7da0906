// The JSON Schema of the ingest configuration file (documented in README.md). Defaults live here,
// so a config with only the required fields is complete after validation.

const pointer = {
  type: 'string',
  pattern: '^(/([^~]|~[01])*)*$',
  description: 'RFC 6901 JSON pointer, e.g. /eventType',
} as const;

const size = {
  description: 'Bytes: an integer or a quantity such as 512Ki, 1Mi, 10M',
  oneOf: [
    { type: 'integer', minimum: 1 },
    { type: 'string', pattern: '^[0-9]+(\\.[0-9]+)?(Ki|Mi|Gi|k|K|M|G)?$' },
  ],
} as const;

function listener(defaultPort: number) {
  return {
    type: 'object',
    additionalProperties: false,
    default: {},
    properties: {
      enabled: { type: 'boolean', default: true },
      host: { type: 'string', minLength: 1, default: '0.0.0.0' },
      port: { type: 'integer', minimum: 0, maximum: 65535, default: defaultPort },
    },
  } as const;
}

export const ingestConfigSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['nats', 'stream'],
  properties: {
    nats: {
      type: 'object',
      additionalProperties: false,
      required: ['url'],
      properties: {
        url: { type: 'string', minLength: 1, description: 'nats://host:port, comma-separated for several' },
        credentialsFile: { type: 'string', minLength: 1, description: 'NATS .creds file (JWT + nkey seed)' },
        name: { type: 'string', minLength: 1, default: 'eventrunner-ingest' },
      },
    },
    stream: {
      type: 'object',
      additionalProperties: false,
      required: ['name', 'subjectPrefix'],
      properties: {
        name: { type: 'string', pattern: '^[^.*>\\s/\\\\]+$', description: 'JetStream stream name' },
        subjectPrefix: { type: 'string', minLength: 1, description: 'events go to <subjectPrefix>.<type>' },
      },
    },
    http: listener(8080),
    grpc: listener(9090),
    ops: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        host: { type: 'string', minLength: 1, default: '0.0.0.0' },
        port: { type: 'integer', minimum: 0, maximum: 65535, default: 8081 },
      },
    },
    auth: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        enabled: { type: 'boolean', default: true },
        tokensFile: { type: 'string', minLength: 1 },
        reloadIntervalMs: { type: 'integer', minimum: 100, default: 10000 },
      },
    },
    limits: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        maxBodyBytes: { ...size, default: '1Mi' },
        maxBatchEvents: { type: 'integer', minimum: 1, default: 1000 },
        ratePerSecond: { type: 'number', minimum: 0, default: 0, description: '0: unlimited' },
        burst: { type: 'integer', minimum: 1 },
      },
    },
    conversion: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        defaultType: { type: 'string', minLength: 1, default: 'io.eventrunner.raw' },
        typeFrom: pointer,
        defaultSource: { type: 'string', minLength: 1 },
        sourceFrom: pointer,
        idFrom: pointer,
        subjectFrom: pointer,
        timeFrom: pointer,
      },
    },
    schemas: {
      type: 'object',
      default: {},
      description: 'event type → JSON Schema (inline object) or path of a JSON/YAML schema file',
      additionalProperties: {
        oneOf: [{ type: 'object' }, { type: 'boolean' }, { type: 'string', minLength: 1 }],
      },
    },
    publish: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        maxInFlight: { type: 'integer', minimum: 1, maximum: 65536, default: 1024 },
        timeoutMs: { type: 'integer', minimum: 100, default: 5000 },
        maxQueued: { type: 'integer', minimum: 0, default: 16384 },
      },
    },
    drain: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        timeoutMs: { type: 'integer', minimum: 0, default: 25000 },
      },
    },
    logLevel: {
      enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
      default: 'info',
    },
  },
} as const;
