// EventSource: a JetStream stream plus the ingest Deployment/Service that accepts events over
// HTTP and gRPC, turns raw JSON into CloudEvents 1.0 and publishes them with Nats-Msg-Id = event id.
import {
  ageColumn,
  conditionsSchema,
  observedGenerationSchema,
  readyColumn,
  resources,
  objectName,
  workloadNameRule,
  type KindDefinition,
} from './common.js';
import {
  arr,
  bool,
  bytes,
  celIsDuration,
  duration,
  enumOf,
  int,
  JSON_POINTER_PATTERN,
  obj,
  str,
  type Schema,
} from './dsl.js';

function port(name: string, protocol: string, def: number): Schema {
  return obj(
    name,
    `${protocol} listener of the ingest pods.`,
    {
      enabled: bool(`Serve ${protocol}. At least one of http and grpc must be enabled.`, { default: true }),
      port: int(`Container and Service port for ${protocol}.`, { minimum: 1, maximum: 65535, default: def }),
    },
    { default: {} },
  );
}

function pointer(description: string): Schema {
  return str(description, { pattern: JSON_POINTER_PATTERN, maxLength: 256 });
}

/** A CloudEvents type that is also valid as NATS subject tokens (types become subjects). */
export const EVENT_TYPE_PATTERN = '^[^\\s.*>]+(\\.[^\\s.*>]+)*$';

const tokensRef = obj(
  'TokensSecretRef',
  'Secret holding the accepted tokens; required while auth is enabled. Tokens are rotated by editing the Secret; no restart is needed.',
  {
    name: objectName('Name of a Secret in the same namespace.'),
    key: str(
      'Key of the Secret holding the tokens: one per line, either `<token>` or `<client>: <token>` (the client name labels rate limits and metrics); lines starting with # are comments.',
      { default: 'tokens', maxLength: 253, pattern: '^[-._a-zA-Z0-9]+$' },
    ),
  },
  { required: ['name'] },
);

const ingest = obj(
  'EventSourceIngest',
  'The ingest Deployment and Service that accept events and publish them to the stream.',
  {
    http: port('EventSourceHttp', 'HTTP', 8080),
    grpc: port('EventSourceGrpc', 'gRPC', 9090),
    replicas: int('Number of ingest pods.', { minimum: 0, maximum: 100, default: 1 }),
    auth: obj(
      'EventSourceAuth',
      'Bearer-token authentication of producers.',
      {
        enabled: bool(
          'Require an `Authorization: Bearer <token>` header (gRPC: `authorization` metadata) on every request. Set to false only for trusted networks.',
          { default: true },
        ),
        tokensSecretRef: tokensRef,
      },
      { default: {} },
    ),
    maxBatchEvents: int('Most events accepted in one request (a JSON array or a CloudEvents batch).', {
      minimum: 1,
      maximum: 100000,
      default: 1000,
    }),
    rateLimit: obj(
      'EventSourceRateLimit',
      'Token-bucket limit per client (per token); requests over it get HTTP 429 / gRPC RESOURCE_EXHAUSTED.',
      {
        eventsPerSecond: int('Events per second each client may send; 0 disables the limit.', {
          minimum: 0,
          maximum: 1000000,
          default: 0,
        }),
        burst: int(
          'Events a client may send at once above the rate; default: max(maxBatchEvents, eventsPerSecond).',
          {
            minimum: 1,
            maximum: 10000000,
          },
        ),
      },
      { default: {} },
    ),
    maxBodyBytes: bytes(
      'Largest accepted request body (one event or one batch), e.g. 1Mi; larger requests get HTTP 413 / gRPC RESOURCE_EXHAUSTED.',
      { default: '1Mi' },
    ),
    tls: obj(
      'EventSourceIngestTls',
      'Serve HTTP and gRPC over TLS (HTTPS, gRPC with TLS) with the certificate of a Secret, e.g. one cert-manager keeps renewed; a renewed certificate rolls the ingest pods.',
      {
        secretName: objectName(
          'Name of a Secret in the same namespace with tls.crt (the certificate chain, PEM) and tls.key (its private key, PEM): a kubernetes.io/tls Secret.',
        ),
      },
      { required: ['secretName'] },
    ),
    resources: resources('IngestResources', 'ingest'),
  },
  {
    default: {},
    'x-kubernetes-validations': [
      {
        $id: 'es-ingest-protocol',
        rule: 'self.http.enabled || self.grpc.enabled',
        message: 'at least one of http and grpc must be enabled',
      },
      {
        $id: 'es-ingest-burst',
        rule: 'self.rateLimit.eventsPerSecond == 0 || !has(self.rateLimit.burst) || self.rateLimit.burst >= self.maxBatchEvents',
        message: 'rateLimit.burst must be at least maxBatchEvents, or no full batch could ever pass',
        fieldPath: '.rateLimit.burst',
      },
      {
        $id: 'es-ingest-ports',
        rule: '!self.http.enabled || !self.grpc.enabled || self.http.port != self.grpc.port',
        message: 'http.port and grpc.port must differ',
        fieldPath: '.grpc.port',
      },
    ],
  },
);

