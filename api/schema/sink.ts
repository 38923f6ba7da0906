// Sink: a checked connection to one ScyllaDB/Cassandra table, one ClickHouse table, one HTTP
// webhook, or another EventSource's stream. Writes are idempotent by CloudEvent id (an upsert, a
// ReplacingMergeTree, the event id a webhook receives, Nats-Msg-Id), so redeliveries never
// create a second row or a second stream message.
import {
  ageColumn,
  conditionsSchema,
  credentialsRef,
  observedGenerationSchema,
  readyColumn,
  secretKeyRef,
  objectName,
  type KindDefinition,
} from './common.js';
import {
  arr,
  bool,
  celIsDuration,
  duration,
  enumOf,
  int,
  JSON_POINTER_PATTERN,
  map,
  obj,
  str,
  type Schema,
} from './dsl.js';

/** Unquoted identifiers valid in both CQL (max 48 characters) and ClickHouse. */
export const IDENTIFIER_PATTERN = '^[a-zA-Z][a-zA-Z0-9_]*$';
/** Columns every table has; typed columns may not reuse these names. */
export const STANDARD_COLUMNS = ['id', 'type', 'source', 'subject', 'time', 'data'] as const;
export const COLUMN_TYPES = [
  'text',
  'int',
  'bigint',
  'double',
  'decimal',
  'boolean',
  'timestamp',
  'date',
  'uuid',
  'json',
] as const;

/** Message of the CEL rule (and its offline twin) that a CA or skip-verify needs tls.enabled. */
export const SCYLLA_TLS_NEEDS_ENABLED =
  'tls.caSecretRef or tls.insecureSkipVerify is set, but tls.enabled is false: set it to true to connect with TLS, or remove the TLS settings';

/** Message of the CEL rule (and its offline twin) that TLS settings need an https:// ClickHouse URL. */
export const CLICKHOUSE_TLS_NEEDS_HTTPS =
  "tls settings ask for TLS, but url is http://: use https:// and the server's https_port (usually 8443)";

export const EXACTLY_ONE_KIND = 'exactly one of scylla, clickhouse, http or eventSource must be set';
export const COLUMNS_NEED_TABLE =
  'columns apply to table Sinks (scylla, clickhouse) only; remove them from this Sink';

/** Message of the CEL rule (and its offline twin) that HTTP TLS settings need an https:// URL. */
export const HTTP_TLS_NEEDS_HTTPS = 'tls settings ask for TLS, but url is http://: use an https:// URL';

/** Request headers a webhook Sink sets itself; `headers` may not name them (nor any ce-* header). */
export const RESERVED_HTTP_HEADERS = [
  'authorization',
  'connection',
  'content-length',
  'content-type',
  'host',
  'transfer-encoding',
] as const;

/** Message of the CEL rule (and its offline twin) on reserved header names. */
export const HTTP_HEADER_RESERVED = `headers may not set ${RESERVED_HTTP_HEADERS.join(', ')} or ce-* headers: the Sink sets them (use auth for Authorization)`;

/** The Sink kinds, in the order their fields are declared. */
export const SINK_KINDS = ['scylla', 'clickhouse', 'http', 'eventSource'] as const;
export type SinkKind = (typeof SINK_KINDS)[number];

function identifier(description: string): Schema {
  return str(description, {
    minLength: 1,
    maxLength: 48,
    pattern: IDENTIFIER_PATTERN,
    $hint: 'an identifier of letters, digits and _, starting with a letter',
  });
}

function batch(name: string, rows: number, delay: string): Schema {
  return obj(
    name,
    'How writes are grouped: a batch is written when it holds maxRows events or its oldest event waited maxDelay.',
    {
      maxRows: int('Most events per write.', { minimum: 1, maximum: 100000, default: rows }),
      maxDelay: duration('Longest an event waits for its batch to fill, e.g. 1s.', { default: delay }),
    },
    { default: {} },
  );
}

function tls(name: string): Schema {
  return obj(name, 'TLS towards the database.', {
    enabled: bool('Connect with TLS.', { default: false }),
    caSecretRef: secretKeyRef(
      `${name}CaSecretRef`,
      'Secret with the CA certificate(s) that sign the server certificate; default: the system roots.',
      'Key holding the PEM bundle.',
      'ca.crt',
    ),
    insecureSkipVerify: bool('Accept any server certificate. For tests only.', { default: false }),
  });
}

