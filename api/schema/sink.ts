// Sink: a checked connection to one ScyllaDB/Cassandra table or one ClickHouse table. Writes are
// idempotent by CloudEvent id, so redelivered events never create a second row.
import {
  ageColumn,
  conditionsSchema,
  credentialsRef,
  observedGenerationSchema,
  readyColumn,
  secretKeyRef,
  type KindDefinition,
} from './common.js';
import { arr, bool, duration, enumOf, int, JSON_POINTER_PATTERN, obj, str, type Schema } from './dsl.js';

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
  'Desired state of the Sink: exactly one of scylla or clickhouse.',
  {
    scylla,
    clickhouse,
    columns: arr(
      `Typed columns in addition to the standard ones (${STANDARD_COLUMNS.join(', ')}; data holds the payload as JSON text).`,
      column,
      { maxItems: 64 },
    ),
  },
  {
    'x-kubernetes-validations': [
      {
        $id: 'sk-exactly-one',
        rule: 'has(self.scylla) != has(self.clickhouse)',
        message: 'exactly one of scylla or clickhouse must be set',
      },
      {
        $id: 'sk-backend-immutable',
        rule: 'has(self.scylla) == has(oldSelf.scylla)',
        message: 'a Sink cannot switch between scylla and clickhouse; create a new Sink',
        $transition: true,
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
  kind: enumOf('Backend of the Sink.', ['scylla', 'clickhouse']),
  target: str('Table written to, as keyspace.table or database.table.'),
  lastProbeTime: str('When the connection and table were last checked (RFC 3339).', { format: 'date-time' }),
});

export const sink: KindDefinition = {
  kind: 'Sink',
  plural: 'sinks',
  singular: 'sink',
  shortNames: ['sk'],
  description:
    'Sink is a checked connection to a ScyllaDB/Cassandra or ClickHouse table that Pipelines write events to.',
  spec: sinkSpec,
  status,
  printerColumns: [
    readyColumn(),
    { name: 'Kind', type: 'string', jsonPath: '.status.kind', description: 'scylla or clickhouse.' },
    { name: 'Target', type: 'string', jsonPath: '.status.target', description: 'Table written to.' },
    ageColumn(),
  ],
};