export const conversion = obj(
  'EventSourceConversion',
  'How a raw JSON body becomes a CloudEvent. Bodies that already are CloudEvents (structured mode, or binary mode with ce-* headers) are used as they are.',
  {
    defaultType: str('CloudEvents `type` when typeFrom is unset or finds nothing.', {
      default: 'io.eventrunner.raw',
      minLength: 1,
      maxLength: 256,
      pattern: EVENT_TYPE_PATTERN,
      $hint: 'a CloudEvents type usable as NATS subject tokens: dot-separated, no spaces, * or >',
    }),
    typeFrom: pointer('JSON pointer into the body whose string value becomes the CloudEvents `type`.'),
    defaultSource: str(
      'CloudEvents `source` when sourceFrom is unset or finds nothing. Defaults to /eventsources/<namespace>/<name>.',
      { minLength: 1, maxLength: 512 },
    ),
    sourceFrom: pointer('JSON pointer into the body whose string value becomes the CloudEvents `source`.'),
    idFrom: pointer(
      'JSON pointer to a producer-assigned id. Retries carrying the same id are deduplicated within stream.duplicateWindow; without it every request gets a fresh UUID.',
    ),
    subjectFrom: pointer('JSON pointer whose value becomes the CloudEvents `subject`.'),
    timeFrom: pointer(
      'JSON pointer to an RFC 3339 timestamp that becomes the CloudEvents `time`; default: arrival time.',
    ),
  },
  { default: {} },
);

const stream = obj(
  'EventSourceStream',
  'The JetStream stream that stores accepted events until every Pipeline has consumed them.',
  {
    maxAge: duration('Discard events older than this, e.g. 72h; 0 keeps them until maxBytes is reached.', {
      default: '72h',
    }),
    maxBytes: bytes('Largest size of the stream, e.g. 10Gi; the oldest events are discarded beyond it.', {
      default: '1Gi',
    }),
    replicas: int(
      'Copies of the stream kept by the NATS cluster (1 on a single server, 3 for fault tolerance).',
      {
        minimum: 1,
        maximum: 5,
        default: 1,
      },
    ),
    storage: enumOf(
      'Where the stream keeps its data: file (durable) or memory (lost when NATS restarts). Immutable: JetStream cannot move a stream between storage types.',
      ['file', 'memory'],
      {
        default: 'file',
        'x-kubernetes-validations': [
          {
            $id: 'es-storage-immutable',
            rule: 'self == oldSelf',
            message: 'storage is immutable; create a new EventSource to change it',
            $transition: true,
          },
        ],
      },
    ),
    duplicateWindow: duration(
      'Window in which a second event with the same id is dropped as a duplicate (Nats-Msg-Id); at most maxAge. The operator widens it to the redelivery window (delivery.maxDeliver × (ackWait + longest backoff)) of Pipelines publishing here, within maxAge.',
      { default: '2m' },
    ),
  },
  {
    default: {},
    'x-kubernetes-validations': [
      {
        $id: 'es-duplicate-window',
        rule:
          `!${celIsDuration('self.maxAge')} || !${celIsDuration('self.duplicateWindow')} || ` +
          "duration(self.maxAge) == duration('0s') || duration(self.duplicateWindow) <= duration(self.maxAge)",
        message: 'duplicateWindow must not be longer than maxAge',
        fieldPath: '.duplicateWindow',
      },
    ],
  },
);

/** An exact CloudEvents type, a prefix ending in `.>` (every type below it), or `>` (every type). */
export const SCHEMA_TYPE_PATTERN = '^([^\\s.*>]+(\\.[^\\s.*>]+)*(\\.>)?|>)$';

const schemaEntry = obj(
  'EventSourceSchema',
  'The JSON Schema (draft 2020-12) that the `data` of events of one type, or of every type under a prefix, must satisfy. Ingest refuses other events with 400 and sets `dataschema` on those it accepts.',
  {
    type: str(
      'Event type this schema applies to: an exact type (com.shop.order.created), a prefix ending in `.>` (com.shop.order.> for every type below com.shop.order), or `>` for every type. An exact type wins over a prefix, a longer prefix over a shorter one.',
      {
        minLength: 1,
        maxLength: 256,
        pattern: SCHEMA_TYPE_PATTERN,
        $hint: 'an event type such as com.shop.order.created, a prefix such as com.shop.order.>, or >',
      },
    ),
    schema: {
      type: 'object',
      description:
        'The JSON Schema, inline (draft 2020-12; `$ref` only to `#/...` inside it). Set this or configMapKeyRef.',
      'x-kubernetes-preserve-unknown-fields': true,
    },
    configMapKeyRef: obj(
      'SchemaConfigMapKeyRef',
      'A key of a ConfigMap in the same namespace holding the JSON Schema as JSON or YAML. Label the ConfigMap `eventrunner.io/schemas: "true"` and changes to it take effect at once; unlabelled ones are re-read at each resync.',
      {
        name: objectName('Name of a ConfigMap in the same namespace.'),
        key: str('Key of the ConfigMap holding the schema.', {
          minLength: 1,
          maxLength: 253,
          pattern: '^[-._a-zA-Z0-9]+$',
        }),
      },
      { required: ['name', 'key'] },
    ),
    compatibility: enumOf(
      'Backward: a changed schema must accept every event the accepted version accepts, or it is refused (SchemasValid=False) and the accepted version keeps serving. None: any valid change is accepted.',
      ['Backward', 'None'],
      { default: 'Backward' },
    ),
  },
  {
    required: ['type'],
    'x-kubernetes-validations': [
      {
        $id: 'es-schema-source',
        rule: 'has(self.schema) != has(self.configMapKeyRef)',
        message: 'set exactly one of schema (inline) and configMapKeyRef',
      },
    ],
  },
);

