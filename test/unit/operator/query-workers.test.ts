// The pure builders of a Pipeline's query side: the query-worker config the workers accept, the
// Deployment, the shuffle stream, and the per-query status and owner changes read back from the
// state bucket.
import { RetentionPolicy } from '@nats-io/jetstream';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { Pipeline, Sink } from '../../../api/generated/types.js';
import { processorConfig } from '../../../operator/builders/processor.js';
import {
  queryWorkerConfig,
  queryWorkerConfigMap,
  queryWorkerDeployment,
  queryWorkerReplicas,
} from '../../../operator/builders/query-worker.js';
import { redeliveryWindowMs } from '../../../operator/jetstream.js';
import { queryStateBucket, shuffleStreamName, shuffleSubjectPrefix } from '../../../operator/names.js';
import { parseOperatorOptions } from '../../../operator/options.js';
import {
  ownerChanges,
  queryStatuses,
  shuffleStream,
  stateLimitCondition,
  type PartitionObservation,
} from '../../../operator/query-state.js';
import { checkConfig } from '../../../runtime/process/config.js';
import { checkWorkerConfig } from '../../../runtime/query-worker/config.js';
import type { PartitionStatus } from '../../../runtime/query-worker/status.js';

const options = parseOperatorOptions(['--image', 'img:1', '--nats-url', 'nats://nats:4222'], {});

const cql: Sink = {
  apiVersion: 'eventrunner.io/v1alpha1',
  kind: 'Sink',
  metadata: { name: 'orders-cql', namespace: 'prod' },
  spec: {
    scylla: {
      contactPoints: ['scylla:9042'],
      localDataCenter: 'dc1',
      keyspace: 'shop',
      table: 'orders',
      consistency: 'LOCAL_QUORUM',
      credentialsSecretRef: { name: 'cql', usernameKey: 'user', passwordKey: 'pass' },
      manageSchema: true,
      replicationFactor: 1,
    },
  } as Sink['spec'],
};
const ch: Sink = {
  apiVersion: 'eventrunner.io/v1alpha1',
  kind: 'Sink',
  metadata: { name: 'minutes-ch', namespace: 'prod' },
  spec: {
    clickhouse: {
      url: 'http://ch:8123',
      database: 'analytics',
      table: 'minutes',
      credentialsSecretRef: { name: 'ch', usernameKey: 'username', passwordKey: 'password' },
    },
    columns: [{ name: 'orders', type: 'bigint', from: '/data/orders' }],
  } as Sink['spec'],
};
const sinks = new Map([
  ['orders-cql', cql],
  ['minutes-ch', ch],
]);

const SQL = `SELECT data.country AS country, count(*) AS orders FROM orders
  WINDOW TUMBLING (SIZE 1 MINUTE) GROUP BY data.country`;

function pipeline(patch: Partial<Pipeline['spec']> = {}): Pipeline {
  return {
    apiVersion: 'eventrunner.io/v1alpha1',
    kind: 'Pipeline',
    metadata: { name: 'orders', namespace: 'prod', uid: 'u-2' },
    spec: {
      sources: [{ eventSource: 'shop', as: 'orders' }],
      rules: '',
      ruleEngine: { mode: 'once', maxCycles: 5000 },
      outputs: [
        { name: 'store', sink: 'orders-cql' },
        { name: 'minutes', sink: 'minutes-ch' },
      ],
      defaultOutputs: ['store'],
      queries: [
        {
          name: 'per-minute',
          sql: SQL,
          outputs: ['minutes'],
          partitions: 4,
          idleTimeout: '10s',
          maxStateKeys: 1000,
        },
      ],
      delivery: { maxDeliver: 5, ackWait: '30s', maxAckPending: 1000 },
      deadLetter: { maxAge: '168h', maxBytes: '1Gi', deletionPolicy: 'Delete' },
      replicas: 2,
      suspend: false,
      queryWorkers: { replicas: 2 },
      deletionPolicy: 'Delete',
      ...patch,
    },
  };
}

const render = (pl: Pipeline) => {
  const processor = processorConfig(pl, new Map(), sinks, options);
  return { processor, worker: queryWorkerConfig(pl, processor, options) };
};

