// The autoscaler sizing query workers, with the operator as its own process and the local kubelet
// running real processors and query workers. Two queries, `evens` and `odds`, write one result per
// event (of even and of odd n) to a real webhook receiver that answers each batch of 20 after
// 100 ms, one request at a time per worker, so each query-worker pod writes a bounded number of
// results per second (up to 200). Each query has 2 partitions, and, rows per event having one key,
// its whole input is in one of them: 4 partitions, 2 with work. A second worker takes one of them
// (a worker hands back its share's last partitions, and the two busy ones are not next to each
// other in the order workers take them), so it really adds throughput; a third or fourth would
// own idle partitions only, and the autoscaler, which counts the shuffle stream's messages per
// partition, does not add them (maxReplicas 4 would allow it). A backlog published straight into
// the source stream is moved into the shuffle stream by one processor, with no query worker yet,
// before autoscaling is switched on (so the processors, with nothing pending, stay at one and the
// machine's cores go to the query workers). The query workers then start at the autoscaler's
// minimum of one, scale up on the shuffle backlog to the 2 busy partitions, and back to one after
// the drain and scaleDownDelay, without reversing on the way. The workers acknowledge their input
// in steps (a pull batch per partition, at a checkpoint): the operator measures them over a window
// spanning those steps. spec.queryWorkers.replicas is never written. (That one busy partition
// gets no second worker is unit-tested: test/unit/operator/query-autoscale.test.ts.)
//
// Backlog: EVENTRUNNER_AUTOSCALE_EVENTS, default 12,000 (the step up comes after about 6,000,
// whatever the machine's speed: three pull-batch cycles of one worker); the figures in
// docs/operations.md were taken with 200,000.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shuffleStreamName } from '../../operator/names.js';
import { eventually } from '../support/operator.js';
import {
  autoscaleBacklog,
  backlogStreamBytes,
  followReplicas,
  startDay2Cluster,
  type Day2Cluster,
} from '../support/day2-cluster.js';

const EVENTS = autoscaleBacklog(12_000);
// Partitions per query; each query's input is in one of them.
const PARTITIONS = 2;
const QUERIES = ['evens', 'odds'];
const BUSY = QUERIES.length;
// Waits grow with the backlog: at worst about 100 events/s through each stage on a loaded machine.
const stageMs = Math.max(180_000, EVENTS * 10);

/**
 * The suite, declared by test/e2e/suspend-autoscale.test.ts after its own: the two autoscaling
 * cases size pods by their throughput on the same cores, so they run one after the other.
 */