const schemas = arr(
  'JSON Schemas for the `data` of events, per event type or type prefix (docs/schemas.md).',
  schemaEntry,
  {
    maxItems: 64,
    'x-kubernetes-list-type': 'map',
    'x-kubernetes-list-map-keys': ['type'],
    'x-kubernetes-validations': [
      {
        $id: 'es-schema-types-unique',
        rule: 'self.all(a, self.exists_one(b, b.type == a.type))',
        message: 'each type may appear once in schemas',
      },
    ],
  },
);

const spec = obj(
  'EventSourceSpec',
  'Desired state of the EventSource.',
  {
    ingest,
    conversion,
    schemas,
    stream,
    suspend: bool(
      'Refuse new events: ingest answers 503 (gRPC UNAVAILABLE) with Retry-After and a message saying the EventSource is suspended, within seconds and without restarting its pods; the stream and the events it holds stay. false again accepts events.',
      { default: false },
    ),
    deletionPolicy: enumOf(
      'What happens to the stream and its events when the EventSource is deleted: Delete removes it, Retain leaves it in NATS.',
      ['Delete', 'Retain'],
      { default: 'Delete' },
    ),
  },
  {
    // On spec rather than on ingest.auth: the defaulted auth ({enabled: true}) fails it on purpose,
    // and the API server refuses a default that fails its own rules.
    'x-kubernetes-validations': [
      {
        $id: 'es-auth-secret',
        rule: '!self.ingest.auth.enabled || has(self.ingest.auth.tokensSecretRef)',
        message:
          'ingest.auth.tokensSecretRef is required while ingest.auth.enabled is true (set it to false to accept unauthenticated events)',
        fieldPath: '.ingest.auth.tokensSecretRef',
        reason: 'FieldValueRequired',
      },
    ],
  },
);

const status = obj('EventSourceStatus', 'Observed state of the EventSource, written by the operator.', {
  observedGeneration: observedGenerationSchema,
  conditions: conditionsSchema,
  stream: obj('EventSourceStreamStatus', 'The JetStream stream as last observed.', {
    name: str('Name of the stream in NATS, derived from namespace and name.'),
    messages: int('Events currently stored.', { minimum: 0, format: 'int64' }),
    bytes: int('Bytes currently stored.', { minimum: 0, format: 'int64' }),
  }),
  endpoints: obj('EventSourceEndpoints', 'In-cluster addresses producers send events to.', {
    http: str('HTTP endpoint, e.g. http://shop-ingest.default.svc:8080/events.'),
    grpc: str('gRPC endpoint (host:port).'),
  }),
  schemas: arr(
    'The schema versions ingest serves, one per entry of spec.schemas that was ever accepted: the operator compares a changed schema with the version here, and keeps serving it when the change is refused.',
    obj(
      'EventSourceSchemaStatus',
      'One accepted schema version.',
      {
        type: str('The event type or prefix, as in spec.schemas.'),
        version: int('1 for the first accepted schema, +1 for each accepted change.', { minimum: 1 }),
        id: str('What ingest sets as `dataschema` on events this version accepted.'),
        digest: str('sha256 of the schema as canonical JSON.'),
        schema: str('The accepted JSON Schema as canonical JSON.'),
      },
      { required: ['type', 'version', 'id', 'digest', 'schema'] },
    ),
    { 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] },
  ),
  ingest: obj('EventSourceIngestStatus', 'The ingest Deployment as last observed.', {
    replicas: int('Ingest pods that exist.', { minimum: 0 }),
    readyReplicas: int('Ingest pods that are ready.', { minimum: 0 }),
  }),
});

export const eventSource: KindDefinition = {
  kind: 'EventSource',
  plural: 'eventsources',
  singular: 'eventsource',
  shortNames: ['es'],
  description:
    'EventSource accepts events over HTTP and gRPC, converts them to CloudEvents and stores them in a JetStream stream that Pipelines consume.',
  spec,
  status,
  rootValidations: [workloadNameRule('es-name', 'ingest Service and Deployment')],
  printerColumns: [
    readyColumn(),
    {
      name: 'Stream',
      type: 'string',
      jsonPath: '.status.stream.name',
      description: 'JetStream stream name.',
    },
    {
      name: 'Endpoint',
      type: 'string',
      jsonPath: '.status.endpoints.http',
      description: 'HTTP ingest endpoint.',
    },
    ageColumn(),
  ],
};
