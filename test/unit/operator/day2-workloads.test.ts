// The pure parts of the day-2 workloads: the replay pod's own NATS user (exactly what one Replay
// needs, by its plan) and Deployment, and what the autoscaler reads and allows for query workers.
import { describe, expect, it } from 'vitest';
import type { ConsumerInfo, StreamInfo } from '@nats-io/jetstream';
import type { Pipeline, ProcessorConfigInput, Replay } from '../../../api/generated/types.js';
import { replayPermissions } from '../../../operator/nats-permissions.js';
import { replayDeployment, replayNatsUserName, replayPlan } from '../../../operator/builders/replay.js';
import {
  consumerReading,
  queryWorkerAutoscaleSpec,
  shuffleReading,
} from '../../../operator/controllers/pipeline-autoscale.js';
import { shufflePartitionSubjects } from '../../../operator/controllers/pipeline-queries.js';
import { decide, initialAutoscaleState, type AutoscaleSpec } from '../../../operator/autoscale.js';
import { matchesDeadLetter, replayBucketName, workStreamName } from '../../../runtime/replay/plan.js';
import { isResultDeadLetter } from '../../../runtime/replay/results.js';

const processor: ProcessorConfigInput = {
  nats: { url: 'nats://n:4222', inboxPrefix: '_INBOX_shop_orders-processor' },
  sources: [{ eventSource: 'web', stream: 'ER_shop_web', consumer: 'ER_PL_shop_orders' }],
  outputs: [
    { name: 'db', sink: { http: { url: 'https://x.example' } } },
    {
      name: 'alerts',
      sink: { eventSource: { name: 'alerts' } },
      eventSource: { stream: 'ER_shop_alerts', subjectPrefix: 'er.shop.alerts' },
    },
  ],
  deadLetter: { stream: 'ER_DLQ_shop_orders', subject: 'erdlq.shop.orders' },
  shuffle: { stream: 'ER_SH_shop_orders', subjectPrefix: 'ersh.shop.orders' },
  advisories: { stream: 'ER_ADV_shop_orders', consumer: 'ER_PL_shop_orders' },
};

const replay = (spec: Replay['spec']): Replay => ({
  apiVersion: 'eventrunner.io/v1alpha1',
  kind: 'Replay',
  metadata: { name: 'again', namespace: 'shop', uid: '0123abcd-0000-0000-0000-000000000000' },
  spec,
});

