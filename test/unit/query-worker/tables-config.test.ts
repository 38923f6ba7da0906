// Lookup tables and multi-source queries from the Pipeline to the pods: spec.tables rendered into
// the processor's and the query workers' configs (the workers' with the table's Sink and its
// credential files), accepted by both loaders, and the processor's shuffle routing an input to
// every query that reads its source.
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { Pipeline, Sink } from '../../../api/generated/types.js';
import { processorConfig } from '../../../operator/builders/processor.js';
import {
  queryWorkerConfig,
  queryWorkerConfigMap,
  queryWorkerDeployment,
} from '../../../operator/builders/query-worker.js';
import { parseOperatorOptions } from '../../../operator/options.js';
import { checkConfig } from '../../../runtime/process/config.js';
import { Shuffle } from '../../../runtime/process/shuffle.js';
import { compilePipelineQueries } from '../../../runtime/queries/pipeline.js';
import type { QueryInput } from '../../../runtime/queries/index.js';
import { checkWorkerConfig } from '../../../runtime/query-worker/config.js';

const options = parseOperatorOptions(['--image', 'img:1', '--nats-url', 'nats://nats:4222'], {});

const sink = (name: string, spec: Sink['spec']): Sink => ({
  apiVersion: 'eventrunner.io/v1alpha1',
  kind: 'Sink',
  metadata: { name, namespace: 'prod' },
  spec,
});
const alerts = sink('alerts-ch', {
  clickhouse: { url: 'http://ch:8123', database: 'risk', table: 'alerts' },
} as Sink['spec']);
const customers = sink('customers-cql', {
  scylla: {
    contactPoints: ['scylla:9042'],
    localDataCenter: 'dc1',
    keyspace: 'crm',
    table: 'customers',
    consistency: 'LOCAL_QUORUM',
    credentialsSecretRef: { name: 'crm-login', usernameKey: 'user', passwordKey: 'pass' },
    manageSchema: false,
    replicationFactor: 1,
  },
} as Sink['spec']);
const sinks = new Map([
  ['alerts-ch', alerts],
  ['customers-cql', customers],
]);

const QUERIES = [
  {
    name: 'enriched',
    sql: `SELECT o.id AS order_id, c.name AS customer FROM orders o LEFT JOIN customers AS c
          ON o.data.customer = c.customer_id`,
    outputs: ['alerts'],
    partitions: 2,
    idleTimeout: '10s',
    maxStateKeys: 1000,
  },
  {
    name: 'paid',
    sql: `SELECT o.id AS order_id, p.id AS payment FROM orders o JOIN payments p WITHIN 10 MINUTES
          ON o.subject = p.data.orderId`,
    outputs: ['alerts'],
    partitions: 4,
    idleTimeout: '10s',
    maxStateKeys: 1000,
  },
  {
    name: 'fraud',
    sql: `SELECT data.customer AS customer, count(f) AS failures
          FROM PATTERN (EVERY f=payments[type = 'failed']{3} -> ok=payments[type = 'ok'])
          WITHIN 10 MINUTES PARTITION BY data.customer`,
    outputs: ['alerts'],
    partitions: 3,
    idleTimeout: '10s',
    maxStateKeys: 1000,
  },
];

function pipeline(): Pipeline {
  return {
    apiVersion: 'eventrunner.io/v1alpha1',
    kind: 'Pipeline',
    metadata: { name: 'shop', namespace: 'prod', uid: 'u-1' },
    spec: {
      sources: [{ eventSource: 'storefront', as: 'orders' }, { eventSource: 'payments' }],
      rules: '',
      ruleEngine: { mode: 'once', maxCycles: 5000 },
      outputs: [{ name: 'alerts', sink: 'alerts-ch' }],
      tables: [
        {
          name: 'customers',
          sink: 'customers-cql',
          key: 'customer_id',
          cache: { ttl: '30s', maxEntries: 5000 },
        },
      ],
      queries: QUERIES,
      delivery: { maxDeliver: 5, ackWait: '30s', maxAckPending: 1000 },
      deadLetter: { maxAge: '168h', maxBytes: '1Gi', deletionPolicy: 'Delete' },
      replicas: 1,
      suspend: false,
      queryWorkers: { replicas: 2 },
      deletionPolicy: 'Delete',
    },
  } as Pipeline;
}

