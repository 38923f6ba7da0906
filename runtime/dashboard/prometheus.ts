// Reading the pods' /metrics: the Prometheus text exposition format parsed into samples, sums over
// pods and label sets, and quantiles from histogram buckets the way PromQL's histogram_quantile
// computes them. Pure functions: the dashboard's collector does the scraping.

/** One sample line: `name{label="value",...} value`. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parseValue(text: string): number {
  if (text === '+Inf' || text === 'Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  return Number(text);
}

/** Label set between the braces; values are unescaped (\\, \" and \n). */
function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let i = 0;
  while (i < text.length) {
    while (text[i] === ',' || text[i] === ' ') i++;
    const eq = text.indexOf('=', i);
    if (eq < 0) break;
    const name = text.slice(i, eq).trim();
    i = eq + 1;
    if (text[i] !== '"') break;
    i++;
    let value = '';
    while (i < text.length && text[i] !== '"') {
      if (text[i] === '\\' && i + 1 < text.length) {
        const next = text[i + 1]!;
        value += next === 'n' ? '\n' : next;
        i += 2;
      } else {
        value += text[i];
        i++;
      }
    }
    i++;
    labels[name] = value;
  }
  return labels;
}

/** Every sample of a text exposition; comments, blank lines and unreadable lines are skipped. */
export function parsePrometheusText(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const brace = line.indexOf('{');
    const space = line.indexOf(' ');
    let name: string;
    let labels: Record<string, string> = {};
    let rest: string;
    if (brace >= 0 && (space < 0 || brace < space)) {
      const close = line.lastIndexOf('}');
      if (close < brace) continue;
      name = line.slice(0, brace);
      labels = parseLabels(line.slice(brace + 1, close));
      rest = line.slice(close + 1).trim();
    } else {
      if (space < 0) continue;
      name = line.slice(0, space);
      rest = line.slice(space + 1).trim();
    }
    const value = parseValue(rest.split(/\s+/)[0] ?? '');
    if (Number.isNaN(value)) continue;
    samples.push({ name, labels, value });
  }
  return samples;
}

const matches = (s: Sample, name: string, where?: Record<string, string>) =>
  s.name === name && (!where || Object.entries(where).every(([k, v]) => s.labels[k] === v));

/** Sum of every sample of a metric (optionally only those with the given labels). */
export function sumOf(samples: readonly Sample[], name: string, where?: Record<string, string>): number {
  let total = 0;
  for (const s of samples) if (matches(s, name, where)) total += s.value;
  return total;
}

/** Largest sample of a metric: gauges every replica reports for the same thing (a shared consumer). */
export function maxOf(samples: readonly Sample[], name: string): number | undefined {
  let max: number | undefined;
  for (const s of samples) if (s.name === name && (max === undefined || s.value > max)) max = s.value;
  return max;
}

/** Sums of a metric grouped by one label's value, sorted by that value. */
export function sumBy(
  samples: readonly Sample[],
  name: string,
  label: string,
  where?: Record<string, string>,
): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of samples) {
    if (!matches(s, name, where)) continue;
    const key = s.labels[label] ?? '';
    out.set(key, (out.get(key) ?? 0) + s.value);
  }
  return new Map([...out].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Cumulative bucket counts, by upper bound, ascending (the last one is +Inf). */
export type Buckets = [le: number, count: number][];

/** A histogram's `_bucket` samples summed over pods and label sets, by upper bound. */
export function bucketsOf(samples: readonly Sample[], name: string, where?: Record<string, string>): Buckets {
  const byLe = new Map<number, number>();
  for (const s of samples) {
    if (!matches(s, `${name}_bucket`, where) || s.labels.le === undefined) continue;
    const le = parseValue(s.labels.le);
    byLe.set(le, (byLe.get(le) ?? 0) + s.value);
  }
  return [...byLe].sort(([a], [b]) => a - b);
}

/** Bucket counts of `now` minus those of `before`: the observations between two scrapes. */
export function bucketsDelta(now: Buckets, before: Buckets | undefined): Buckets {
  if (!before) return now;
  const prev = new Map(before);
  const delta: Buckets = now.map(([le, n]) => [le, n - (prev.get(le) ?? 0)]);
  // A restarted pod resets its counters: the difference is meaningless, the new totals are not.
  return delta.some(([, n]) => n < 0) ? now : delta;
}

/**
 * The q-quantile (0..1) of cumulative buckets, interpolated linearly inside the bucket that holds
 * it, as histogram_quantile does; undefined without observations. Past the last finite bound the
 * answer is that bound.
 */
export function histogramQuantile(q: number, buckets: Buckets): number | undefined {
  if (buckets.length === 0) return undefined;
  const total = buckets.at(-1)![1];
  if (!(total > 0)) return undefined;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const [le, count] of buckets) {
    if (count >= rank) {
      if (le === Infinity) return prevLe;
      if (count === prevCount) return le;
      return prevLe + ((le - prevLe) * (rank - prevCount)) / (count - prevCount);
    }
    prevLe = le;
    prevCount = count;
  }
  return prevLe;
}