describe('the replay pod’s NATS user', () => {
  const fromTime = replay({ pipeline: 'orders', from: { time: '2026-01-01T00:00:00Z' } });
  const redrive = replay({ pipeline: 'orders', deadLetters: { reason: '503' } });
  const work = workStreamName(replayPlan(fromTime));
  const bucket = replayBucketName('shop', 'orders');

  it('creates and works its own work stream, uses the replay bucket, and writes as a processor does', () => {
    const p = replayPermissions(processor, replayPlan(fromTime));
    expect(p.pub).toEqual(
      expect.arrayContaining([
        `$JS.API.STREAM.CREATE.${work}`,
        `$JS.API.STREAM.INFO.${work}`,
        `$JS.API.STREAM.MSG.GET.${work}`,
        `$JS.API.CONSUMER.DURABLE.CREATE.${work}.>`,
        `$JS.API.CONSUMER.MSG.NEXT.${work}.>`,
        `$JS.ACK.${work}.>`,
        `$KV.${bucket}.>`,
        `$JS.API.STREAM.INFO.KV_${bucket}`,
        'erdlq.shop.orders',
        'er.shop.alerts.>',
        // A replay from a time reads the sources through ordered consumers of its own.
        '$JS.API.CONSUMER.CREATE.ER_shop_web.>',
        '$JS.API.CONSUMER.INFO.ER_shop_web.ER_PL_shop_orders',
      ]),
    );
    // Its own inbox, which the processor's user may not read (nor it the processor's).
    expect(p.sub).toEqual(['_INBOX_shop_orders-processor_replay.>']);
    expect(p.inboxPrefix).toBe('_INBOX_shop_orders-processor_replay');
  });

  it('grants nothing beyond what the one Replay needs', () => {
    for (const rp of [fromTime, redrive]) {
      const p = replayPermissions(processor, replayPlan(rp));
      const own = workStreamName(replayPlan(rp));
      // Creates no stream but its own work stream (the operator creates the bucket), deletes none.
      expect(p.pub.filter((s) => s.startsWith('$JS.API.STREAM.CREATE'))).toEqual([
        `$JS.API.STREAM.CREATE.${own}`,
      ]);
      expect(p.pub.some((s) => /STREAM\.(DELETE|PURGE|UPDATE)|\$JS\.API\.INFO|^>|\*/.test(s))).toBe(false);
      // Neither the Pipeline's own consumer deliveries and acks, nor its advisories or shuffle.
      expect(p.pub.some((s) => s.includes('MSG.NEXT.ER_shop_web.ER_PL_shop_orders'))).toBe(false);
      expect(p.pub.some((s) => s.startsWith('$JS.ACK.ER_shop_web'))).toBe(false);
      expect(p.pub.some((s) => s.includes('ER_ADV_') || s.includes('ER_SH_') || s.startsWith('ersh.'))).toBe(
        false,
      );
    }
  });

  it('reads the dead-letter stream for a redrive and the sources only for a replay', () => {
    const r = replayPermissions(processor, replayPlan(redrive));
    expect(r.pub).toEqual(expect.arrayContaining(['$JS.API.CONSUMER.CREATE.ER_DLQ_shop_orders.>']));
    expect(r.pub.some((s) => s.includes('ER_shop_web'))).toBe(false);
    const f = replayPermissions(processor, replayPlan(fromTime));
    expect(f.pub.some((s) => s.startsWith('$JS.API.CONSUMER.CREATE.ER_DLQ_shop_orders'))).toBe(false);
  });

  it('mounts the replay’s own Secret where the processor pod mounts its user', () => {
    const processorDeployment = {
      spec: {
        selector: {},
        template: {
          metadata: { annotations: { 'eventrunner.io/config-hash': 'h' } },
          spec: {
            containers: [{ name: 'processor', image: 'e', args: ['process', '--config', '/c/config.yaml'] }],
            volumes: [
              { name: 'config', configMap: { name: 'orders-processor' } },
              { name: 'nats-user', secret: { secretName: 'orders-processor-nats', defaultMode: 0o440 } },
            ],
          },
        },
      },
    };
    const d = replayDeployment(fromTime, processorDeployment);
    expect(d.spec!.template.spec!.volumes).toEqual([
      { name: 'config', configMap: { name: 'orders-processor' } },
      { name: 'nats-user', secret: { secretName: replayNatsUserName(fromTime), defaultMode: 0o440 } },
    ]);
  });
});