describe('query-worker config', () => {
  it('is accepted by the worker and names the same shuffle stream the processor publishes to', () => {
    const pl = pipeline();
    const { processor, worker } = render(pl);
    const parsed = checkWorkerConfig(
      parse(queryWorkerConfigMap(pl, worker, options).data!['config.yaml']!),
      'config.yaml',
    );
    expect(parsed.compiled.map((q) => [q.name, q.partitions])).toEqual([['per-minute', 4]]);
    expect(parsed.sources).toEqual(['orders']);
    // Only the outputs queries write to, with the credentials files the processor uses too.
    expect(parsed.outputs.map((o) => o.name)).toEqual(['minutes']);
    expect(parsed.outputs[0]!.credentials).toEqual(
      processor.outputs.find((o) => o.name === 'minutes')!.credentials,
    );
    expect(parsed.shuffle).toEqual({
      stream: 'ER_SH_prod_orders',
      subjectPrefix: 'ersh.prod.orders',
    });
    expect(processor.shuffle).toEqual(parsed.shuffle);
    expect(parsed.state.bucket).toBe(queryStateBucket('prod', 'orders'));
    expect(parsed.deadLetter).toEqual(processor.deadLetter);

    const proc = checkConfig(processor, 'config.yaml');
    expect(proc.queries?.map((q) => q.name)).toEqual(['per-minute']);
    expect(proc.sources[0]!.as).toBe('orders');
  });

  it('leaves a processor config without queries as it was', () => {
    const { processor } = render(pipeline({ queries: [] }));
    expect(processor).not.toHaveProperty('queries');
    expect(processor).not.toHaveProperty('shuffle');
  });

  it('uses the EventSource name where a source has no `as`', () => {
    const pl = pipeline({ sources: [{ eventSource: 'orders' }] });
    expect(render(pl).worker.sources).toEqual(['orders']);
  });
});

describe('query-worker Deployment', () => {
  const deployment = (pl: Pipeline) => queryWorkerDeployment(pl, render(pl).worker, sinks, options);

  it('runs query-worker with the rendered config, owned by the Pipeline', () => {
    const d = deployment(pipeline());
    const c = d.spec!.template.spec!.containers[0]!;
    expect(d.metadata!.name).toBe('orders-query-worker');
    expect(d.metadata!.ownerReferences![0]).toMatchObject({ kind: 'Pipeline', uid: 'u-2', controller: true });
    expect(c.args).toEqual(['query-worker', '--config', '/etc/eventrunner/config.yaml']);
    expect(c.image).toBe('img:1');
    expect(d.spec!.selector.matchLabels).toMatchObject({ 'app.kubernetes.io/component': 'query-worker' });
    expect(d.spec!.template.metadata!.labels).toMatchObject(d.spec!.selector.matchLabels!);
    // The ClickHouse Sink's Secret for the query's output; not the Cassandra one only events use.
    const secrets = d.spec!.template.spec!.volumes!.flatMap((v) => (v.secret ? [v.secret.secretName] : []));
    expect(secrets).toEqual(['ch']);
    expect(d.spec!.template.spec!.volumes![0]!.configMap!.name).toBe('orders-query-worker-config');
  });

  it('never runs more workers than partitions, and none when suspended', () => {
    expect(queryWorkerReplicas(pipeline({ queryWorkers: { replicas: 3 } }))).toBe(3);
    expect(queryWorkerReplicas(pipeline({ queryWorkers: { replicas: 9 } }))).toBe(4);
    expect(queryWorkerReplicas(pipeline({ suspend: true }))).toBe(0);
    expect(deployment(pipeline({ queryWorkers: { replicas: 7 } })).spec!.replicas).toBe(4);
  });

  it('takes resources from spec.queryWorkers', () => {
    const resources = { requests: { cpu: '250m', memory: '256Mi' }, limits: { memory: '1Gi' } };
    const d = deployment(pipeline({ queryWorkers: { replicas: 1, resources } }));
    expect(d.spec!.template.spec!.containers[0]!.resources).toEqual(resources);
  });

  it('rolls when the queries change, and not when the rules or the replicas do', () => {
    const hash = (pl: Pipeline) =>
      deployment(pl).spec!.template.metadata!.annotations!['eventrunner.io/config-hash'];
    const base = hash(pipeline());
    expect(hash(pipeline())).toBe(base);
    expect(hash(pipeline({ rules: 'rule A "a" { when true then Route("store"); }' }))).toBe(base);
    expect(hash(pipeline({ queryWorkers: { replicas: 3 } }))).toBe(base);
    const changed = pipeline();
    changed.spec.queries![0]!.sql = SQL.replace('1 MINUTE', '5 MINUTES');
    expect(hash(changed)).not.toBe(base);
  });
});

