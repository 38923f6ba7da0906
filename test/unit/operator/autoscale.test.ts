// The autoscaler's decision against a simulated queue: events arrive at a rate, each ready pod
// processes up to its capacity (optionally with a ceiling the whole Pipeline cannot pass, as a slow
// sink imposes), new pods take a while to become ready.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  AutoscaleReason,
  decide,
  initialAutoscaleState,
  type AutoscaleSpec,
  type Decision,
} from '../../../operator/autoscale.js';

interface Load {
  /** Events arriving per second, by second. */
  arrivals: (t: number) => number;
  /** Events per second one pod processes. */
  perPod: number;
  /** Events per second the whole Pipeline can never exceed. */
  ceiling?: number;
  /** Seconds a new pod takes to become ready. */
  startup?: number;
  backlog?: number;
}

interface Run {
  replicas: number[];
  decisions: Decision[];
  pending: number[];
}

function simulate(spec: AutoscaleSpec, load: Load, seconds: number, start = 1): Run {
  let state = initialAutoscaleState();
  let replicas = start;
  let pending = load.backlog ?? 0;
  let processed = 0;
  let readyAt = new Map<number, number>(); // pod index → second it is ready
  for (let i = 0; i < replicas; i++) readyAt.set(i, 0);
  const run: Run = { replicas: [], decisions: [], pending: [] };
  for (let t = 0; t < seconds; t++) {
    pending += load.arrivals(t);
    const ready = [...readyAt.values()].filter((r) => r <= t).length;
    const capacity = Math.min(ready * load.perPod, load.ceiling ?? Infinity);
    const done = Math.min(pending, capacity);
    pending -= done;
    processed += done;
    const d = decide(spec, state, { now: t * 1000, pending, processed, replicas, readyReplicas: ready });
    state = d.state;
    if (d.replicas !== replicas) {
      const next = new Map<number, number>();
      for (let i = 0; i < d.replicas; i++) next.set(i, readyAt.get(i) ?? t + (load.startup ?? 3));
      readyAt = next;
      replicas = d.replicas;
    }
    run.replicas.push(replicas);
    run.decisions.push(d);
    run.pending.push(pending);
  }
  return run;
}

/** Changes of direction: up then down (or down then up) counts one. */
function reversals(replicas: number[]): number {
  let n = 0;
  let dir = 0;
  for (let i = 1; i < replicas.length; i++) {
    const d = Math.sign(replicas[i]! - replicas[i - 1]!);
    if (d === 0) continue;
    if (dir !== 0 && d !== dir) n++;
    dir = d;
  }
  return n;
}

const changes = (replicas: number[]) => replicas.filter((r, i) => i > 0 && r !== replicas[i - 1]).length;

const spec: AutoscaleSpec = {
  minReplicas: 1,
  maxReplicas: 8,
  targetLagSeconds: 10,
  scaleDownDelayMs: 30_000,
  lookbackMs: 5_000,
};

