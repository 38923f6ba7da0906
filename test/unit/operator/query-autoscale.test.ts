// How the autoscaler measures query workers, whose processed count moves in steps: a partition
// acknowledges the shuffle messages of a pull batch only once all their results were written and
// a checkpoint covers them. Simulated here: each ready worker writes a bounded number of results
// per second, shared by the partitions it owns; each partition pulls up to 1,000 messages at a
// time and acknowledges them together at its next checkpoint (at least 2 s after the last one).
// The operator reads how many partitions have messages in the shuffle stream, and so does each
// simulated reading.
import { describe, expect, it } from 'vitest';
import {
  AutoscaleReason,
  decide,
  initialAutoscaleState,
  type AutoscaleSpec,
  type Decision,
} from '../../../operator/autoscale.js';
import {
  MAX_STEP_WINDOW_MS,
  STEP_WINDOW_GAPS,
  decideWorkload,
  observeSteps,
  queryWorkerAutoscaleSpec,
  stepWindowMs,
  type Kept,
  type ScaledWorkload,
  type StepHistory,
} from '../../../operator/controllers/pipeline-autoscale.js';

const spec: AutoscaleSpec = {
  minReplicas: 1,
  maxReplicas: 4,
  targetLagSeconds: 5,
  scaleDownDelayMs: 5000,
  lookbackMs: 3000,
};

interface Workers {
  /** Results per second one worker writes (its output's pace). */
  perWorker: number;
  partitions: number;
  backlog: number;
  /** Inputs arriving per second, spread over the busy partitions. */
  arrivals?: number;
  /**
   * The partitions the backlog and arrivals go to, the first ones (default all); the others get
   * nothing, as with a query that has fewer keys than partitions.
   */
  busy?: number;
  /** False: the reading has the stream's total only, not the partitions with work pending. */
  readsPartitions?: boolean;
  pullBatch?: number;
  /** Seconds a new worker takes to become ready. */
  startup?: number;
}

interface Run {
  replicas: number[];
  decisions: Decision[];
  pending: number[];
  messages: string[];
  /** Seconds at which every message was acknowledged. */
  drainedAt?: number;
}

/** Runs the autoscaler once a second over simulated query workers, as `workload` is measured. */
function simulate(workload: ScaledWorkload, w: Workers, seconds: number): Run {
  const qw = queryWorkerAutoscaleSpec(spec, w.partitions);
  const pullBatch = w.pullBatch ?? 1000;
  const busy = w.busy ?? w.partitions;
  const share = (n: number, i: number) => (i < busy ? Math.floor(n / busy) + (i < n % busy ? 1 : 0) : 0);
  // Per partition: messages not yet pulled, the pulled batch, how much of it is done, its owner,
  // and when it last checkpointed.
  const parts = Array.from({ length: w.partitions }, (_, i) => ({
    waiting: share(w.backlog, i),
    batch: 0,
    done: 0,
    owner: -1,
    checkpointAt: -Infinity,
  }));
  let processed = 0;
  let replicas = 1;
  let readyAt = [0];
  let kept: Kept | undefined;
  const run: Run = { replicas: [], decisions: [], pending: [], messages: [] };
  for (let t = 0; t < seconds; t++) {
    parts.forEach((p, i) => {
      p.waiting += share(w.arrivals ?? 0, i);
    });
    const ready = readyAt.filter((r) => r <= t).length;
    // Partitions spread over the ready workers; a partition that moves starts its batch again
    // from its checkpoint (the messages were never acknowledged).
    parts.forEach((p, i) => {
      const owner = ready ? i % ready : -1;
      if (owner !== p.owner) {
        p.owner = owner;
        p.done = 0;
      }
    });
    for (let worker = 0; worker < ready; worker++) {
      const mine = parts.filter((p) => p.owner === worker);
      let capacity = w.perWorker;
      // The worker's output is shared by its partitions' results, in the order they were added.
      for (const p of mine) {
        if (p.batch === 0 && p.waiting > 0) {
          p.batch = Math.min(pullBatch, p.waiting);
          p.waiting -= p.batch;
        }
        const step = Math.min(capacity, p.batch - p.done);
        p.done += step;
        capacity -= step;
        // Acknowledged at the checkpoint once every result of the batch was written.
        if (p.batch > 0 && p.done === p.batch && t - p.checkpointAt >= 2) {
          processed += p.batch;
          p.checkpointAt = t;
          p.batch = 0;
          p.done = 0;
        }
      }
    }
    // The shuffle stream: what no checkpoint acknowledged yet is still in it.
    const pending = parts.reduce((n, p) => n + p.waiting + p.batch, 0);
    const busyPartitions = parts.filter((p) => p.waiting + p.batch > 0).length;
    if (pending === 0) run.drainedAt ??= t;
    const r = decideWorkload(
      workload,
      qw,
      kept,
      w.readsPartitions === false ? { pending, processed } : { pending, processed, busyPartitions },
      { now: t * 1000, replicas, readyReplicas: ready },
    );
    kept = r.kept;
    if (r.decision.replicas !== replicas) {
      readyAt = Array.from({ length: r.decision.replicas }, (_, i) => readyAt[i] ?? t + (w.startup ?? 3));
      replicas = r.decision.replicas;
    }
    run.replicas.push(replicas);
    run.decisions.push(r.decision);
    run.pending.push(pending);
    run.messages.push(r.message);
  }
  return run;
}

