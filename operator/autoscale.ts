// The autoscaler's decision, pure: observations of a Pipeline's consumers (pending work and a
// cumulative count of processed deliveries) and the time go in; the processor replicas, a reason
// and the state to keep until the next observation come out. No I/O and no clock: the controller
// reads JetStream, keeps the state per Pipeline and applies the replicas to the Deployment.
//
// How it decides (docs/operations.md, Autoscaling):
// - Arrival rate and processing rate over the lookback window, measured only while the Deployment's
//   pods are all ready at the current count (new pods starting up are not a measurement).
// - Capacity per pod: the processing rate per pod measured while work waited for a free pod at
//   this count (saturated; events in flight are not waiting); before that is known, the rate per
//   pod seen so far, a lower bound.
// - Wanted pods = (arrival rate + pending / targetLagSeconds) / capacity per pod, within
//   [minReplicas, maxReplicas]. Up towards what is wanted, at most doubling per step, each step as
//   soon as the current count was measured for a whole lookback window (the up cooldown). Down only when, with 25%
//   headroom, fewer pods would have sufficed for the whole scaleDownDelay; each step at most halves.
// - Throughput is recorded per replica count. When the last step up did not raise it by 10%, more
//   pods do not help (a slow sink, a single hot partition): the count is held for a while. A
//   count whose throughput was measured short of the load is never stepped down to.
// - Query workers: a partition is read by its one owner, so pods beyond the partitions that have
//   work pending would own idle ones. Up never goes beyond them, and a count above them is surplus
//   (down after scaleDownDelay, as any surplus).
// - Zero only with minReplicas 0 and nothing pending; from zero it wakes on any pending event.

export interface AutoscaleSpec {
  minReplicas: number;
  maxReplicas: number;
  targetLagSeconds: number;
  scaleDownDelayMs: number;
  lookbackMs: number;
}

export interface Observation {
  /** Milliseconds since the epoch. */
  now: number;
  /** Events not yet acknowledged: consumer num_pending + num_ack_pending over the sources. */
  pending: number;
  /**
   * Of them, events no pod has taken yet (consumer num_pending): work waiting for a free pod.
   * Events in flight are pending but wait for no one; pods that keep up always have some. Undefined
   * when not known apart (the shuffle stream): then `pending`.
   */
  waiting?: number;
  /** Deliveries acknowledged so far, cumulative (delivered consumer sequence − ack pending). */
  processed: number;
  /** Replicas the Deployment is set to now. */
  replicas: number;
  /** Of them, pods ready now. */
  readyReplicas: number;
  /**
   * Query workers: how many partitions have work pending. Each is read by its one owner, so more
   * pods than this cannot raise throughput. Undefined for processors (any pod pulls any event).
   */
  busyPartitions?: number;
}

interface Sample {
  t: number;
  processed: number;
  pending: number;
  /** Work waiting for a free pod (see Observation.waiting). */
  waiting?: number;
  replicas: number;
  ready: boolean;
}

export interface AutoscaleState {
  samples: Sample[];
  /** Best processing rate (events/s) measured while saturated, per replica count. */
  throughput: Record<number, number>;
  lastChange?: number;
  /** The last step up, judged once its new count has been measured. */
  lastUp?: { from: number; to: number; judged: boolean };
  /** Do not go above `replicas` until `until`: the last step up did not raise throughput. */
  hold?: { replicas: number; until: number };
  /** Since when fewer pods would have sufficed, continuously. */
  surplusSince?: number;
}

export const AutoscaleReason = {
  ScaledUp: 'ScaledUp',
  ScaledDown: 'ScaledDown',
  ScaledFromZero: 'ScaledFromZero',
  /** The current count fits the load. */
  Steady: 'Steady',
  /** Not yet a whole lookback window of ready pods at this count. */
  Measuring: 'Measuring',
  /** The last step up did not raise throughput: more pods are not added for a while. */
  ThroughputPlateau: 'ThroughputPlateau',
  /** Fewer pods would do, but not yet for the whole scaleDownDelay. */
  ScaleDownDelay: 'ScaleDownDelay',
  /** Work is pending but nothing was processed over the window: more pods would not help. */
  NoProgress: 'NoProgress',
  /** Query workers: as many pods as partitions with work pending; another would own idle ones. */
  BusyPartitions: 'BusyPartitions',
  AtMax: 'AtMax',
} as const;
export type AutoscaleReason = (typeof AutoscaleReason)[keyof typeof AutoscaleReason];