const scylla = obj(
  'SinkScylla',
  'Write to a ScyllaDB or Apache Cassandra table over CQL; each event is an upsert keyed by its id.',
  {
    contactPoints: arr(
      'Initial nodes to contact, as host or host:port (default port 9042); the driver discovers the rest.',
      str('A host or host:port.', {
        minLength: 1,
        maxLength: 261,
        pattern: '^[A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?(:[0-9]{1,5})?$',
        $hint: 'a host name or IPv4 address, optionally with :port',
      }),
      { minItems: 1, maxItems: 16 },
    ),
    localDataCenter: str('Data center the driver prefers (load-balancing policy), e.g. dc1.', {
      minLength: 1,
      maxLength: 128,
    }),
    keyspace: identifier('Keyspace of the table.'),
    table: identifier('Table to write to.'),
    consistency: enumOf(
      'Consistency level of writes.',
      ['ANY', 'ONE', 'TWO', 'THREE', 'QUORUM', 'ALL', 'LOCAL_ONE', 'LOCAL_QUORUM', 'EACH_QUORUM'],
      { default: 'LOCAL_QUORUM' },
    ),
    credentialsSecretRef: credentialsRef('ScyllaCredentialsRef', 'CQL'),
    manageSchema: bool(
      'Create the keyspace (NetworkTopologyStrategy in localDataCenter) and table when missing. When false, they must exist with the expected columns; the Sink reports a mismatch.',
      { default: false },
    ),
    replicationFactor: int('Replicas per data center when manageSchema creates the keyspace.', {
      minimum: 1,
      maximum: 9,
      default: 3,
    }),
    ttl: duration('Rows expire after this long (CQL USING TTL), e.g. 720h; 0 keeps them forever.', {
      default: '0s',
    }),
    batch: batch('SinkScyllaBatch', 100, '50ms'),
    tls: tls('SinkScyllaTls'),
  },
  {
    required: ['contactPoints', 'localDataCenter', 'keyspace', 'table'],
    'x-kubernetes-validations': [
      {
        // Without enabled the driver would connect in plaintext and ignore the CA or skip-verify.
        $id: 'sk-scylla-tls-enabled',
        rule:
          '!has(self.tls) || (has(self.tls.enabled) && self.tls.enabled) || ' +
          '!(has(self.tls.caSecretRef) || (has(self.tls.insecureSkipVerify) && self.tls.insecureSkipVerify))',
        message: SCYLLA_TLS_NEEDS_ENABLED,
        fieldPath: '.tls.enabled',
      },
    ],
  },
);

const clickhouse = obj(
  'SinkClickHouse',
  'Write to a ClickHouse table over HTTP; the table is a ReplacingMergeTree on the event id, so redeliveries collapse.',
  {
    url: str('HTTP(S) endpoint of ClickHouse, e.g. http://clickhouse:8123.', {
      maxLength: 2048,
      pattern: '^https?://[^\\s/]+(/[^\\s]*)?$',
      $hint: 'an http:// or https:// URL',
    }),
    database: { ...identifier('Database of the table.'), default: 'default' },
    table: identifier('Table to write to.'),
    credentialsSecretRef: credentialsRef('ClickHouseCredentialsRef', 'ClickHouse'),
    manageSchema: bool(
      'Create the database and table when missing. When false, they must exist with the expected columns; the Sink reports a mismatch.',
      { default: false },
    ),
    batch: batch('SinkClickHouseBatch', 10000, '1s'),
    tls: tls('SinkClickHouseTls'),
  },
  {
    required: ['url', 'table'],
    'x-kubernetes-validations': [
      {
        // The URL's scheme decides TLS for ClickHouse; TLS settings on http:// would be ignored.
        $id: 'sk-clickhouse-tls-https',
        rule:
          "self.url.lowerAscii().startsWith('https://') || !has(self.tls) || " +
          '!((has(self.tls.enabled) && self.tls.enabled) || has(self.tls.caSecretRef) || ' +
          '(has(self.tls.insecureSkipVerify) && self.tls.insecureSkipVerify))',
        message: CLICKHOUSE_TLS_NEEDS_HTTPS,
        fieldPath: '.url',
      },
    ],
  },
);

const httpTls = obj('SinkHttpTls', 'TLS towards the endpoint; an https:// URL switches it on.', {
  caSecretRef: secretKeyRef(
    'SinkHttpTlsCaSecretRef',
    'Secret with the CA certificate(s) that sign the endpoint’s certificate; default: the system roots.',
    'Key holding the PEM bundle.',
    'ca.crt',
  ),
  insecureSkipVerify: bool('Accept any server certificate. For tests only.', { default: false }),
});