describe('query workers under spec.autoscaling', () => {
  const spec: AutoscaleSpec = {
    minReplicas: 0,
    maxReplicas: 10,
    targetLagSeconds: 5,
    scaleDownDelayMs: 5000,
    lookbackMs: 3000,
  };

  it('are capped at the partitions and never below one', () => {
    expect(queryWorkerAutoscaleSpec(spec, 4)).toMatchObject({ minReplicas: 1, maxReplicas: 4 });
    expect(queryWorkerAutoscaleSpec({ ...spec, minReplicas: 3 }, 16)).toMatchObject({
      minReplicas: 3,
      maxReplicas: 10,
    });
    expect(queryWorkerAutoscaleSpec({ ...spec, minReplicas: 3 }, 2)).toMatchObject({
      minReplicas: 2,
      maxReplicas: 2,
    });
  });

  it('read pending and processed work from the shuffle stream, a work queue', () => {
    const info = { state: { messages: 1200, last_seq: 5000 } } as StreamInfo;
    expect(shuffleReading(info)).toEqual({ pending: 1200, processed: 3800 });
  });

  it('tell processors’ waiting events from those in flight', () => {
    const info = {
      num_pending: 300,
      num_ack_pending: 40,
      delivered: { consumer_seq: 1040, stream_seq: 1040 },
    } as ConsumerInfo;
    expect(consumerReading(info)).toEqual({ pending: 340, waiting: 300, processed: 1000 });
  });

  it('count the partitions that have messages, by subject, among the queries’ partitions', () => {
    const pl = {
      metadata: { namespace: 'shop', name: 'orders.eu' },
      spec: {
        sources: [{ eventSource: 'web' }],
        queries: [
          { name: 'totals', sql: 'SELECT id FROM web', outputs: [], partitions: 3 },
          { name: 'echo', sql: 'SELECT id FROM web', outputs: [] },
        ],
      },
    } as unknown as Pipeline;
    const subjects = shufflePartitionSubjects(pl);
    expect(subjects).toEqual([
      'ersh.shop.orders_eu.totals.0',
      'ersh.shop.orders_eu.totals.1',
      'ersh.shop.orders_eu.totals.2',
      'ersh.shop.orders_eu.echo.0',
    ]);
    const info = {
      state: {
        messages: 1207,
        last_seq: 5000,
        subjects: {
          'ersh.shop.orders_eu.totals.2': 1000,
          'ersh.shop.orders_eu.echo.0': 200,
          // A removed query's leftovers: no worker reads them.
          'ersh.shop.orders_eu.gone.0': 7,
        },
      },
    } as unknown as StreamInfo;
    expect(shuffleReading(info, subjects)).toEqual({ pending: 1207, processed: 3793, busyPartitions: 2 });
    // Nothing matched the filter: the server leaves `subjects` out.
    const empty = { state: { messages: 0, last_seq: 5000 } } as StreamInfo;
    expect(shuffleReading(empty, subjects)).toEqual({ pending: 0, processed: 5000, busyPartitions: 0 });
  });

  it('scale up on a backlog only as far as the partitions, and stay at one when idle', () => {
    const qw = queryWorkerAutoscaleSpec(spec, 2);
    let state = initialAutoscaleState();
    let replicas = 1;
    // 100 events/s per worker against a 10,000-event backlog, sampled every second.
    let pending = 10_000;
    let processed = 0;
    const seen: number[] = [];
    for (let t = 0; t < 60; t++) {
      const d = decide(qw, state, { now: t * 1000, pending, processed, replicas, readyReplicas: replicas });
      state = d.state;
      replicas = d.replicas;
      seen.push(replicas);
      const done = Math.min(pending, 100 * replicas);
      pending -= done;
      processed += done;
    }
    expect(Math.max(...seen)).toBe(2);
    // Drained long before the end: back to one, never zero.
    expect(pending).toBe(0);
    expect(seen.at(-1)).toBe(1);
    expect(Math.min(...seen)).toBe(1);
  });
});

describe('query-result dead letters', () => {
  const result = new Map([
    ['eventrunner-reason', 'output res rejected the result: HTTP 404'],
    ['eventrunner-output', 'res'],
    ['eventrunner-query', 'echo'],
    ['eventrunner-result-id', 'echo:0:abc'],
  ]);
  const late = new Map([
    ['eventrunner-reason', 'late'],
    ['eventrunner-query', 'echo'],
  ]);
  const h = (m: Map<string, string>) => ({ get: (k: string) => m.get(k) ?? '' });
  const at = new Date('2026-01-02T10:00:00Z');

  it('are told apart from a query’s late inputs by their result id', () => {
    expect(isResultDeadLetter(h(result))).toBe(true);
    expect(isResultDeadLetter(h(late))).toBe(false);
  });

  it('are selected by query name', () => {
    expect(matchesDeadLetter({ query: 'echo' }, h(result), at)).toBe(true);
    expect(matchesDeadLetter({ query: 'other' }, h(result), at)).toBe(false);
    expect(matchesDeadLetter({ query: 'echo', output: 'res', reason: '404' }, h(result), at)).toBe(true);
  });
});
