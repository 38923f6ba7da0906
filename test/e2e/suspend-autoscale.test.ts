// Suspend/resume and the autoscaler with the operator as its own process and the local kubelet
// running real processors, writing to a real webhook receiver that answers slowly (each processor
// pod then does a bounded number of events per second, so more pods really do more).
// - Suspend mid-stream: the processors go, the consumer's position holds while 10,000 more events
//   arrive, and resume delivers every event exactly once.
// - A 20,000-event backlog (EVENTRUNNER_AUTOSCALE_EVENTS; the figures in docs/operations.md were
//   taken with 200,000), published straight into the stream, scales a Pipeline from 1 to its max
//   and back to its min after the drain and scaleDownDelay, without reversing on the way. Then,
//   settled at the min, a steady load one pod keeps up with (an eighth of the backlog at 100
//   events/s: 25 s by default, several lookbacks and scaleDownDelays) changes the replicas at most
//   once and never reverses them.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CloudEvent } from '../../runtime/events/index.js';
import { eventually } from '../support/operator.js';
import {
  autoscaleBacklog,
  backlogStreamBytes,
  followReplicas,
  startDay2Cluster,
  type Day2Cluster,
} from '../support/day2-cluster.js';
import { queryWorkerAutoscaling } from './query-autoscale.js';

// Enough that one slow pod (about 200 events/s) would take 100 s: four drain it in about a quarter.
const BACKLOG = autoscaleBacklog(20_000);
// Waits grow with the backlog: at worst about 100 events/s on a loaded machine.
const drainMs = Math.max(480_000, BACKLOG * 10);
// The steady phase: about half of what one pod does (about 200 events/s; its Sink bounds it).
const STEADY_RATE = 100;
const STEADY = Math.round(BACKLOG / 8);
const steadyMs = (STEADY / STEADY_RATE) * 1000;

