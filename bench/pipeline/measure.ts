// Small measuring helpers: medians, percentiles, CPU/RSS of a child process from /proc, histogram
// quantiles from /metrics, GC pauses from --trace-gc, CPU per 1,000 events and the shared-core ceiling.
import { readFileSync } from 'node:fs';

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

const TICKS = 100; // USER_HZ on Linux

/** CPU seconds (user + system) a process used so far. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS;
}

export function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) / 1024 : 0;
}

export const log = (s: string) => process.stderr.write(`[bench pipeline] ${s}\n`);

export function rate(n: number, ms: number): number {
  return Math.round((n / ms) * 1000);
}

/** Per core: [busy, total] ticks so far, from /proc/stat (busy = all but idle and iowait). */
export function coreTicks(): [number, number][] {
  const out: [number, number][] = [];
  for (const line of readFileSync('/proc/stat', 'utf8').split('\n')) {
    const m = /^cpu(\d+) (.*)$/.exec(line);
    if (!m) continue;
    const t = m[2]!.trim().split(/\s+/).map(Number);
    const total = t.slice(0, 8).reduce((a, b) => a + b, 0);
    out[Number(m[1])] = [total - t[3]! - t[4]!, total];
  }
  return out;
}

/** Busy share of each core between two coreTicks() readings, in percent. */
export function coreBusy(a: [number, number][], b: [number, number][]): number[] {
  return b.map(([busy, total], i) => Math.round(((busy - a[i]![0]) / Math.max(1, total - a[i]![1])) * 100));
}

/**
 * Cumulative bucket counts of one histogram in a Prometheus text exposition: of its only series, or
 * of the one whose bucket lines contain `labels` (e.g. `output="store",result="ok"`).
 */
export function histogramBuckets(text: string, name: string, labels = ''): Map<number, number> {
  const out = new Map<number, number>();
  const prefix = `${name}_bucket{`;
  for (const line of text.split('\n')) {
    if (!line.startsWith(prefix) || !line.includes(labels)) continue;
    const le = /le="([^"]+)"/.exec(line)?.[1];
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (le !== undefined) out.set(le === '+Inf' ? Infinity : Number(le), value);
  }
  return out;
}

/** Bucket counts observed between two scrapes (`later` minus `earlier`). */
export function histogramDelta(
  later: Map<number, number>,
  earlier: Map<number, number>,
): Map<number, number> {
  return new Map([...later].map(([le, n]) => [le, n - (earlier.get(le) ?? 0)]));
}

/**
 * The q-quantile of cumulative bucket counts, interpolated linearly inside its bucket as
 * Prometheus' histogram_quantile does, with the bucket it falls in (`le`: the upper bound the
 * true value cannot exceed). Null when nothing was observed.
 */
export function histogramQuantile(
  buckets: Map<number, number>,
  q: number,
): { value: number; le: number; count: number } | null {
  const sorted = [...buckets].sort((a, b) => a[0] - b[0]);
  const count = sorted.at(-1)?.[1] ?? 0;
  if (count === 0) return null;
  const rank = q * count;
  let lower = 0;
  let below = 0;
  for (const [le, n] of sorted) {
    if (n >= rank) {
      // Above the last finite bound nothing is known but that bound.
      if (le === Infinity) return { value: lower, le, count };
      const value = n === below ? le : lower + ((le - lower) * (rank - below)) / (n - below);
      return { value, le, count };
    }
    lower = le;
    below = n;
  }
  return null;
}

/** Sums the pause times of --trace-gc lines. */
export function gcMs(trace: string): { scavenge: number; markCompact: number } {
  const sum = { scavenge: 0, markCompact: 0 };
  for (const m of trace.matchAll(
    /: (Scavenge|Mark-Compact|Minor Mark-Sweep)\b[^\n]*?MB, ([\d.]+) \/ [\d.]+ ms/g,
  ))
    sum[m[1] === 'Mark-Compact' ? 'markCompact' : 'scavenge'] += Number(m[2]);
  return sum;
}

/** p50 and p99 in microseconds of handling-time buckets (see histogramQuantile). */
export function handleQuantiles(buckets: Map<number, number>) {
  const q = (p: number) => histogramQuantile(buckets, p);
  const us = (v: number) => (Number.isFinite(v) ? Math.round(v * 1e7) / 10 : null);
  const [p50, p99] = [q(0.5), q(0.99)];
  return {
    samples: p50?.count ?? 0,
    p50Us: p50 ? us(p50.value) : null,
    p99Us: p99 ? us(p99.value) : null,
    // The bucket bounds the true values cannot exceed.
    p50BucketUs: p50 ? us(p50.le) : null,
    p99BucketUs: p99 ? us(p99.le) : null,
  };
}

export function cpuDelta(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.keys(b).map((k) => [k, b[k]! - (a[k] ?? 0)]));
}

/** CPU ms per 1,000 events, from CPU seconds. */
export function perThousand(cpu: Record<string, number>, events: number): Record<string, number> {
  return Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, Math.round((v * 1e7) / events) / 10]));
}

/**
 * The rate the cores shared by the processor, NATS and ClickHouse could sustain if the processor
 * spent only what the raw Cassandra client spends per write (no consuming, decoding, rules or
 * ClickHouse rows): CPU ms per 1,000 events of the driver alone (raw runs) plus NATS and ClickHouse
 * (during the drain), against the cores they share.
 */
export function sharedCoreCeiling(
  cores: number,
  rawCpu: Record<string, number>,
  drainCpu: Record<string, number>,
  slowestRaw: number,
) {
  const msPer1k = { driverAlone: rawCpu.bench!, nats: drainCpu.nats!, clickhouse: drainCpu.clickhouse! };
  const sum = msPer1k.driverAlone + msPer1k.nats + msPer1k.clickhouse;
  const ceiling = Math.round((cores * 1e6) / sum);
  return {
    cores,
    msPer1k,
    ceilingEventsPerSec: ceiling,
    ceilingRatio: Math.round((ceiling / slowestRaw) * 100) / 100,
  };
}