export interface Decision {
  replicas: number;
  reason: AutoscaleReason;
  message: string;
  state: AutoscaleState;
  /** True when `replicas` differs from the observed count. */
  changed: boolean;
}

/** A step up must raise throughput by this factor to count as helping. */
const HELPS = 1.1;
/** Scale down only when this much more load would still fit in fewer pods. */
const HEADROOM = 1.25;

export function initialAutoscaleState(): AutoscaleState {
  return { samples: [], throughput: {} };
}

/** How long a plateau holds the count before more pods are tried again. */
export function plateauHoldMs(spec: AutoscaleSpec): number {
  return Math.max(5 * 60_000, 10 * spec.lookbackMs);
}

/** Ceiling that does not turn 7.000000001 (floating-point noise) into 8. */
const ceil = (n: number) => Math.ceil(n - 1e-9);

const rate = (n: number) => (Number.isFinite(n) ? Math.round(n * 10) / 10 : 0);

export function decide(spec: AutoscaleSpec, prev: AutoscaleState, obs: Observation): Decision {
  const min = Math.min(spec.minReplicas, spec.maxReplicas);
  const max = spec.maxReplicas;
  const current = obs.replicas;
  const last = prev.samples.at(-1);
  // A recreated consumer starts counting again: the old samples say nothing about it.
  const restarted = last !== undefined && (obs.processed < last.processed || obs.now <= last.t);
  const keepFrom = obs.now - 4 * spec.lookbackMs;
  const samples = [
    ...(restarted ? [] : prev.samples.filter((s) => s.t >= keepFrom)),
    {
      t: obs.now,
      processed: obs.processed,
      pending: obs.pending,
      ...(obs.waiting === undefined ? {} : { waiting: obs.waiting }),
      replicas: current,
      ready: obs.readyReplicas >= current,
    },
  ];
  const state: AutoscaleState = { ...prev, samples, throughput: { ...prev.throughput } };
  const result = (replicas: number, reason: AutoscaleReason, message: string): Decision => {
    const changed = replicas !== current;
    if (changed) {
      state.lastChange = obs.now;
      state.surplusSince = undefined;
      state.lastUp = replicas > current ? { from: current, to: replicas, judged: false } : undefined;
    }
    return { replicas, reason, message, state, changed };
  };

  // Below the minimum (autoscaling just enabled, or min raised), above the maximum: fix at once.
  if (current < min) return result(min, AutoscaleReason.ScaledUp, `below minReplicas ${min}`);
  if (current > max) return result(max, AutoscaleReason.ScaledDown, `above maxReplicas ${max}`);
  if (current === 0) {
    if (obs.pending > 0)
      return result(Math.max(1, min), AutoscaleReason.ScaledFromZero, `${obs.pending} events pending`);
    return result(0, AutoscaleReason.Steady, 'nothing pending');
  }

  // The stable run: samples at this count with every pod ready, the newest last.
  let start = samples.length - 1;
  while (start > 0 && samples[start - 1]!.replicas === current && samples[start - 1]!.ready) start--;
  if (!samples.at(-1)!.ready) start = samples.length - 1;
  const runStart = samples[start]!.t;
  if (obs.now - runStart < spec.lookbackMs)
    return result(
      current,
      AutoscaleReason.Measuring,
      `measuring ${current} ready pod(s) for ${spec.lookbackMs / 1000}s; ${obs.pending} events pending`,
    );
  // The window: the newest sample at or before now − lookback, up to now.
  let from = start;
  while (from + 1 < samples.length && samples[from + 1]!.t <= obs.now - spec.lookbackMs) from++;
  const first = samples[from]!;
  const seconds = (obs.now - first.t) / 1000;
  const processedRate = (obs.processed - first.processed) / seconds;
  const arrivalRate = Math.max(0, processedRate + (obs.pending - first.pending) / seconds);
  // Saturated: work waited for a free pod throughout the window, or more was unacknowledged than
  // the pods do in targetLagSeconds (a pod may hold many events it has not started). Then the rate
  // is what the pods can do. A few events in flight do not count: pods that keep up always have
  // some, and their rate, the arrival rate, taken for their capacity would always want one more
  // pod — a steady load would creep up to maxReplicas, a plateau hold at a time.
  const behind = processedRate * spec.targetLagSeconds;
  const saturated = samples.slice(from).every((s) => (s.waiting ?? s.pending) > 0 || s.pending > behind);
  if (saturated) state.throughput[current] = Math.max(state.throughput[current] ?? 0, processedRate);

  // Judge the last step up once its count has been measured under load. A verdict taken while the
  // new pods were still warming up (or a neighbour was busy) is revised: once the count is
  // measured doing better than the one before it, the step did help and the hold goes.
  if (state.lastUp && state.lastUp.to === current && saturated) {
    const before = state.throughput[state.lastUp.from];
    const helped = before === undefined || processedRate >= before * HELPS;
    if (!state.lastUp.judged) {
      state.lastUp = { ...state.lastUp, judged: true };
      if (!helped) state.hold = { replicas: current, until: obs.now + plateauHoldMs(spec) };
    } else if (helped && state.hold?.replicas === current) state.hold = undefined;
  }
  if (state.hold && state.hold.until <= obs.now) state.hold = undefined;

  const busy = obs.busyPartitions;
  // Pods that can work at once: beyond the busy partitions a pod would own idle ones.
  const useful = busy === undefined ? max : Math.max(min, busy);
  const inPartitions = busy === undefined ? '' : ` in ${busy} partition${busy === 1 ? '' : 's'}`;
  const figures = `${obs.pending} pending${inPartitions}, ${rate(arrivalRate)}/s arriving, ${rate(processedRate)}/s processed by ${current}`;
  if (obs.pending > 0 && processedRate <= 0)
    return result(current, AutoscaleReason.NoProgress, `${figures}: more pods would not help`);
  // Capacity per pod: measured under load at this count, else a lower bound from what was done.
  const perPod = (state.throughput[current] ?? processedRate) / current;
  const load = arrivalRate + obs.pending / spec.targetLagSeconds;
  const wanted = perPod > 0 ? ceil(load / perPod) : min;
  const held = state.hold ? Math.min(max, state.hold.replicas) : max;
  const ceiling = Math.min(held, useful);

  // Up only on evidence: work pending throughout the window. Otherwise the pods kept up, and the
  // rate per pod is only a lower bound of what they can do. Pods beyond the busy partitions are
  // surplus, however much is wanted.
  if (wanted > current && saturated && current <= useful) {
    state.surplusSince = undefined;
    if (current >= useful && useful < max)
      return result(
        current,
        AutoscaleReason.BusyPartitions,
        `${figures}: ${wanted} wanted, but each partition is read by one pod: more would own idle ones`,
      );
    if (current >= ceiling)
      return state.hold && current < max
        ? result(
            current,
            AutoscaleReason.ThroughputPlateau,
            `${figures}: the last step up did not raise throughput`,
          )
        : result(current, AutoscaleReason.AtMax, `${figures}: ${wanted} wanted, maxReplicas ${max}`);
    // At most double per step, so that a step that does not help is seen before the next one.
    const next = Math.min(ceiling, wanted, current * 2);
    return result(next, AutoscaleReason.ScaledUp, `${figures}: ${wanted} wanted`);
  }
  const byRate = load === 0 ? min : Math.max(min, perPod > 0 ? ceil((load * HEADROOM) / perPod) : current);
  // A count already measured short of this load (with headroom) is not enough, whatever the rate
  // per pod at this count says: pods of one count were measured faster than of another (the
  // first measured while warming up, a noisy neighbour), and a step down to a count that falls
  // short would be undone by the next step up: flapping under steady load.
  let byLoad = byRate;
  while (byLoad < current && (state.throughput[byLoad] ?? Infinity) < load * HEADROOM) byLoad++;
  const enough = Math.min(
    byLoad,
    // Pods beyond the busy partitions do nothing while work waits; with nothing pending the
    // partitions say nothing (arrivals may be read at once), and the load alone decides.
    obs.pending > 0 ? useful : max,
  );
  if (enough >= current) {
    state.surplusSince = undefined;
    return result(
      current,
      AutoscaleReason.Steady,
      byRate < current
        ? `${figures}: ${current - 1} measured ${rate(state.throughput[current - 1]!)}/s, short of this load`
        : figures,
    );
  }
  state.surplusSince ??= obs.now;
  const since = Math.max(state.surplusSince, state.lastChange ?? -Infinity);
  if (obs.now - since < spec.scaleDownDelayMs)
    return result(
      current,
      AutoscaleReason.ScaleDownDelay,
      `${figures}: ${enough} would do; waiting for scaleDownDelay ${spec.scaleDownDelayMs / 1000}s`,
    );
  const next = Math.max(enough, Math.floor(current / 2), min);
  return result(next, AutoscaleReason.ScaledDown, `${figures}: ${enough} would do`);
}