describe('spec.tables in the pod configs', () => {
  const pl = pipeline();
  const processor = processorConfig(pl, new Map(), sinks, options);
  const worker = queryWorkerConfig(pl, processor, options, sinks);

  it('gives the processor the tables its lookup queries compile against', () => {
    expect(processor.tables).toEqual(pl.spec.tables);
    const cfg = checkConfig(processor, 'config.yaml');
    expect(cfg.queriesCompiled.map((q) => q.name)).toEqual(['enriched', 'paid', 'fraud']);
  });

  it('gives the workers each table with its Sink, its credential files and its cache', () => {
    const cfg = checkWorkerConfig(
      parse(queryWorkerConfigMap(pl, worker, options).data!['config.yaml']!),
      'c',
    );
    expect(cfg.tables).toMatchObject([
      {
        name: 'customers',
        key: 'customer_id',
        cache: { ttl: '30s', maxEntries: 5000 },
        concurrency: 32,
        sink: customers.spec,
        credentials: {
          usernameFile: '/etc/eventrunner/sinks/customers-cql/username',
          passwordFile: '/etc/eventrunner/sinks/customers-cql/password',
        },
      },
    ]);
    expect(cfg.tableTtlMs.get('customers')).toBe(30_000);
    expect(cfg.compiled.find((q) => q.name === 'enriched')!.lookup).toMatchObject({
      table: 'customers',
      keyColumn: 'customer_id',
      left: true,
    });
  });

  it('mounts the table Sink’s Secret in the worker pods, where the credential files are', () => {
    const d = queryWorkerDeployment(pl, worker, sinks, options);
    const secrets = d.spec!.template.spec!.volumes!.flatMap((v) => (v.secret ? [v.secret.secretName] : []));
    expect(secrets).toContain('crm-login');
    const mounts = d.spec!.template.spec!.containers[0]!.volumeMounts!.map((m) => m.mountPath);
    expect(mounts).toContain('/etc/eventrunner/sinks/customers-cql');
  });

  it('refuses a table without its Sink, and a worker table on a Sink it cannot read', () => {
    expect(() => queryWorkerConfig(pl, processor, options, new Map())).toThrow(/customers-cql/);
    const webhook = { ...worker, tables: [{ ...worker.tables![0]!, sink: { http: { url: 'http://x' } } }] };
    expect(() => checkWorkerConfig(webhook, 'c.yaml')).toThrow(
      /c\.yaml: tables\[0\]\.sink: table customers must name a Cassandra\/ScyllaDB or ClickHouse Sink/,
    );
  });

  it('names an unknown table in a query', () => {
    const { tables: _t, ...without } = worker;
    expect(() => checkWorkerConfig(without, 'c.yaml')).toThrow(/c\.yaml: query enriched .*customers/);
  });
});

describe('shuffle routes', () => {
  const { compiled, problems } = compilePipelineQueries(
    { namespace: 'prod', name: 'shop' },
    {
      sources: [{ eventSource: 'storefront', as: 'orders' }, { eventSource: 'payments' }],
      queries: QUERIES,
      outputs: [{ name: 'alerts' }],
      tables: [{ name: 'customers', key: 'customer_id' }],
    },
  );
  // routes() only computes subjects and ids; nothing is published here.
  const shuffle = new Shuffle(null as never, { stream: 'SH', subjectPrefix: 'sh' }, compiled);
  const input = (source: string, seq: number, event: Record<string, unknown>): QueryInput => ({
    source,
    seq,
    event: { id: `e${seq}`, time: '2026-01-01T00:00:00Z', ...event },
  });

  it('sends an event to every query that reads its source, interval joins from both sides', () => {
    expect(problems).toEqual([]);
    expect(compiled.find((q) => q.name === 'paid')!.sources).toEqual(['orders', 'payments']);
    const order = shuffle.routes(input('orders', 7, { subject: 'o-1', data: { customer: 'c1' } }));
    expect(order.map((r) => r.query).sort()).toEqual(['enriched', 'paid']);
    const payment = shuffle.routes(
      input('payments', 9, { type: 'failed', data: { orderId: 'o-1', customer: 'c1' } }),
    );
    expect(payment.map((r) => r.query).sort()).toEqual(['fraud', 'paid']);
    // The join key decides the partition: the order and its payment meet in the same one.
    const paid = (rs: typeof order) => rs.find((r) => r.query === 'paid')!;
    expect(paid(payment).subject).toBe(paid(order).subject);
    expect(paid(payment).msgId).toBe('paid:payments:9');
    expect(paid(order).msgId).toBe('paid:orders:7');
    expect(shuffle.reads('payments') && shuffle.reads('orders')).toBe(true);
    expect(shuffle.reads('refunds')).toBe(false);
  });
});