export function queryWorkerAutoscaling(): void {
  describe('query workers autoscaled through the operator and the local kubelet', () => {
    const ns = `qscale-${randomUUID().slice(0, 6)}`;
    let c: Day2Cluster;

    beforeAll(async () => {
      // One request of 20 results at a time per worker, answered after 100 ms: at most 200 results/s
      // per worker, well below what the machine can do, so that more workers really do more.
      c = await startDay2Cluster(ns, 100);
      await c.create('sinks', 'Sink', 'slow', {
        http: {
          url: `${c.receiver.url}/slow`,
          mode: 'batch',
          maxConcurrency: 1,
          batch: { maxEvents: 20, maxDelay: '20ms' },
        },
      });
      await c.eventSource('readings', backlogStreamBytes(EVENTS, 64));
    }, 180_000);

    afterAll(async () => {
      await c?.stop();
    });

    it(
      `scales query workers 1 → ${BUSY} (the busy partitions of ${BUSY * PARTITIONS}) on a ${EVENTS}-event shuffle backlog and back to one after the drain`,
      { timeout: 120_000 + 3 * stageMs },
      async () => {
        const start = Date.now();
        await c.publish('readings', 0, EVENTS, (i) => ({
          specversion: '1.0',
          id: `r-${i}`,
          source: '/qscale',
          type: 'com.qscale.reading',
          // One time for all: however the processors interleave them, none is late for the query.
          time: '2026-01-01T00:00:00Z',
          datacontenttype: 'application/json',
          data: { n: i },
        }));
        const published = Date.now();
        await c.create('pipelines', 'Pipeline', 'echo', {
          sources: [{ eventSource: 'readings' }],
          rules: '',
          outputs: [{ name: 'hook', sink: 'slow' }],
          // The events themselves go nowhere: only the query's results reach the receiver.
          defaultOutputs: [],
          deadLetter: { maxBytes: '8Mi' },
          queryWorkers: { replicas: 0 },
          queries: QUERIES.map((name, i) => ({
            name,
            partitions: PARTITIONS,
            outputs: ['hook'],
            sql: `SELECT id AS reading, data.n AS n FROM readings WHERE data.n % 2 = ${i}`,
          })),
        });
        // One processor moves the backlog into the shuffle stream; then autoscaling goes on.
        await eventually(
          'the backlog in the shuffle stream',
          async () => {
            const info = await c.jsm.consumers.info(`ER_${ns}_readings`, `ER_PL_${ns}_echo`);
            return info.num_pending + info.num_ack_pending === 0 ? true : undefined;
          },
          stageMs,
        );
        const shuffled = Date.now();
        const inShuffle = (await c.jsm.streams.info(shuffleStreamName(ns, 'echo'))).state.messages;
        await c.custom.patchNamespacedCustomObject({
          group: 'eventrunner.io',
          version: 'v1alpha1',
          namespace: ns,
          plural: 'pipelines',
          name: 'echo',
          body: [
            {
              op: 'add',
              path: '/spec/autoscaling',
              value: {
                minReplicas: 1,
                maxReplicas: 4,
                targetLagSeconds: 5,
                scaleDownDelay: '5s',
                lookback: '3s',
              },
            },
          ],
        });

        // The query-worker Deployment's replicas as the operator sets them, every change in order.
        const reasons: { at: number; reason: string; message: string }[] = [];
        const { history, stop: stopFollowing } = followReplicas(
          () =>
            c.apps
              .readNamespacedDeployment({ name: 'echo-query-worker', namespace: ns })
              .then((d) => d.spec?.replicas),
          250,
          // The autoscaler's reasons as they change, for the figures and a failure's message.
          async () => {
            const decision = await c.pipeline('echo').then(
              (p) => p.status?.queryWorkers?.autoscaling,
              () => undefined,
            );
            if (decision?.reason && reasons.at(-1)?.reason !== decision.reason)
              reasons.push({ at: Date.now(), reason: decision.reason, message: decision.message ?? '' });
          },
        );
        let lastDecision: unknown;
        const created = await eventually('the query-worker Deployment', async () =>
          history.length ? c.pipeline('echo') : undefined,
        );
        expect(created.spec.autoscaling?.maxReplicas).toBe(4);
        await eventually(
          `${BUSY} query workers`,
          async () => {
            if (history.at(-1)?.replicas === BUSY) return true;
            // What the autoscaler decides meanwhile, for the failure message.
            lastDecision = (await c.pipeline('echo')).status?.queryWorkers?.autoscaling;
            return undefined;
          },
          stageMs,
        ).catch((err: unknown) => {
          throw new Error(
            `${String(err)}; last decision: ${JSON.stringify(lastDecision)}; reasons: ${reasons.map((r) => `${r.reason} (${r.message})`).join('; ')}`,
          );
        });
        const atMax = Date.now();
        // Drained when every result was written and the shuffle stream (a work queue) is empty.
        const results = () => [...c.receiver.accepted().keys()].length;
        await eventually(
          'the shuffle stream drained',
          async () =>
            (await c.jsm.streams.info(shuffleStreamName(ns, 'echo'))).state.messages === 0 ? true : undefined,
          stageMs,
        );
        const drainedAt = Date.now();
        await eventually(
          'back to 1 query worker',
          () => (history.at(-1)?.replicas === 1 ? true : undefined),
          120_000,
        );
        const atMin = Date.now();
        await stopFollowing();

        // From the 0 of spec.queryWorkers.replicas to the autoscaler's minimum first.
        const values = history.map((h) => h.replicas).filter((r, i) => i > 0 || r > 0);
        expect(values[0]).toBe(1);
        // One step up to the busy partitions, never beyond although maxReplicas is 4 and there are
        // 4 partitions (a third worker would own idle ones), and one step down: two changes, no
        // flapping.
        expect(values).toEqual([1, BUSY, 1]);
        // The backlog was in the shuffle stream when autoscaling went on.
        expect(inShuffle).toBe(EVENTS);
        // Every reading's result arrived (a partition that moved re-emits under the same id).
        expect(results()).toBe(EVENTS);
        // The processors had nothing pending: they stayed at one.
        expect(
          (await c.apps.readNamespacedDeployment({ name: 'echo-processor', namespace: ns })).spec?.replicas,
        ).toBe(1);

        const pl = await c.pipeline('echo');
        expect(pl.metadata?.generation).toBe(created.metadata?.generation);
        expect(pl.spec.queryWorkers?.replicas).toBe(0);
        expect(pl.status?.queryWorkers?.autoscaling?.desiredReplicas).toBe(1);
        const events = await c.core.listNamespacedEvent({
          namespace: ns,
          fieldSelector: 'involvedObject.name=echo',
        });
        const messages = events.items.map((e) => `${e.reason}: ${e.message}`);
        // The step up read the shuffle stream per partition: work in 2 of the 4.
        expect(
          messages.some((m) => /^ScaledUp: query workers 1 → 2: \d+ pending in 2 partitions, /.test(m)),
        ).toBe(true);
        expect(messages.some((m) => /^ScaledDown: query workers \d → /.test(m))).toBe(true);

        const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
        console.log(
          `query-worker autoscaling: ${EVENTS} events published in ${secs(published - start)}, in the shuffle ` +
            `stream ${secs(shuffled - published)} later; from autoscaling on: 1 → ${BUSY} workers in ` +
            `${secs(atMax - shuffled)}, drained in ${secs(drainedAt - shuffled)}; back to 1 worker ` +
            `${secs(atMin - drainedAt)} after the drain (scaleDownDelay 5s, lookback 3s); ` +
            `replicas: ${history.map((h) => `${h.replicas}@${secs(h.at - shuffled)}`).join(' ')}; ` +
            `decisions: ${reasons.map((r) => `${r.reason}@${secs(r.at - shuffled)} (${r.message})`).join('; ')}`,
        );
      },
    );
  });
}
