// Invalid manifests and the errors they must produce: from the API server (test/integration/kube)
// and from the offline validator (test/unit/api). Each case breaks one thing, because the API
// server skips CEL rules once a schema check failed.

export type Manifest = Record<string, unknown> & { spec: Record<string, unknown> };

export interface InvalidCase {
  name: string;
  /** The object to create; for update cases, the valid object created first. */
  manifest: Manifest;
  /** Update cases: the change applied to the created object, which must be rejected. */
  update?: (m: Manifest) => void;
  /** API server: the field its error names and a fragment of the message; absent when only validate can tell. */
  server?: { field: string; message: string };
  /** Offline validator: field (as formatPath prints it) and message fragment; absent for rules on oldSelf. */
  offline?: { field: string; message: string };
}

const API = 'eventrunner.io/v1alpha1';

export function eventSource(name = 'shop'): Manifest {
  return {
    apiVersion: API,
    kind: 'EventSource',
    metadata: { name },
    spec: { ingest: { auth: { tokensSecretRef: { name: 'shop-tokens' } } } },
  };
}

export function pipeline(name = 'orders'): Manifest {
  return {
    apiVersion: API,
    kind: 'Pipeline',
    metadata: { name },
    spec: {
      sources: [{ eventSource: 'shop', types: ['com.shop.order.*'] }],
      rules: 'rule Big "big orders" { when event.data.amount > 100 then Route("store"); }\n',
      outputs: [
        { name: 'store', sink: 'orders-scylla' },
        { name: 'analytics', sink: 'orders-clickhouse' },
      ],
    },
  };
}

export function scyllaSink(name = 'orders-scylla'): Manifest {
  return {
    apiVersion: API,
    kind: 'Sink',
    metadata: { name },
    spec: {
      scylla: {
        contactPoints: ['cassandra:9042'],
        localDataCenter: 'dc1',
        keyspace: 'shop',
        table: 'orders',
      },
    },
  };
}

export function clickhouseSink(name = 'orders-clickhouse'): Manifest {
  return {
    apiVersion: API,
    kind: 'Sink',
    metadata: { name },
    spec: { clickhouse: { url: 'http://clickhouse:8123', table: 'orders' } },
  };
}

export function httpSink(name = 'orders-webhook'): Manifest {
  return {
    apiVersion: API,
    kind: 'Sink',
    metadata: { name },
    spec: { http: { url: 'https://hooks.example.com/orders' } },
  };
}

export function eventSourceSink(name = 'alerts-out'): Manifest {
  return {
    apiVersion: API,
    kind: 'Sink',
    metadata: { name },
    spec: { eventSource: { name: 'alerts' } },
  };
}

function edit(m: Manifest, change: (m: Manifest) => void): Manifest {
  change(m);
  return m;
}

type Spec = Record<string, Record<string, unknown>>;
const s = (m: Manifest) => m.spec as Spec;

