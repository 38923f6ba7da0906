// Generated differential cases: one random event stream and one window query, written twice — in
// eventrunner's dialect (DESIGN section 7) and as the equivalent Flink SQL (window TVFs, OVER for
// SLIDING; hack/flink/README.md). Streams arrive out of order within the grace period but never
// later, keep timestamps distinct per key and never exactly SIZE apart (where RANGE OVER and our
// (t − SIZE, t] differ), so both engines must give the same rows.
import { flinkInterval, type FlinkCase, type FlinkEvent } from './oracle.js';

export type Kind = 'tumbling' | 'hopping' | 'session' | 'sliding';

export interface DifferentialCase {
  flink: FlinkCase;
  kind: Kind;
  /** Our query over source `ev`, its columns in the order of Flink's. */
  sql: string;
  events: FlinkEvent[];
  graceMs: number;
}

/** mulberry32: a small seeded generator, so a failing case can be rerun by its id. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The aggregates both engines have, as (ours, Flink's) pairs over the columns value and s. */
const AGGREGATES: [string, string][] = [
  ['count(*)', 'COUNT(*)'],
  ['count(data.value)', 'COUNT(`value`)'],
  ['count(DISTINCT data.s)', 'COUNT(DISTINCT s)'],
  ['sum(data.value)', 'SUM(`value`)'],
  ['avg(data.value)', 'AVG(`value`)'],
  ['min(data.value)', 'MIN(`value`)'],
  ['max(data.value)', 'MAX(`value`)'],
  ['stddev(data.value)', 'STDDEV_SAMP(`value`)'],
];

export const T0 = 1_700_000_000_000;

export function differentialCase(seed: number): DifferentialCase {
  const r = random(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const kind = (['tumbling', 'hopping', 'session', 'sliding'] as const)[seed % 4]!;
  const unit = pick([100, 250, 1000]);
  const size = unit * pick([2, 3, 5, 8]);
  const advance = kind === 'hopping' ? size / pick([2, 4].filter((d) => (size / d) % 1 === 0)) : size;
  const gap = unit * pick([2, 3]);
  const graceMs = pick([0, unit, 2 * unit]);
  const keys = ['a', 'b', 'c', 'd'].slice(0, 1 + Math.floor(r() * 4));
  const count = 5 + Math.floor(r() * 40);
  const events: FlinkEvent[] = [];
  const used = new Map<string, Set<number>>();
  let max = T0 + 10 * size;
  for (let i = 0; i < count; i++) {
    const key = pick(keys);
    // Mostly forward, sometimes back by up to the grace period: out of order, never late.
    let ts = r() < 0.25 && graceMs > 0 ? max - Math.floor(r() * graceMs) : max + 1 + Math.floor(r() * size);
    const taken = used.get(key) ?? new Set<number>();
    while (taken.has(ts) || (kind === 'sliding' && [...taken].some((t) => Math.abs(t - ts) === size))) ts++;
    taken.add(ts);
    used.set(key, taken);
    max = Math.max(max, ts);
    events.push({
      key,
      ts,
      seq: i + 1,
      value: r() < 0.15 ? null : Math.round((r() * 200 - 50) * 100) / 100,
      s: r() < 0.1 ? null : pick(['x', 'y', 'z', 'w']),
    });
  }
  const aggs = AGGREGATES.filter(() => r() < 0.6);
  if (aggs.length === 0) aggs.push(AGGREGATES[0]!);
  const names = aggs.map((_, i) => `a${i}`);
  const ours = aggs.map(([a], i) => `${a} AS ${names[i]}`).join(', ');
  const theirs = aggs.map(([, a], i) => `${a} AS ${names[i]}`).join(', ');
  const grace = `GRACE PERIOD ${graceMs} MILLISECONDS`;
  const ms = (n: number) => `${n} MILLISECONDS`;
  let sql: string;
  let flinkSql: string;
  if (kind === 'sliding') {
    sql = `SELECT data.key AS k, data.seq AS seq, ${ours} FROM ev WINDOW SLIDING (SIZE ${ms(size)}, ${grace}) GROUP BY data.key`;
    const over = `OVER (PARTITION BY key ORDER BY ts RANGE BETWEEN ${flinkInterval(size)} PRECEDING AND CURRENT ROW)`;
    flinkSql = `SELECT key AS k, seq, ${aggs.map(([, a], i) => `${a} ${over} AS ${names[i]}`).join(', ')} FROM events`;
  } else {
    const window =
      kind === 'tumbling'
        ? `TUMBLING (SIZE ${ms(size)}, ${grace})`
        : kind === 'hopping'
          ? `HOPPING (SIZE ${ms(size)}, ADVANCE BY ${ms(advance)}, ${grace})`
          : `SESSION (GAP ${ms(gap)}, ${grace})`;
    sql = `SELECT data.key AS k, window_start, window_end, ${ours} FROM ev WINDOW ${window} GROUP BY data.key`;
    const tvf =
      kind === 'tumbling'
        ? `TUMBLE(TABLE events, DESCRIPTOR(ts), ${flinkInterval(size)})`
        : kind === 'hopping'
          ? `HOP(TABLE events, DESCRIPTOR(ts), ${flinkInterval(advance)}, ${flinkInterval(size)})`
          : `SESSION(TABLE events PARTITION BY key, DESCRIPTOR(ts), ${flinkInterval(gap)})`;
    flinkSql = `SELECT key AS k, window_start, window_end, ${theirs} FROM TABLE(${tvf}) GROUP BY window_start, window_end, key`;
  }
  const id = `${kind}-${seed}`;
  return { kind, sql, events, graceMs, flink: { id, events, graceMs, sql: flinkSql } };
}