const httpAuth = obj(
  'SinkHttpAuth',
  'The Authorization header, from a Secret: exactly one of bearerTokenSecretRef and basicSecretRef.',
  {
    bearerTokenSecretRef: secretKeyRef(
      'SinkHttpBearerTokenRef',
      'Secret in the same namespace holding a token sent as Authorization: Bearer <token>.',
      'Key holding the token.',
      'token',
    ),
    basicSecretRef: credentialsRef('SinkHttpBasicRef', 'HTTP Basic'),
  },
  {
    'x-kubernetes-validations': [
      {
        $id: 'sk-http-auth-one',
        rule: 'has(self.bearerTokenSecretRef) != has(self.basicSecretRef)',
        message: 'auth needs exactly one of bearerTokenSecretRef or basicSecretRef',
      },
    ],
  },
);

const http = obj(
  'SinkHttp',
  'Send each event to an HTTP endpoint (a webhook) as a CloudEvent. A 2xx answer is success; 408, 429 (after its Retry-After), 5xx and network errors are retried with the Pipeline’s backoff; any other 4xx dead-letters the event with the status and the start of the answer.',
  {
    url: str('Endpoint the events are sent to, e.g. https://hooks.example.com/orders.', {
      maxLength: 2048,
      pattern: '^https?://[^\\s/]+(/[^\\s]*)?$',
      $hint: 'an http:// or https:// URL',
    }),
    method: enumOf('HTTP method of each request.', ['POST', 'PUT', 'PATCH'], { default: 'POST' }),
    mode: enumOf(
      'CloudEvents content mode: binary (attributes as ce-* headers, the body is the data), structured (the whole event as application/cloudevents+json), or batch (up to batch.maxEvents events per request as an application/cloudevents-batch+json array).',
      ['binary', 'structured', 'batch'],
      { default: 'binary' },
    ),
    headers: map(
      'Extra request headers, name → value (e.g. X-Team: payments). Not Authorization (see auth), Content-Type, Content-Length, Host, Connection, Transfer-Encoding or ce-* headers.',
      str('Header value on one line.', {
        maxLength: 4096,
        pattern: '^[^\\r\\n]*$',
        $hint: 'a value on one line',
      }),
      {
        maxProperties: 32,
        'x-kubernetes-validations': [
          {
            $id: 'sk-http-headers-reserved',
            rule:
              `self.all(k, k.matches('^[-!#$%&*+.^_|~0-9A-Za-z]+$') && !k.lowerAscii().startsWith('ce-') && ` +
              `!(k.lowerAscii() in [${RESERVED_HTTP_HEADERS.map((h) => `'${h}'`).join(', ')}]))`,
            message: `header names must be HTTP tokens; ${HTTP_HEADER_RESERVED}`,
          },
        ],
      },
    ),
    auth: httpAuth,
    tls: httpTls,
    timeout: duration(
      'Longest one request may take, from connecting to the end of the answer; past it the delivery is retried.',
      {
        default: '10s',
        'x-kubernetes-validations': [
          {
            $id: 'sk-http-timeout-positive',
            rule: `!${celIsDuration('self')} || duration(self) > duration('0s')`,
            message: 'must be greater than 0',
          },
        ],
      },
    ),
    maxConcurrency: int('Requests in flight at once, per processor replica.', {
      minimum: 1,
      maximum: 1024,
      default: 16,
    }),
    batch: obj(
      'SinkHttpBatch',
      'Batch mode only: a request goes out when it holds maxEvents events or its oldest event waited maxDelay. A request the endpoint rejects as invalid (4xx) is split until the rejected events are found.',
      {
        maxEvents: int('Most events per request.', { minimum: 1, maximum: 1000, default: 100 }),
        maxDelay: duration('Longest an event waits for its request to fill, e.g. 50ms.', { default: '50ms' }),
      },
    ),
  },
  {
    required: ['url'],
    'x-kubernetes-validations': [
      {
        // The URL's scheme decides TLS; a CA or skip-verify on http:// would be ignored.
        $id: 'sk-http-tls-https',
        rule:
          "self.url.lowerAscii().startsWith('https://') || !has(self.tls) || " +
          '!(has(self.tls.caSecretRef) || (has(self.tls.insecureSkipVerify) && self.tls.insecureSkipVerify))',
        message: HTTP_TLS_NEEDS_HTTPS,
        fieldPath: '.url',
      },
      {
        $id: 'sk-http-batch-mode',
        rule: "!has(self.batch) || self.mode == 'batch'",
        message: 'batch settings apply to mode: batch only; set mode: batch or remove batch',
        fieldPath: '.batch',
      },
    ],
  },
);