export const invalidCases: InvalidCase[] = [
  // EventSource
  {
    name: 'EventSource name starting with a digit',
    manifest: eventSource('1shop'),
    server: { field: 'metadata.name', message: 'metadata.name must start with a letter' },
    offline: { field: 'metadata.name', message: 'must start with a letter' },
  },
  {
    name: 'ingest port out of range',
    manifest: edit(eventSource(), (m) => (s(m).ingest!.http = { port: 70000 })),
    server: { field: 'spec.ingest.http.port', message: 'should be less than or equal to 65535' },
    offline: { field: 'spec.ingest.http.port', message: 'must be <= 65535' },
  },
  {
    name: 'maxBodyBytes not a byte size',
    manifest: edit(eventSource(), (m) => (s(m).ingest!.maxBodyBytes = '1MB')),
    server: { field: 'spec.ingest.maxBodyBytes', message: 'should match' },
    offline: { field: 'spec.ingest.maxBodyBytes', message: 'must be a byte size such as' },
  },
  {
    name: 'maxBodyBytes neither integer nor string',
    manifest: edit(eventSource(), (m) => (s(m).ingest!.maxBodyBytes = true)),
    server: { field: 'spec.ingest.maxBodyBytes', message: 'must be of type integer' },
    offline: { field: 'spec.ingest.maxBodyBytes', message: 'must be an integer or a string' },
  },
  {
    name: 'auth enabled without a tokens Secret',
    manifest: edit(eventSource(), (m) => (s(m).ingest = {})),
    server: { field: 'spec.ingest.auth.tokensSecretRef', message: 'Required value' },
    offline: {
      field: 'spec.ingest.auth.tokensSecretRef',
      message: 'required while ingest.auth.enabled is true',
    },
  },
  {
    name: 'http and grpc on the same port',
    manifest: edit(eventSource(), (m) => (s(m).ingest!.grpc = { port: 8080 })),
    server: { field: 'spec.ingest.grpc.port', message: 'http.port and grpc.port must differ' },
    offline: { field: 'spec.ingest.grpc.port', message: 'http.port and grpc.port must differ' },
  },
  {
    name: 'both listeners disabled',
    manifest: edit(eventSource(), (m) => {
      s(m).ingest!.http = { enabled: false };
      s(m).ingest!.grpc = { enabled: false };
    }),
    server: { field: 'spec.ingest', message: 'at least one of http and grpc must be enabled' },
    offline: { field: 'spec.ingest', message: 'at least one of http and grpc must be enabled' },
  },
  {
    name: 'stream maxAge not a duration',
    manifest: edit(eventSource(), (m) => (s(m).stream = { maxAge: '3 days' })),
    server: { field: 'spec.stream.maxAge', message: 'should match' },
    offline: { field: 'spec.stream.maxAge', message: 'must be a duration such as' },
  },
  {
    name: 'unknown storage type',
    manifest: edit(eventSource(), (m) => (s(m).stream = { storage: 'disk' })),
    server: { field: 'spec.stream.storage', message: 'Unsupported value: "disk"' },
    offline: { field: 'spec.stream.storage', message: 'must be one of "file", "memory"' },
  },
  {
    name: 'too many stream replicas',
    manifest: edit(eventSource(), (m) => (s(m).stream = { replicas: 7 })),
    server: { field: 'spec.stream.replicas', message: 'should be less than or equal to 5' },
    offline: { field: 'spec.stream.replicas', message: 'must be <= 5' },
  },
  {
    name: 'duplicate window longer than maxAge',
    manifest: edit(eventSource(), (m) => (s(m).stream = { maxAge: '1m', duplicateWindow: '2m' })),
    server: {
      field: 'spec.stream.duplicateWindow',
      message: 'duplicateWindow must not be longer than maxAge',
    },
    offline: { field: 'spec.stream.duplicateWindow', message: 'must not be longer than maxAge' },
  },
  {
    name: 'unknown deletionPolicy',
    manifest: edit(eventSource(), (m) => (m.spec.deletionPolicy = 'Orphan')),
    server: { field: 'spec.deletionPolicy', message: 'Unsupported value: "Orphan"' },
    offline: { field: 'spec.deletionPolicy', message: 'must be one of "Delete", "Retain"' },
  },
  {
    name: 'typeFrom not a JSON pointer',
    manifest: edit(eventSource(), (m) => (s(m).conversion = { typeFrom: 'eventType' })),
    server: { field: 'spec.conversion.typeFrom', message: 'should match' },
    offline: { field: 'spec.conversion.typeFrom', message: 'must be a JSON pointer' },
  },
  {
    name: 'rate-limit burst smaller than a batch',
    manifest: edit(eventSource(), (m) => {
      s(m).ingest!.maxBatchEvents = 500;
      s(m).ingest!.rateLimit = { eventsPerSecond: 100, burst: 200 };
    }),
    server: {
      field: 'spec.ingest.rateLimit.burst',
      message: 'rateLimit.burst must be at least maxBatchEvents',
    },
    offline: {
      field: 'spec.ingest.rateLimit.burst',
      message: 'rateLimit.burst must be at least maxBatchEvents',
    },
  },
  {
    name: 'default event type that cannot be a NATS subject',
    manifest: edit(eventSource(), (m) => (s(m).conversion = { defaultType: 'com.shop.*' })),
    server: { field: 'spec.conversion.defaultType', message: 'should match' },
    offline: { field: 'spec.conversion.defaultType', message: 'usable as NATS subject tokens' },
  },
  {
    name: 'unknown field (typo)',
    manifest: edit(eventSource(), (m) => (s(m).ingest!.htp = { port: 8080 })),
    server: { field: 'spec.ingest.htp', message: 'unknown field "spec.ingest.htp"' },
    offline: { field: 'spec.ingest.htp', message: 'unknown field' },
  },
  {
    name: 'stream storage changed on update',
    manifest: eventSource('mutable'),
    update: (m) => (s(m).stream!.storage = 'memory'),
    server: { field: 'spec.stream.storage', message: 'storage is immutable' },
  },
  // Pipeline
  {
    name: 'Pipeline without sources',
    manifest: edit(pipeline(), (m) => delete m.spec.sources),
    server: { field: 'spec.sources', message: 'Required value' },
    offline: { field: 'spec.sources', message: 'required field is missing' },
  },
  {
    name: 'Pipeline with an empty source list',
    manifest: edit(pipeline(), (m) => (m.spec.sources = [])),
    server: { field: 'spec.sources', message: 'should have at least 1 items' },
    offline: { field: 'spec.sources', message: 'must NOT have fewer than 1 items' },
  },
  {
    name: 'duplicate output names',
    manifest: edit(
      pipeline(),
      (m) =>
        (m.spec.outputs = [
          { name: 'store', sink: 'a' },
          { name: 'store', sink: 'b' },
        ]),
    ),
    server: { field: 'spec.outputs', message: 'output names must be unique' },
    offline: { field: 'spec.outputs[0].name', message: 'output names must be unique' },
  },
  {
    name: 'defaultOutputs naming an undeclared output',
    manifest: edit(pipeline(), (m) => (m.spec.defaultOutputs = ['store', 'archive'])),
    server: {
      field: 'spec.defaultOutputs',
      message: 'defaultOutputs must name outputs declared in spec.outputs',
    },
    offline: { field: 'spec.defaultOutputs[1]', message: '"archive" is not declared' },
  },
  {
    name: 'defaultOutputs listing an output twice',
    manifest: edit(pipeline(), (m) => (m.spec.defaultOutputs = ['store', 'store'])),
    server: { field: 'spec.defaultOutputs[1]', message: 'Duplicate value: "store"' },
    offline: { field: 'spec.defaultOutputs[1]', message: 'duplicate entry (same as [0])' },
  },
  {
    name: 'source alias that is not an SQL identifier',
    manifest: edit(pipeline(), (m) => (m.spec.sources = [{ eventSource: 'shop', as: 'my-orders' }])),
    server: { field: 'spec.sources[0].as', message: 'should match' },
    offline: { field: 'spec.sources[0].as', message: 'must be an identifier of letters, digits and _' },
  },
  {
    name: 'two queries with the same name',
    manifest: edit(pipeline(), (m) => {
      const q = { name: 'per-minute', sql: 'SELECT count(*) AS n FROM shop', outputs: ['analytics'] };
      m.spec.queries = [q, { ...q }];
    }),
    server: { field: 'spec.queries', message: 'query names must be unique' },
    offline: { field: 'spec.queries[0].name', message: 'query names must be unique' },
  },
  {
    name: 'query output not declared',
    manifest: edit(pipeline(), (m) => {
      m.spec.queries = [{ name: 'per-minute', sql: 'SELECT id FROM shop', outputs: ['alerts'] }];
    }),
    server: { field: 'spec.queries', message: 'query outputs must name outputs declared in spec.outputs' },
    offline: { field: 'spec.queries[0].outputs[0]', message: '"alerts" is not declared' },
  },
  {
    name: 'query name that is not a lowercase name',
    manifest: edit(pipeline(), (m) => {
      m.spec.queries = [{ name: 'Per_Minute', sql: 'SELECT id FROM shop', outputs: ['analytics'] }];
    }),
    server: { field: 'spec.queries[0].name', message: 'should match' },
    offline: { field: 'spec.queries[0].name', message: 'must be a lowercase name' },
  },
  {
    name: 'query idleTimeout of zero',
    manifest: edit(pipeline(), (m) => {
      m.spec.queries = [{ name: 'q', sql: 'SELECT id FROM shop', outputs: ['analytics'], idleTimeout: '0s' }];
    }),
    server: { field: 'spec.queries[0].idleTimeout', message: 'must be greater than 0' },
    offline: { field: 'spec.queries[0].idleTimeout', message: 'must be greater than 0' },
  },
  {
    name: 'query partitions changed on update',
    manifest: edit(pipeline('repartitioned'), (m) => {
      m.spec.queries = [{ name: 'q', sql: 'SELECT id FROM shop', outputs: ['analytics'], partitions: 4 }];
    }),
    update: (m) => ((m.spec.queries as { partitions: number }[])[0]!.partitions = 8),
    server: { field: 'spec.queries', message: 'partitions are fixed once created' },
  },
  {
    name: 'output name with a space',
    manifest: edit(pipeline(), (m) => (m.spec.outputs = [{ name: 'my store', sink: 'orders-scylla' }])),
    server: { field: 'spec.outputs[0].name', message: 'should match' },
    offline: { field: 'spec.outputs[0].name', message: 'must be an identifier' },
  },
  {
    name: 'output sink not an object name',
    manifest: edit(pipeline(), (m) => (m.spec.outputs = [{ name: 'store', sink: 'Orders_Scylla' }])),
    server: { field: 'spec.outputs[0].sink', message: 'should match' },
    offline: { field: 'spec.outputs[0].sink', message: 'must be a lowercase RFC 1123 name' },
  },
  {
    name: 'output without a sink',
    manifest: edit(pipeline(), (m) => (m.spec.outputs = [{ name: 'store' }])),
    server: { field: 'spec.outputs[0].sink', message: 'Required value' },
    offline: { field: 'spec.outputs[0].sink', message: 'required field is missing' },
  },
  {
    name: 'the same EventSource twice',
    manifest: edit(pipeline(), (m) => (m.spec.sources = [{ eventSource: 'shop' }, { eventSource: 'shop' }])),
    server: { field: 'spec.sources', message: 'each eventSource may appear once' },
    offline: { field: 'spec.sources[0].eventSource', message: 'each eventSource may appear once' },
  },
  {
    name: 'type filter with > in the middle',
    manifest: edit(
      pipeline(),
      (m) => (m.spec.sources = [{ eventSource: 'shop', types: ['com.shop.>.created'] }]),
    ),
    server: { field: 'spec.sources[0].types[0]', message: 'should match' },
    offline: { field: 'spec.sources[0].types[0]', message: 'must be a CloudEvents type' },
  },
  {
    name: 'zero ackWait',
    manifest: edit(pipeline(), (m) => (m.spec.delivery = { ackWait: '0s' })),
    server: { field: 'spec.delivery.ackWait', message: 'must be greater than 0' },
    offline: { field: 'spec.delivery.ackWait', message: 'must be greater than 0' },
  },
  {
    name: 'backoff as long as maxDeliver',
    manifest: edit(pipeline(), (m) => (m.spec.delivery = { maxDeliver: 3, backoff: ['1s', '5s', '30s'] })),
    server: { field: 'spec.delivery.backoff', message: 'backoff must list fewer delays than maxDeliver' },
    offline: { field: 'spec.delivery.backoff', message: 'backoff must list fewer delays than maxDeliver' },
  },
  {
    name: 'ackWait as a bare number',
    manifest: edit(pipeline(), (m) => (m.spec.delivery = { ackWait: 30 })),
    server: { field: 'spec.delivery.ackWait', message: 'must be of type string' },
    offline: {
      field: 'spec.delivery.ackWait',
      message: 'must be a duration such as 500ms, 30s, 2m or 72h (a string)',
    },
  },
  {
    name: 'maxDeliver zero',
    manifest: edit(pipeline(), (m) => (m.spec.delivery = { maxDeliver: 0 })),
    server: { field: 'spec.delivery.maxDeliver', message: 'should be greater than or equal to 1' },
    offline: { field: 'spec.delivery.maxDeliver', message: 'must be >= 1' },
  },
  {
    name: 'unknown rule engine mode',
    manifest: edit(pipeline(), (m) => (m.spec.ruleEngine = { mode: 'forever' })),
    server: { field: 'spec.ruleEngine.mode', message: 'Unsupported value: "forever"' },
    offline: { field: 'spec.ruleEngine.mode', message: 'must be one of "once", "refire"' },
  },
  {
    name: 'maxCycles zero',
    manifest: edit(pipeline(), (m) => (m.spec.ruleEngine = { mode: 'refire', maxCycles: 0 })),
    server: { field: 'spec.ruleEngine.maxCycles', message: 'should be greater than or equal to 1' },
    offline: { field: 'spec.ruleEngine.maxCycles', message: 'must be >= 1' },
  },
  {
    name: 'negative replicas',
    manifest: edit(pipeline(), (m) => (m.spec.replicas = -1)),
    server: { field: 'spec.replicas', message: 'should be greater than or equal to 0' },
    offline: { field: 'spec.replicas', message: 'must be >= 0' },
  },
  {
    name: 'suspend as a string',
    manifest: edit(pipeline(), (m) => (m.spec.suspend = 'yes')),
    server: { field: 'spec.suspend', message: 'must be of type boolean' },
    offline: { field: 'spec.suspend', message: 'must be boolean' },
  },
  {
    name: 'autoscaling minReplicas above maxReplicas',
    manifest: edit(pipeline(), (m) => (m.spec.autoscaling = { minReplicas: 3, maxReplicas: 2 })),
    server: { field: 'spec.autoscaling.minReplicas', message: 'minReplicas must not exceed maxReplicas' },
    offline: { field: 'spec.autoscaling.minReplicas', message: 'minReplicas must not exceed maxReplicas' },
  },
  {
    name: 'dead-letter maxBytes not a byte size',
    manifest: edit(pipeline(), (m) => (m.spec.deadLetter = { maxBytes: 'lots' })),
    server: { field: 'spec.deadLetter.maxBytes', message: 'should match' },
    offline: { field: 'spec.deadLetter.maxBytes', message: 'must be a byte size' },
  },
  {
    name: 'processor memory limit not a quantity',
    manifest: edit(pipeline(), (m) => (m.spec.resources = { limits: { memory: '512 MB' } })),
    server: { field: 'spec.resources.limits.memory', message: 'should match' },
    offline: { field: 'spec.resources.limits.memory', message: 'must be a Kubernetes quantity' },
  },
  {
    name: 'rules routing to an undeclared output',
    manifest: edit(pipeline(), (m) => (m.spec.rules = 'rule R "r" { when true then Route("archive"); }\n')),
    offline: { field: 'spec.rules', message: 'archive' },
  },
  {
    name: 'rules that do not parse',
    manifest: edit(
      pipeline(),
      (m) => (m.spec.rules = 'rule R "r" {\n  when event.type ==\n  then Drop();\n}\n'),
    ),
    offline: { field: 'spec.rules', message: 'spec.rules:3:' },
  },
  // Sink
  {
    name: 'Sink with no kind at all',
    manifest: edit(scyllaSink(), (m) => delete m.spec.scylla),
    server: { field: 'spec', message: 'exactly one of scylla, clickhouse, http or eventSource must be set' },
    offline: { field: 'spec', message: 'exactly one of scylla, clickhouse, http or eventSource must be set' },
  },
  {
    name: 'Sink with both scylla and clickhouse',
    manifest: edit(scyllaSink(), (m) => (m.spec.clickhouse = clickhouseSink().spec.clickhouse)),
    server: { field: 'spec', message: 'exactly one of scylla, clickhouse, http or eventSource must be set' },
    offline: { field: 'spec', message: 'exactly one of scylla, clickhouse, http or eventSource must be set' },
  },
  {
    name: 'Sink with both http and eventSource',
    manifest: edit(httpSink(), (m) => (m.spec.eventSource = eventSourceSink().spec.eventSource)),
    server: { field: 'spec', message: 'exactly one of scylla, clickhouse, http or eventSource must be set' },
    offline: { field: 'spec', message: 'exactly one of scylla, clickhouse, http or eventSource must be set' },
  },
  {
    name: 'webhook URL without a scheme',
    manifest: edit(httpSink(), (m) => (s(m).http!.url = 'hooks.example.com/orders')),
    server: { field: 'spec.http.url', message: 'should match' },
    offline: { field: 'spec.http.url', message: 'must be an http:// or https:// URL' },
  },
  {
    name: 'webhook method GET',
    manifest: edit(httpSink(), (m) => (s(m).http!.method = 'GET')),
    server: { field: 'spec.http.method', message: 'Unsupported value: "GET"' },
    offline: { field: 'spec.http.method', message: 'must be one of "POST", "PUT", "PATCH"' },
  },
  {
    name: 'webhook CA Secret on an http:// URL',
    manifest: edit(httpSink(), (m) => {
      s(m).http!.url = 'http://hooks.example.com/orders';
      s(m).http!.tls = { caSecretRef: { name: 'hooks-ca' } };
    }),
    server: { field: 'spec.http.url', message: 'tls settings ask for TLS, but url is http://' },
    offline: { field: 'spec.http.url', message: 'tls settings ask for TLS, but url is http://' },
  },
  {
    name: 'webhook auth with both bearer and basic',
    manifest: edit(
      httpSink(),
      (m) =>
        (s(m).http!.auth = {
          bearerTokenSecretRef: { name: 'hook-token' },
          basicSecretRef: { name: 'hook-login' },
        }),
    ),
    server: { field: 'spec.http.auth', message: 'exactly one of bearerTokenSecretRef or basicSecretRef' },
    offline: { field: 'spec.http.auth', message: 'exactly one of bearerTokenSecretRef or basicSecretRef' },
  },
  {
    name: 'webhook header that the Sink sets itself',
    manifest: edit(httpSink(), (m) => (s(m).http!.headers = { Authorization: 'Bearer x' })),
    server: { field: 'spec.http.headers', message: 'headers may not set authorization' },
    offline: { field: 'spec.http.headers', message: 'headers may not set authorization' },
  },
  {
    name: 'webhook header named like a CloudEvents attribute',
    manifest: edit(httpSink(), (m) => (s(m).http!.headers = { 'ce-source': '/elsewhere' })),
    server: { field: 'spec.http.headers', message: 'or ce-* headers' },
    offline: { field: 'spec.http.headers', message: 'or ce-* headers' },
  },
  {
    name: 'webhook header value on two lines',
    manifest: edit(httpSink(), (m) => (s(m).http!.headers = { 'X-Team': 'a\r\nX-Other: b' })),
    server: { field: 'spec.http.headers.X-Team', message: 'should match' },
    offline: { field: 'spec.http.headers.X-Team', message: 'must be a value on one line' },
  },
  {
    name: 'webhook timeout of zero',
    manifest: edit(httpSink(), (m) => (s(m).http!.timeout = '0s')),
    server: { field: 'spec.http.timeout', message: 'must be greater than 0' },
    offline: { field: 'spec.http.timeout', message: 'must be greater than 0' },
  },
  {
    name: 'webhook batch settings without batch mode',
    manifest: edit(httpSink(), (m) => (s(m).http!.batch = { maxEvents: 10 })),
    server: { field: 'spec.http.batch', message: 'batch settings apply to mode: batch only' },
    offline: { field: 'spec.http.batch', message: 'batch settings apply to mode: batch only' },
  },
  {
    name: 'webhook concurrency of zero',
    manifest: edit(httpSink(), (m) => (s(m).http!.maxConcurrency = 0)),
    server: { field: 'spec.http.maxConcurrency', message: 'should be greater than or equal to 1' },
    offline: { field: 'spec.http.maxConcurrency', message: 'must be >= 1' },
  },
  {
    name: 'columns on a webhook Sink',
    manifest: edit(
      httpSink(),
      (m) => (m.spec.columns = [{ name: 'amount', type: 'double', from: '/data/amount' }]),
    ),
    server: { field: 'spec.columns', message: 'columns apply to table Sinks (scylla, clickhouse) only' },
    offline: { field: 'spec.columns', message: 'columns apply to table Sinks (scylla, clickhouse) only' },
  },
  {
    name: 'eventSource Sink naming an invalid EventSource name',
    manifest: edit(eventSourceSink(), (m) => (s(m).eventSource!.name = 'Alerts_2')),
    server: { field: 'spec.eventSource.name', message: 'should match' },
    offline: { field: 'spec.eventSource.name', message: 'must be a lowercase RFC 1123 name' },
  },
  {
    name: 'unknown consistency level',
    manifest: edit(scyllaSink(), (m) => (s(m).scylla!.consistency = 'STRONG')),
    server: { field: 'spec.scylla.consistency', message: 'Unsupported value: "STRONG"' },
    offline: { field: 'spec.scylla.consistency', message: 'must be one of "ANY"' },
  },
  {
    name: 'no contact points',
    manifest: edit(scyllaSink(), (m) => (s(m).scylla!.contactPoints = [])),
    server: { field: 'spec.scylla.contactPoints', message: 'should have at least 1 items' },
    offline: { field: 'spec.scylla.contactPoints', message: 'must NOT have fewer than 1 items' },
  },
  {
    name: 'keyspace with a dash',
    manifest: edit(scyllaSink(), (m) => (s(m).scylla!.keyspace = 'shop-data')),
    server: { field: 'spec.scylla.keyspace', message: 'should match' },
    offline: { field: 'spec.scylla.keyspace', message: 'must be an identifier' },
  },
  {
    name: 'ttl in days',
    manifest: edit(scyllaSink(), (m) => (s(m).scylla!.ttl = '30d')),
    server: { field: 'spec.scylla.ttl', message: 'should match' },
    offline: { field: 'spec.scylla.ttl', message: 'must be a duration such as' },
  },
  {
    name: 'scylla without localDataCenter',
    manifest: edit(scyllaSink(), (m) => delete s(m).scylla!.localDataCenter),
    server: { field: 'spec.scylla.localDataCenter', message: 'Required value' },
    offline: { field: 'spec.scylla.localDataCenter', message: 'required field is missing' },
  },
  {
    name: 'ClickHouse URL without a scheme',
    manifest: edit(clickhouseSink(), (m) => (s(m).clickhouse!.url = 'clickhouse:8123')),
    server: { field: 'spec.clickhouse.url', message: 'should match' },
    offline: { field: 'spec.clickhouse.url', message: 'must be an http:// or https:// URL' },
  },
  {
    name: 'batch maxDelay not a duration',
    manifest: edit(clickhouseSink(), (m) => (s(m).clickhouse!.batch = { maxDelay: 'soon' })),
    server: { field: 'spec.clickhouse.batch.maxDelay', message: 'should match' },
    offline: { field: 'spec.clickhouse.batch.maxDelay', message: 'must be a duration such as' },
  },
  {
    name: 'unknown column type',
    manifest: edit(
      clickhouseSink(),
      (m) => (m.spec.columns = [{ name: 'amount', type: 'blob', from: '/data/amount' }]),
    ),
    server: { field: 'spec.columns[0].type', message: 'Unsupported value: "blob"' },
    offline: { field: 'spec.columns[0].type', message: 'must be one of "text"' },
  },
  {
    name: 'column shadowing a standard column',
    manifest: edit(
      clickhouseSink(),
      (m) => (m.spec.columns = [{ name: 'ID', type: 'text', from: '/data/id' }]),
    ),
    server: { field: 'spec.columns[0].name', message: 'column name ID is a standard column' },
    offline: { field: 'spec.columns[0].name', message: 'column name ID is a standard column' },
  },
  {
    name: 'duplicate column names',
    manifest: edit(
      clickhouseSink(),
      (m) =>
        (m.spec.columns = [
          { name: 'amount', type: 'double', from: '/data/amount' },
          { name: 'Amount', type: 'text', from: '/data/amountText' },
        ]),
    ),
    server: { field: 'spec.columns', message: 'column names must be unique' },
    offline: { field: 'spec.columns[1].name', message: 'column names must be unique' },
  },
  {
    name: 'column from not a JSON pointer',
    manifest: edit(
      clickhouseSink(),
      (m) => (m.spec.columns = [{ name: 'amount', type: 'double', from: 'data.amount' }]),
    ),
    server: { field: 'spec.columns[0].from', message: 'should match' },
    offline: { field: 'spec.columns[0].from', message: 'must be a JSON pointer' },
  },
  {
    name: 'Scylla CA Secret without tls.enabled',
    manifest: edit(scyllaSink(), (m) => (s(m).scylla!.tls = { caSecretRef: { name: 'cql-ca' } })),
    server: { field: 'spec.scylla.tls.enabled', message: 'but tls.enabled is false' },
    offline: { field: 'spec.scylla.tls.enabled', message: 'but tls.enabled is false' },
  },
  {
    name: 'Scylla insecureSkipVerify with tls.enabled false',
    manifest: edit(scyllaSink(), (m) => (s(m).scylla!.tls = { enabled: false, insecureSkipVerify: true })),
    server: { field: 'spec.scylla.tls.enabled', message: 'set it to true to connect with TLS' },
    offline: { field: 'spec.scylla.tls.enabled', message: 'set it to true to connect with TLS' },
  },
  {
    name: 'ClickHouse tls.enabled on an http:// URL',
    manifest: edit(clickhouseSink(), (m) => (s(m).clickhouse!.tls = { enabled: true })),
    server: { field: 'spec.clickhouse.url', message: 'tls settings ask for TLS, but url is http://' },
    offline: { field: 'spec.clickhouse.url', message: 'use https:// and the server' },
  },
  {
    name: 'ClickHouse CA Secret on an http:// URL',
    manifest: edit(
      clickhouseSink(),
      (m) => (s(m).clickhouse!.tls = { caSecretRef: { name: 'clickhouse-ca' } }),
    ),
    server: { field: 'spec.clickhouse.url', message: 'tls settings ask for TLS, but url is http://' },
    offline: { field: 'spec.clickhouse.url', message: 'tls settings ask for TLS, but url is http://' },
  },
  {
    name: 'Sink switched from scylla to clickhouse on update',
    manifest: scyllaSink('switching'),
    update: (m) => {
      delete m.spec.scylla;
      m.spec.clickhouse = clickhouseSink().spec.clickhouse;
    },
    server: {
      field: 'spec',
      message: 'a Sink cannot switch between scylla, clickhouse, http and eventSource',
    },
  },
  {
    name: 'Sink switched from http to eventSource on update',
    manifest: httpSink('switching-hook'),
    update: (m) => {
      delete m.spec.http;
      m.spec.eventSource = eventSourceSink().spec.eventSource;
    },
    server: {
      field: 'spec',
      message: 'a Sink cannot switch between scylla, clickhouse, http and eventSource',
    },
  },
];
