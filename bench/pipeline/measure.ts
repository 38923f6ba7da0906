// Small measuring helpers: medians, percentiles, and CPU/RSS of a child process from /proc.
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