const eventSourceTarget = obj(
  'SinkEventSource',
  'Publish each event to another EventSource’s stream, with Nats-Msg-Id = the event id, so that Pipelines reading that EventSource pick it up (Pipelines chain). A Pipeline whose outputs would lead back to its own sources is refused in its status.',
  {
    name: objectName('Name of an EventSource in the same namespace.'),
  },
  { required: ['name'] },
);

const column = obj(
  'SinkColumn',
  'A typed column filled from the event by JSON pointer.',
  {
    name: identifier(
      `Column name; must not be one of the standard columns (${STANDARD_COLUMNS.join(', ')}).`,
    ),
    type: enumOf(
      'Portable column type, mapped to the CQL or ClickHouse type of the same meaning (json: the value as JSON text).',
      [...COLUMN_TYPES],
    ),
    from: str(
      'JSON pointer into the CloudEvent, e.g. /data/amount or /subject; a missing value writes null.',
      {
        pattern: JSON_POINTER_PATTERN,
        maxLength: 256,
      },
    ),
  },
  {
    required: ['name', 'type', 'from'],
    'x-kubernetes-validations': [
      {
        $id: 'sk-column-reserved',
        rule: `!(self.name.lowerAscii() in [${STANDARD_COLUMNS.map((c) => `'${c}'`).join(', ')}])`,
        messageExpression: `'column name ' + self.name + ' is a standard column (${STANDARD_COLUMNS.join(', ')}); choose another name'`,
        fieldPath: '.name',
      },
    ],
  },
);

export const sinkSpec = obj(
  'SinkSpec',
  'Desired state of the Sink: exactly one of scylla, clickhouse, http or eventSource.',
  {
    scylla,
    clickhouse,
    http,
    eventSource: eventSourceTarget,
    columns: arr(
      `Table Sinks (scylla, clickhouse): typed columns in addition to the standard ones (${STANDARD_COLUMNS.join(', ')}; data holds the payload as JSON text).`,
      column,
      { maxItems: 64 },
    ),
  },
  {
    'x-kubernetes-validations': [
      {
        $id: 'sk-exactly-one',
        rule: `${SINK_KINDS.map((k) => `(has(self.${k}) ? 1 : 0)`).join(' + ')} == 1`,
        message: EXACTLY_ONE_KIND,
      },
      {
        $id: 'sk-backend-immutable',
        rule: SINK_KINDS.map((k) => `has(self.${k}) == has(oldSelf.${k})`).join(' && '),
        message: 'a Sink cannot switch between scylla, clickhouse, http and eventSource; create a new Sink',
        $transition: true,
      },
      {
        $id: 'sk-columns-tables',
        rule: '!has(self.columns) || size(self.columns) == 0 || has(self.scylla) || has(self.clickhouse)',
        message: COLUMNS_NEED_TABLE,
        fieldPath: '.columns',
      },
      {
        $id: 'sk-columns-unique',
        rule: '!has(self.columns) || self.columns.all(c, self.columns.exists_one(d, d.name.lowerAscii() == c.name.lowerAscii()))',
        message: 'column names must be unique (case-insensitive)',
        fieldPath: '.columns',
      },
    ],
  },
);

const status = obj('SinkStatus', 'Observed state of the Sink, written by the operator.', {
  observedGeneration: observedGenerationSchema,
  conditions: conditionsSchema,
  kind: enumOf('Kind of the Sink.', [...SINK_KINDS]),
  target: str(
    'What is written to: keyspace.table, database.table, the webhook URL (without credentials or query) or the EventSource.',
  ),
  lastProbeTime: str('When the connection (and table) were last checked (RFC 3339).', {
    format: 'date-time',
  }),
});

export const sink: KindDefinition = {
  kind: 'Sink',
  plural: 'sinks',
  singular: 'sink',
  shortNames: ['sk'],
  description:
    'Sink is a checked destination Pipelines write events to: a ScyllaDB/Cassandra or ClickHouse table, an HTTP webhook, or another EventSource.',
  spec: sinkSpec,
  status,
  printerColumns: [
    readyColumn(),
    {
      name: 'Kind',
      type: 'string',
      jsonPath: '.status.kind',
      description: 'scylla, clickhouse, http or eventSource.',
    },
    {
      name: 'Target',
      type: 'string',
      jsonPath: '.status.target',
      description: 'Table, webhook URL or EventSource written to.',
    },
    ageColumn(),
  ],
};