const changes = (replicas: number[]) => replicas.filter((r, i) => i > 0 && r !== replicas[i - 1]).length;
const isMonotoneUpThenDown = (replicas: number[]) => {
  const peak = replicas.indexOf(Math.max(...replicas));
  return replicas.every((r, i) => (i <= peak ? i === 0 || r >= replicas[i - 1]! : r <= replicas[i - 1]!));
};

describe('query workers measured over their acknowledgement steps', () => {
  // 500 results/s per worker, 3 partitions: one worker acknowledges 3,000 about every 6 s.
  const load: Workers = { perWorker: 500, partitions: 3, backlog: 120_000 };

  it('a lookback shorter than the steps reads no progress although the workers work', () => {
    // Measured as the processors are, over 3 s, while one worker at 50 results/s acknowledges a
    // step of 1,000 every 20 s: the rate reads 0 between steps.
    const run = simulate('processors', { ...load, perWorker: 50 }, 120);
    const noProgress = run.decisions.filter((d) => d.reason === AutoscaleReason.NoProgress).length;
    expect(noProgress).toBeGreaterThan(60);
  });

  it.each([
    { perWorker: 500, backlog: 120_000, seconds: 300 },
    // A step of 1,000 every 20 s at one worker.
    { perWorker: 50, backlog: 40_000, seconds: 1500 },
  ])(
    'scales a backlog from one worker to the partitions and back to one after the drain ($perWorker/s per worker)',
    ({ perWorker, backlog, seconds }) => {
      const run = simulate('query workers', { ...load, perWorker, backlog }, seconds);
      expect(run.drainedAt).toBeDefined();
      // Up to the 3 partitions (maxReplicas 4 is capped there), never while drained.
      expect(Math.max(...run.replicas)).toBe(3);
      expect(run.replicas[0]).toBe(1);
      expect(run.replicas.at(-1)).toBe(1);
      expect(isMonotoneUpThenDown(run.replicas)).toBe(true);
      expect(changes(run.replicas)).toBeLessThanOrEqual(4);
      // Never "no progress" while the workers acknowledge in steps.
      expect(run.decisions.some((d) => d.reason === AutoscaleReason.NoProgress)).toBe(false);
      // Each count's measured throughput is within a fifth of what the workers really did (every
      // worker busy: n × perWorker), as every window starts and ends at a step.
      const measured = run.decisions.at(-1)!.state.throughput;
      for (const [n, rate] of Object.entries(measured)) {
        const truth = perWorker * Number(n);
        expect(rate).toBeGreaterThan(truth * 0.8);
        expect(rate).toBeLessThan(truth * 1.2);
      }
      // Back to one within scaleDownDelay and a few samples of the drain.
      const atMin = run.replicas.findIndex((r, i) => i > run.drainedAt! && r === 1);
      expect(atMin - run.drainedAt!).toBeLessThanOrEqual(spec.scaleDownDelayMs / 1000 + 3);
      // The status message says why the window is longer than lookback.
      expect(run.messages.some((m) => /rate window \d+(\.\d)?s from step to step/.test(m))).toBe(true);
    },
  );

  it('do not flap under steady load', () => {
    // 700/s arriving: more than one worker does.
    const run = simulate('query workers', { ...load, backlog: 0, arrivals: 700 }, 900);
    expect(run.replicas.at(-1)).toBeGreaterThan(1);
    // Up once or twice, then that count for the last ten minutes.
    expect(isMonotoneUpThenDown(run.replicas)).toBe(true);
    expect(changes(run.replicas)).toBeLessThanOrEqual(2);
    expect(new Set(run.replicas.slice(-600)).size).toBe(1);
    expect(Math.max(...run.pending.slice(-300))).toBeLessThan(10_000);
  });

  it('a stuck output adds no workers and is told as no progress once the longest window passed', () => {
    // Nothing is ever acknowledged: a sink that accepts nothing.
    const run = simulate('query workers', { ...load, perWorker: 0 }, 200);
    expect(run.replicas.every((r) => r === 1)).toBe(true);
    const first = run.decisions.findIndex((d) => d.reason === AutoscaleReason.NoProgress);
    expect(first).toBeGreaterThanOrEqual(MAX_STEP_WINDOW_MS / 1000);
    expect(run.decisions.slice(0, first).every((d) => d.reason === AutoscaleReason.Measuring)).toBe(true);
  });
});