describe('suspend and autoscaling through the operator and the local kubelet', () => {
  const ns = `day2-${randomUUID().slice(0, 6)}`;
  let c: Day2Cluster;

  const setSuspend = (name: string, value: boolean) =>
    c.custom.patchNamespacedCustomObject({
      group: 'eventrunner.io',
      version: 'v1alpha1',
      namespace: ns,
      plural: 'pipelines',
      name,
      body: [{ op: 'replace', path: '/spec/suspend', value }],
    });
  const deployment = (pl: string) =>
    c.apps.readNamespacedDeployment({ name: `${pl}-processor`, namespace: ns });
  const consumer = (es: string, pl: string) => c.jsm.consumers.info(`ER_${ns}_${es}`, `ER_PL_${ns}_${pl}`);
  const tick =
    (prefix: string) =>
    (i: number): CloudEvent => ({
      specversion: '1.0',
      id: `${prefix}-${i}`,
      source: '/day2',
      type: 'com.day2.tick',
      datacontenttype: 'application/json',
      data: { n: i },
    });

  async function readyPipeline(name: string, spec: object): Promise<void> {
    await c.create('pipelines', 'Pipeline', name, {
      rules: 'rule All "every event" { when true then Route("hook"); }',
      outputs: [{ name: 'hook', sink: 'fast' }],
      deadLetter: { maxBytes: '8Mi' },
      ...spec,
    });
    await eventually(
      `Pipeline ${name} Ready`,
      async () =>
        (await c.pipeline(name)).status?.conditions?.find((k) => k.type === 'Ready')?.status === 'True'
          ? true
          : undefined,
      120_000,
    );
  }

  beforeAll(async () => {
    c = await startDay2Cluster(ns, 50);
    // Every request is answered after 50 ms. `fast` (4 requests of 50 at a time) lets a processor go
    // as fast as the machine allows; `slow` (one request of 10 at a time, about 200 events/s) bounds
    // each processor pod well below what the machine can do, so that more pods really do more.
    for (const [name, maxConcurrency, maxEvents] of [
      ['fast', 4, 50],
      ['slow', 1, 10],
    ] as const)
      await c.create('sinks', 'Sink', name, {
        http: {
          url: `${c.receiver.url}/${name}`,
          mode: 'batch',
          maxConcurrency,
          batch: { maxEvents, maxDelay: '20ms' },
        },
      });
    await c.eventSource('ticks', '128Mi');
    await c.eventSource('bulk', backlogStreamBytes(BACKLOG, 128));
  }, 180_000);

  afterAll(async () => {
    await c?.stop();
  });

  const acceptedWith = (prefix: string) => {
    const all = c.receiver.accepted();
    const mine = [...all.entries()].filter(([id]) => id.startsWith(`${prefix}-`));
    return { count: mine.length, repeated: mine.filter(([, n]) => n !== 1).map(([id]) => id) };
  };

  it(
    'suspends mid-stream, holds the position while 10,000 more arrive, and resumes exactly once',
    { timeout: 240_000 },
    async () => {
      await readyPipeline('ticker', { sources: [{ eventSource: 'ticks' }] });
      await c.publish('ticks', 0, 5_000, tick('s'));
      await eventually(
        'some events processed',
        () => (acceptedWith('s').count >= 500 ? true : undefined),
        60_000,
      );
      expect(acceptedWith('s').count).toBeLessThan(5_000);

      // Consumption stops within seconds: the consumer's delivered counts and the writes, read
      // every 200 ms from the suspend on, stop moving. Their last move is known once the processors
      // are gone and the position holds (below), whatever the machine's load made that wait.
      let lastMove = Date.now();
      let delivered = '';
      let watching = true;
      const watchUntil = Date.now() + 150_000;
      const watch = (async () => {
        while (watching && Date.now() < watchUntil) {
          const info = await consumer('ticks', 'ticker').catch(() => undefined);
          const now =
            info && `${info.delivered.consumer_seq}/${info.delivered.stream_seq}/${acceptedWith('s').count}`;
          if (now !== undefined && now !== delivered) {
            if (delivered !== '') lastMove = Date.now();
            delivered = now;
          }
          await new Promise((r) => setTimeout(r, 200));
        }
      })();
      const suspendedAt = Date.now();
      await setSuspend('ticker', true);
      await eventually(
        'processors gone',
        async () => {
          const d = await deployment('ticker');
          return d.spec?.replicas === 0 && (d.status?.replicas ?? 0) === 0 ? true : undefined;
        },
        60_000,
      );
      // Events the processors had fetched but not started when they stopped were nak'ed: they count
      // as ack pending until a processor takes them again, at once after resume; none of them was
      // written. The position holds once two looks a second apart agree.
      let previous = '';
      const held = await eventually(
        'the position to hold',
        async () => {
          const c = await consumer('ticks', 'ticker');
          const now = [
            c.delivered.stream_seq,
            c.ack_floor.stream_seq,
            c.num_ack_pending,
            acceptedWith('s').count,
          ].join('/');
          const same = now === previous;
          previous = now;
          if (!same) await new Promise((r) => setTimeout(r, 1000));
          return same ? c : undefined;
        },
        60_000,
      );
      watching = false;
      await watch;
      expect(delivered, 'the consumer was read').not.toBe('');
      const stoppedAfterMs = Math.max(0, lastMove - suspendedAt);
      expect(stoppedAfterMs).toBeLessThanOrEqual(10_000);
      const processedAtSuspend = acceptedWith('s').count;
      expect(acceptedWith('s').repeated).toEqual([]);
      expect(processedAtSuspend + held.num_pending + held.num_ack_pending).toBe(5_000);

      await c.publish('ticks', 5_000, 15_000, tick('s'));
      // Nothing is delivered while suspended: the consumer's position and the receiver stay put
      // while the pending count grows by exactly what was published.
      const after = await eventually('the 10,000 counted as pending', async () => {
        const c = await consumer('ticks', 'ticker');
        return c.num_pending === held.num_pending + 10_000 ? c : undefined;
      });
      expect(after.delivered.stream_seq).toBe(held.delivered.stream_seq);
      expect(after.ack_floor.stream_seq).toBe(held.ack_floor.stream_seq);
      expect(after.num_ack_pending).toBe(held.num_ack_pending);
      expect(acceptedWith('s').count).toBe(processedAtSuspend);
      const pl = await eventually('status with the new lag', async () => {
        const pl = await c.pipeline('ticker');
        return pl.status?.lag === held.num_pending + held.num_ack_pending + 10_000 ? pl : undefined;
      });
      expect(pl.status?.phase).toBe('Suspended');

      await setSuspend('ticker', false);
      await eventually(
        'all 15,000 delivered',
        () => (acceptedWith('s').count === 15_000 ? true : undefined),
        180_000,
      );
      expect(acceptedWith('s').repeated).toEqual([]);
      // The last writes are acknowledged a moment after the receiver answered them.
      await eventually('the consumer drained', async () => {
        const c = await consumer('ticks', 'ticker');
        return c.num_pending + c.num_ack_pending === 0 ? true : undefined;
      });
      expect(acceptedWith('s')).toEqual({ count: 15_000, repeated: [] });
      console.log(
        `suspend: consumption stopped ${stoppedAfterMs} ms after spec.suspend was set; ` +
          `${processedAtSuspend} of 5,000 processed before (${held.num_ack_pending} left in flight), ` +
          `the rest and 10,000 more after resume`,
      );
    },
  );

  /** Publishes `count` events from `from` into `es` at `perSecond`, a tenth of a second's worth at a time. */
  async function publishSteadily(
    es: string,
    from: number,
    count: number,
    perSecond: number,
    event: (i: number) => CloudEvent,
  ): Promise<void> {
    const start = Date.now();
    let sent = 0;
    while (sent < count) {
      const due = Math.min(count, Math.floor(((Date.now() - start) / 1000) * perSecond));
      if (due > sent) await c.publish(es, from + sent, from + due, event);
      sent = Math.max(sent, due);
      // The pace of the load, not a wait for a condition.
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it(
    `scales a ${BACKLOG}-event backlog from 1 to max and back to min after the drain, without flapping, and holds under steady load`,
    { timeout: 180_000 + drainMs + steadyMs },
    async () => {
      // The backlog first: the Pipeline's consumer starts with all of it pending.
      const start = Date.now();
      await c.publish('bulk', 0, BACKLOG, tick('b'));
      const published = Date.now();
      await c.create('pipelines', 'Pipeline', 'scaled', {
        sources: [{ eventSource: 'bulk' }],
        rules: 'rule All "every event" { when true then Route("hook"); }',
        outputs: [{ name: 'hook', sink: 'slow' }],
        deadLetter: { maxBytes: '8Mi' },
        autoscaling: {
          minReplicas: 1,
          maxReplicas: 4,
          targetLagSeconds: 5,
          scaleDownDelay: '5s',
          lookback: '3s',
        },
      });

      // The Deployment's replicas as the operator sets them, every change in order, and the
      // autoscaler's reasons as they change (for the steady phase's report).
      const reasons: { at: number; reason: string; message: string }[] = [];
      const { history, stop: stopFollowing } = followReplicas(
        () => deployment('scaled').then((d) => d.spec?.replicas),
        200,
        async () => {
          const decision = await c.pipeline('scaled').then(
            (p) => p.status?.autoscaling,
            () => undefined,
          );
          if (decision?.reason && reasons.at(-1)?.message !== decision.message)
            reasons.push({ at: Date.now(), reason: decision.reason, message: decision.message ?? '' });
        },
      );
      const created = await eventually('the processor Deployment', async () =>
        history.length ? c.pipeline('scaled') : undefined,
      );

      await eventually(
        '4 replicas',
        () => (history.at(-1)?.replicas === 4 ? true : undefined),
        240_000,
      ).catch((err: unknown) => {
        throw new Error(
          `${String(err)}; replicas: ${history.map((h) => h.replicas).join(' ')}; decisions: ` +
            reasons.map((r) => `${r.reason} (${r.message})`).join('; '),
        );
      });
      const atMax = Date.now();
      // Drained when the consumer has nothing pending or in flight: every event acknowledged, so
      // written. (Asking the consumer costs the receiver, in this process, nothing.)
      await eventually(
        'the backlog processed',
        async () => {
          const c = await consumer('bulk', 'scaled');
          return c.num_pending + c.num_ack_pending === 0 ? true : undefined;
        },
        drainMs,
      );
      const drainedAt = Date.now();
      await eventually(
        'back to 1 replica',
        () => (history.at(-1)?.replicas === 1 ? true : undefined),
        120_000,
      );
      const atMin = Date.now();
      const settled = history.length;

      expect(acceptedWith('b')).toEqual({ count: BACKLOG, repeated: [] });
      // Up, then down: never down and up again (no flapping), and few steps each way.
      const values = history.slice(0, settled).map((h) => h.replicas);
      expect(values[0]).toBe(1);
      const peak = values.indexOf(4);
      expect(values.slice(0, peak + 1)).toEqual([...values.slice(0, peak + 1)].sort((a, b) => a - b));
      expect(values.slice(peak)).toEqual([...values.slice(peak)].sort((a, b) => b - a));
      expect(values.length - 1).toBeLessThanOrEqual(5);
      // The autoscaler never wrote the Pipeline's spec.
      const pl = await c.pipeline('scaled');
      expect(pl.metadata?.generation).toBe(created.metadata?.generation);
      expect(pl.spec.replicas).toBe(1);
      expect(pl.status?.autoscaling?.desiredReplicas).toBe(1);
      const events = await c.core.listNamespacedEvent({
        namespace: ns,
        fieldSelector: 'involvedObject.name=scaled',
      });
      const scaled = events.items.map((e) => e.reason);
      expect(scaled).toContain('ScaledUp');
      expect(scaled).toContain('ScaledDown');

      // Steady load, settled at the min: a constant rate one pod keeps up with.
      const steadyStart = Date.now();
      await publishSteadily('bulk', BACKLOG, STEADY, STEADY_RATE, tick('b'));
      const steadyEnd = Date.now();
      await eventually(
        'the steady load processed',
        async () => {
          const c = await consumer('bulk', 'scaled');
          return c.num_pending + c.num_ack_pending === 0 ? true : undefined;
        },
        120_000,
      );
      await stopFollowing();
      expect(acceptedWith('b')).toEqual({ count: BACKLOG + STEADY, repeated: [] });
      // The replicas from the settled min to the end of the steady load: at most one change (a
      // pod measured slow on a busy machine may be joined by a second), never reversed.
      const steady = history.slice(settled - 1).map((h) => h.replicas);
      const steadyChanges = steady.length - 1;
      const reversed = steady.some(
        (r, i) => i >= 2 && Math.sign(r - steady[i - 1]!) !== Math.sign(steady[i - 1]! - steady[i - 2]!),
      );

      const duringSteady = reasons.filter((r) => r.at >= steadyStart);
      const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
      console.log(
        `autoscaling: ${BACKLOG} events published in ${secs(published - start)}; from the Pipeline's ` +
          `creation: 1 → 4 replicas in ${secs(atMax - published)}, drained in ${secs(drainedAt - published)}; ` +
          `back to 1 replica ${secs(atMin - drainedAt)} after the drain (scaleDownDelay 5s, lookback 3s); ` +
          `replicas: ${history
            .slice(0, settled)
            .map((h) => `${h.replicas}@${secs(h.at - published)}`)
            .join(' ')}; ` +
          `steady load: ${STEADY} events at ${STEADY_RATE}/s over ${secs(steadyEnd - steadyStart)}, ` +
          `${steadyChanges} replica change(s): ${steady.join(' → ')}; decisions meanwhile: ` +
          duringSteady
            .filter((r, i) => r.reason !== duringSteady[i - 1]?.reason)
            .map((r) => `${r.reason}@${secs(r.at - steadyStart)} (${r.message})`)
            .join('; ') +
          `; last: ${duringSteady.at(-1)?.message ?? 'none'}`,
      );
      expect(reversed).toBe(false);
      expect(steadyChanges).toBeLessThanOrEqual(1);
    },
  );
});

// Query-worker autoscaling (query-autoscale.ts) runs here, after the processors' case: both size
// pods of the same local kubelet by the throughput they measure, and side by side (two test
// workers) each took the cores the other's throughput is made of.
queryWorkerAutoscaling();