describe('autoscaler decision', () => {
  it('scales a backlog up to its max quickly and back to its min after the drain and scaleDownDelay', () => {
    const run = simulate(spec, { arrivals: () => 0, perPod: 500, backlog: 200_000 }, 400);
    const firstMax = run.replicas.indexOf(8);
    expect(firstMax).toBeGreaterThan(0);
    expect(firstMax).toBeLessThan(30);
    const drained = run.pending.indexOf(0);
    expect(drained).toBeGreaterThan(firstMax);
    const backToMin = run.replicas.findIndex((r, i) => i > drained && r === 1);
    // Not before the delay, and in at most log2(8) delayed halving steps after it.
    expect(backToMin - drained).toBeGreaterThanOrEqual(30);
    expect(backToMin - drained).toBeLessThan(3 * 40);
    expect(reversals(run.replicas)).toBe(1);
    expect(run.decisions.filter((d) => d.changed).every((d) => d.reason !== AutoscaleReason.Steady)).toBe(
      true,
    );
  });

  it('holds when the last step up did not raise throughput', () => {
    // One pod does 500/s, but the sink takes at most 1000/s whatever the pods: 1 → 2 helps, 2 → 4 does not.
    const run = simulate(spec, { arrivals: () => 0, perPod: 500, ceiling: 1000, backlog: 500_000 }, 200);
    expect(Math.max(...run.replicas)).toBe(4);
    expect(run.decisions.some((d) => d.reason === AutoscaleReason.ThroughputPlateau)).toBe(true);
    // Once held, it stays held while the backlog lasts.
    const held = run.decisions.findIndex((d) => d.reason === AutoscaleReason.ThroughputPlateau);
    expect(new Set(run.replicas.slice(held))).toEqual(new Set([run.replicas[held]]));
  });

  it('scales to zero only with minReplicas 0, and wakes on pending work', () => {
    const idle = simulate(spec, { arrivals: () => 0, perPod: 100 }, 120, 3);
    expect(idle.replicas.at(-1)).toBe(1);
    const zero = { ...spec, minReplicas: 0 };
    const run = simulate(zero, { arrivals: (t) => (t === 150 ? 50 : 0), perPod: 100 }, 200, 3);
    expect(run.replicas[140]).toBe(0);
    expect(run.replicas[150]).toBe(1);
    expect(run.decisions[150]!.reason).toBe(AutoscaleReason.ScaledFromZero);
    expect(run.pending.at(-1)).toBe(0);
  });

  // 150 runs of 600 simulated seconds: about 3 s of CPU, longer on a busy machine.
  it('stays within bounds, never zero unless allowed, and does not flap under steady load', () => {
    fc.assert(
      fc.property(
        fc.record({
          min: fc.integer({ min: 0, max: 3 }),
          extra: fc.integer({ min: 0, max: 8 }),
          target: fc.integer({ min: 1, max: 60 }),
          delay: fc.integer({ min: 0, max: 60 }),
          lookback: fc.integer({ min: 1, max: 20 }),
          rate: fc.integer({ min: 0, max: 5000 }),
          perPod: fc.integer({ min: 50, max: 2000 }),
          backlog: fc.integer({ min: 0, max: 100_000 }),
          startup: fc.integer({ min: 0, max: 10 }),
          start: fc.integer({ min: 0, max: 12 }),
        }),
        (p) => {
          const s: AutoscaleSpec = {
            minReplicas: p.min,
            maxReplicas: Math.max(1, p.min + p.extra),
            targetLagSeconds: p.target,
            scaleDownDelayMs: p.delay * 1000,
            lookbackMs: p.lookback * 1000,
          };
          const run = simulate(
            s,
            { arrivals: () => p.rate, perPod: p.perPod, backlog: p.backlog, startup: p.startup },
            600,
            p.start,
          );
          for (const [i, r] of run.replicas.entries()) {
            expect(r).toBeLessThanOrEqual(s.maxReplicas);
            expect(r).toBeGreaterThanOrEqual(s.minReplicas);
            if (r === 0) expect(run.pending[i]).toBe(0);
          }
          // Steady arrivals: after settling (the backlog gone), one direction at most, few changes.
          const settled = run.replicas.slice(300);
          expect(reversals(settled)).toBe(0);
          expect(changes(settled)).toBeLessThanOrEqual(Math.ceil(Math.log2(s.maxReplicas)) + 1);
        },
      ),
      { numRuns: 150 },
    );
  }, 60_000);

  it('does not step down to a count measured short of the load', () => {
    // Two pods under a steady 100/s, each able to do 190/s; one pod was measured at 80/s (while
    // warming up, on a busy node). The rate per pod says one would do; the measurement says no.
    const steady = (throughput: Record<number, number>) => {
      let state = { ...initialAutoscaleState(), throughput };
      let replicas = 2;
      const seen: Decision[] = [];
      for (let t = 0; t < 60; t++) {
        const d = decide(spec, state, {
          now: t * 1000,
          pending: 20,
          processed: 100 * t,
          replicas,
          readyReplicas: replicas,
        });
        state = d.state;
        replicas = d.replicas;
        seen.push(d);
      }
      return seen;
    };
    const held = steady({ 1: 80, 2: 380 });
    expect(held.every((d) => d.replicas === 2)).toBe(true);
    expect(held.at(-1)!.reason).toBe(AutoscaleReason.Steady);
    expect(held.at(-1)!.message).toMatch(/: 1 measured 80\/s, short of this load$/);
    // With one pod never measured, the rate per pod decides: down after scaleDownDelay; one pod
    // is then measured at the load (in flight, its events count as pending), which wants two
    // again. Up once more, and held there by that measurement: one reversal, not a cycle.
    const once = steady({ 2: 380 });
    const replicas = once.map((d) => d.replicas);
    expect(once.find((d) => d.changed)!.reason).toBe(AutoscaleReason.ScaledDown);
    expect(replicas.at(-1)).toBe(2);
    expect(reversals(replicas)).toBe(1);
    expect(changes(replicas)).toBe(2);
  });

  it('lifts a plateau hold once the held count is measured doing better than the one before', () => {
    // One pod does 200/s; after the step to two, both pods warm up for 10 s (150/s together), then
    // do 190/s each. The first verdict holds at two; the next measurements lift it, and up it goes.
    let state = initialAutoscaleState();
    let replicas = 1;
    let upAt = 0;
    let processed = 0;
    let pending = 100_000;
    const seen: Decision[] = [];
    for (let t = 0; t < 120; t++) {
      const rate = replicas === 1 ? 200 : t - upAt < 10 ? 150 : 190 * replicas;
      processed += rate;
      pending -= rate;
      const d = decide(spec, state, {
        now: t * 1000,
        pending,
        waiting: pending,
        processed,
        replicas,
        readyReplicas: replicas,
      });
      state = d.state;
      if (d.replicas !== replicas) upAt = t;
      replicas = d.replicas;
      seen.push(d);
    }
    const plateau = seen.findIndex((d) => d.reason === AutoscaleReason.ThroughputPlateau);
    expect(plateau).toBeGreaterThan(0);
    expect(seen[plateau]!.replicas).toBe(2);
    expect(seen.slice(plateau).some((d) => d.replicas > 2)).toBe(true);
  });

  it('does not take events in flight for waiting work: a light steady load stays at one pod', () => {
    // 50 events/s, which one pod keeps up with; at every look a few are in flight (delivered, not
    // yet acked), none waits for a pod. An hour, with the defaults.
    const defaults: AutoscaleSpec = {
      ...spec,
      targetLagSeconds: 30,
      scaleDownDelayMs: 300_000,
      lookbackMs: 30_000,
    };
    const light = (waiting: number | undefined) => {
      let state = initialAutoscaleState();
      let replicas = 1;
      const seen: number[] = [];
      for (let t = 0; t < 3600; t += 5) {
        const d = decide(defaults, state, {
          now: t * 1000,
          pending: 5,
          ...(waiting === undefined ? {} : { waiting }),
          processed: 50 * t,
          replicas,
          readyReplicas: replicas,
        });
        state = d.state;
        replicas = d.replicas;
        seen.push(replicas);
      }
      return seen;
    };
    expect(light(0).every((r) => r === 1)).toBe(true);
    // Had the in-flight events counted as waiting, the pod's rate (the arrival rate) would have
    // passed for its capacity, always one pod short: up a pod per plateau hold, to the max.
    const creep = light(undefined);
    expect(creep.at(-1)).toBe(spec.maxReplicas);
    expect(reversals(creep)).toBe(0);
  });

  it('scales up on a backlog the pods hold but have not started, although none waits', () => {
    // A pod may take many events at once (delivery.maxAckPending): 20,000 in flight, done at 100/s.
    let state = initialAutoscaleState();
    let replicas = 1;
    for (let t = 0; t <= 10 && replicas === 1; t++) {
      const d = decide(spec, state, {
        now: t * 1000,
        pending: 20_000 - 100 * t,
        waiting: 0,
        processed: 100 * t,
        replicas,
        readyReplicas: replicas,
      });
      state = d.state;
      replicas = d.replicas;
    }
    expect(replicas).toBe(2);
  });

  it('does not treat a recreated consumer as negative progress', () => {
    let d = decide(spec, initialAutoscaleState(), {
      now: 0,
      pending: 10,
      processed: 5000,
      replicas: 1,
      readyReplicas: 1,
    });
    d = decide(spec, d.state, { now: 1000, pending: 10, processed: 3, replicas: 1, readyReplicas: 1 });
    expect(d.state.samples).toHaveLength(1);
    expect(d.reason).toBe(AutoscaleReason.Measuring);
  });
});