describe('query workers and the partitions with work pending', () => {
  // 200 results/s per worker; each partition is read by its one owner.
  const load: Workers = { perWorker: 200, partitions: 3, backlog: 30_000 };

  it('one busy partition gets no second worker', () => {
    // A query without GROUP BY has one key: its whole input is in one of its partitions.
    const run = simulate('query workers', { ...load, busy: 1 }, 400);
    expect(run.drainedAt).toBeDefined();
    expect(run.replicas.every((r) => r === 1)).toBe(true);
    const held = run.decisions.filter((d) => d.reason === AutoscaleReason.BusyPartitions);
    expect(held.length).toBeGreaterThan(0);
    expect(held[0]!.message).toMatch(/^\d+ pending in 1 partition, .*each partition is read by one pod/);
    // Read as the stream's total only, the same backlog got workers that owned idle partitions.
    const blind = simulate('query workers', { ...load, busy: 1, readsPartitions: false }, 400);
    expect(Math.max(...blind.replicas)).toBeGreaterThan(1);
  });

  it('two busy partitions of four: up to two workers, not to the four partitions', () => {
    const run = simulate('query workers', { ...load, partitions: 4, busy: 2 }, 400);
    expect(run.drainedAt).toBeDefined();
    expect(Math.max(...run.replicas)).toBe(2);
    expect(run.replicas.at(-1)).toBe(1);
    expect(isMonotoneUpThenDown(run.replicas)).toBe(true);
    expect(changes(run.replicas)).toBe(2);
    // Two workers, each owning one busy partition, did twice what one did.
    const measured = run.decisions.at(-1)!.state.throughput;
    expect(measured[2]! / measured[1]!).toBeGreaterThan(1.8);
  });

  it('a worker beyond the busy partitions goes after scaleDownDelay, while work still waits', () => {
    const s = queryWorkerAutoscaleSpec(spec, 4);
    let state = initialAutoscaleState();
    let replicas = 2;
    const seen: { replicas: number; reason: AutoscaleReason }[] = [];
    // Two workers; a backlog in one partition only, worked off at 200/s.
    for (let t = 0; t < 30; t++) {
      const d = decide(s, state, {
        now: t * 1000,
        pending: 20_000 - 200 * t,
        processed: 200 * t,
        replicas,
        readyReplicas: replicas,
        busyPartitions: 1,
      });
      state = d.state;
      replicas = d.replicas;
      seen.push({ replicas, reason: d.reason });
    }
    const down = seen.findIndex((x) => x.replicas === 1);
    expect(seen[down - 1]!.reason).toBe(AutoscaleReason.ScaleDownDelay);
    expect(down).toBeGreaterThanOrEqual(spec.scaleDownDelayMs / 1000);
    expect(seen.slice(down).every((x) => x.replicas === 1)).toBe(true);
  });
});