describe('shuffle stream', () => {
  it('is a work queue with a subject per query and partition under the Pipeline prefix', () => {
    const s = shuffleStream(pipeline());
    expect(s.name).toBe(shuffleStreamName('prod', 'orders'));
    expect(s.subjects).toEqual([`${shuffleSubjectPrefix('prod', 'orders')}.>`]);
    expect(s.retention).toBe(RetentionPolicy.Workqueue);
  });

  it('remembers message ids longer than the last redelivery of a source event', () => {
    const delivery = { maxDeliver: 5, ackWait: '30s', maxAckPending: 1000 };
    expect(redeliveryWindowMs(delivery)).toBe(150_000);
    expect(redeliveryWindowMs({ ...delivery, backoff: ['1s', '10s', '60s'] })).toBe(450_000);
    expect(redeliveryWindowMs({ ...delivery, maxDeliver: 1, ackWait: '5s' })).toBe(120_000);
    expect(shuffleStream(pipeline()).duplicate_window).toBe(150_000 * 1e6);
  });

  it('keeps names of Pipelines in different namespaces apart', () => {
    expect(shuffleStreamName('a-b', 'c')).not.toBe(shuffleStreamName('a', 'b-c'));
    expect(queryStateBucket('a', 'b.c')).toBe('ER_Q_a_b__c');
    expect(queryStateBucket('a', 'b.c')).toMatch(/^[-\w]+$/);
  });
});

describe('query status', () => {
  const status = (p: Partial<PartitionStatus>): PartitionStatus => ({
    v: 1,
    owner: 'w1',
    seq: 10,
    watermark: Date.parse('2026-01-01T00:01:00Z'),
    stateKeys: 3,
    late: 0,
    rejected: 0,
    at: '2026-01-01T00:02:00.500Z',
    ...p,
  });
  const seen: PartitionObservation[] = [
    { query: 'q', partition: 0, owner: 'w1', status: status({ late: 2, rejected: 4, full: true }) },
    {
      query: 'q',
      partition: 1,
      owner: 'w2',
      status: status({
        watermark: Date.parse('2026-01-01T00:00:30Z'),
        stateKeys: 5,
        at: '2026-01-01T00:01:59Z',
      }),
    },
    { query: 'q', partition: 2, status: status({ watermark: null, stateKeys: 0 }) },
    { query: 'other', partition: 0, owner: 'w1' },
  ];

  it('sums partitions and keeps the slowest watermark and the oldest checkpoint', () => {
    expect(queryStatuses([{ name: 'q', partitions: 4 }], seen)).toEqual([
      {
        name: 'q',
        partitions: 4,
        owned: 2,
        workers: 2,
        watermark: '2026-01-01T00:00:30Z',
        lateEvents: 2,
        stateKeys: 8,
        stateLimitedEvents: 4,
        partitionsAtStateLimit: 1,
        lastCheckpoint: '2026-01-01T00:01:59Z',
      },
    ]);
  });

  it('is QueryStateWithinLimits=False naming each query at its limit and what to change', () => {
    const items = queryStatuses(
      [
        { name: 'q', partitions: 4 },
        { name: 'other', partitions: 1 },
      ],
      seen,
    );
    expect(
      stateLimitCondition(
        [
          { name: 'other', maxStateKeys: 5 },
          { name: 'q', maxStateKeys: 3 },
        ],
        items,
        true,
      ),
    ).toEqual({
      type: 'QueryStateWithinLimits',
      status: 'False',
      reason: 'StateLimitReached',
      message:
        'query q: 1 of 4 partitions at maxStateKeys (3 state keys), 4 inputs needing new state dead-lettered with reason state-limit so far; raise spec.queries[1].maxStateKeys or its partitions, or shorten its windows',
    });
    // Under the limit again (windows closed): True.
    const below = queryStatuses(
      [{ name: 'q', partitions: 4 }],
      [{ query: 'q', partition: 0, owner: 'w1', status: status({ rejected: 4, full: false }) }],
    );
    expect(stateLimitCondition([{ name: 'q' }], below, true)).toMatchObject({
      status: 'True',
      reason: 'StateWithinLimits',
    });
  });

  it('keeps what QueryStateWithinLimits said while the workers cannot be read, True if it never said', () => {
    expect(stateLimitCondition([{ name: 'q' }], undefined, true)).toBeUndefined();
    expect(stateLimitCondition([{ name: 'q' }], undefined, false)).toMatchObject({ status: 'True' });
    expect(stateLimitCondition([], undefined, true)).toMatchObject({ status: 'True', message: 'no queries' });
  });

  it('reports a query nobody has touched without times', () => {
    expect(queryStatuses([{ name: 'fresh', partitions: 2 }], seen)).toEqual([
      {
        name: 'fresh',
        partitions: 2,
        owned: 0,
        workers: 0,
        lateEvents: 0,
        stateKeys: 0,
        stateLimitedEvents: 0,
        partitionsAtStateLimit: 0,
      },
    ]);
  });

  it('tells partitions that moved from one live owner to another', () => {
    const before = new Map([
      ['q/0', 'w1'],
      ['q/1', 'w1'],
      ['q/2', 'w1'],
    ]);
    // q/2 has no live owner now: not a move yet.
    expect(ownerChanges(before, seen)).toEqual([{ partition: 'q/1', from: 'w1', to: 'w2' }]);
    expect(ownerChanges(new Map(), seen)).toEqual([]);
  });
});