describe('acknowledgement steps', () => {
  const at = (h: StepHistory | undefined, t: number, pending: number, processed: number) =>
    observeSteps(h, { pending, processed }, t * 1000);

  it('are gaps between increases while work waited; idle time is no gap', () => {
    let h = at(undefined, 0, 0, 0);
    h = at(h, 10, 0, 0); // idle
    h = at(h, 20, 1500, 0); // work arrives
    h = at(h, 25, 1500, 0);
    expect(stepWindowMs(h, 3000, 25_000)).toBe(STEP_WINDOW_GAPS * 5000);
    h = at(h, 26, 500, 1000); // a step after 6 s of waiting
    expect(h.gaps).toEqual([{ at: 26_000, ms: 6000 }]);
    expect(h.waitingSince).toBe(26_000);
    h = at(h, 27, 500, 1000);
    expect(stepWindowMs(h, 3000, 27_000)).toBe(STEP_WINDOW_GAPS * 6000);
    // Forgotten once older than the window it implies.
    h = at(h, 26 + STEP_WINDOW_GAPS * 6, 500, 1000);
    expect(h.gaps).toEqual([]);
    // Then the open gap alone: work has waited since the step at 26 s.
    const waited = STEP_WINDOW_GAPS * 6000;
    expect(stepWindowMs(h, 3000, 26_000 + waited)).toBe(
      Math.min(MAX_STEP_WINDOW_MS, STEP_WINDOW_GAPS * waited),
    );
  });

  it('are forgotten when nothing is pending: the window is lookback again', () => {
    let h = at(undefined, 0, 3000, 0);
    h = at(h, 8, 2000, 1000);
    expect(stepWindowMs(h, 3000, 8000)).toBe(STEP_WINDOW_GAPS * 8000);
    h = at(h, 12, 0, 3000);
    expect(h).toEqual({ processed: 3000, gaps: [] });
    expect(stepWindowMs(h, 3000, 12_000)).toBe(3000);
  });

  it('give the longest recent gap, at most the longest window', () => {
    let h = at(undefined, 0, 3000, 0);
    h = at(h, 8, 2000, 1000);
    h = at(h, 9, 1000, 2000);
    h = at(h, 10, 1000, 2000);
    expect(h.gaps.map((g) => g.ms)).toEqual([8000, 1000]);
    expect(stepWindowMs(h, 3000, 10_000)).toBe(STEP_WINDOW_GAPS * 8000);
    h = at(h, 200, 1000, 2000);
    expect(stepWindowMs(h, 3000, 200_000)).toBe(MAX_STEP_WINDOW_MS);
  });

  it('count only while every pod is ready', () => {
    let h = at(undefined, 0, 3000, 0);
    h = observeSteps(h, { pending: 3000, processed: 0 }, 5000, false); // a new pod starting
    h = at(h, 8, 2000, 1000);
    expect(h.gaps).toEqual([{ at: 8000, ms: 3000 }]);
  });

  it('start again when the shuffle stream was recreated', () => {
    let h = at(undefined, 0, 3000, 0);
    h = at(h, 8, 2000, 1000);
    h = at(h, 9, 10, 0);
    expect(h).toEqual({ processed: 0, waitingSince: 9000, gaps: [] });
  });
});
