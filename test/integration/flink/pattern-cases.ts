// Generated differential cases for patterns and interval joins, written twice: in eventrunner's
// dialect and as Flink SQL — MATCH_RECOGNIZE (AFTER MATCH SKIP TO NEXT ROW, which is what EVERY
// means) and interval joins. Streams arrive out of order within the grace period, never later;
// timestamps are distinct per key, values whole numbers, so both engines must give the same rows.
// "Followed by" (PATTERN) is written in Flink as `A Z* B` with Z defined as "not B", which takes
// the first B after A as ours does; `a{n}` followed by becomes A1 Z1* A2 Z2* … with Zi "not A".
import { flinkInterval, type FlinkCase, type FlinkEvent } from './oracle.js';
import { T0 } from './cases.js';

export type PatternKind =
  'sequence' | 'sequence-range' | 'followed-by' | 'interval-join' | 'left-interval-join';

export interface PatternCase {
  flink: FlinkCase;
  kind: PatternKind;
  /** Our query; its sources are `ev` (patterns) or `orders` and `payments` (joins: s = 'L' / 'R'). */
  sql: string;
  events: FlinkEvent[];
}

function random(seed: number): () => number {
  let a = (seed * 2654435761) >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const KINDS: PatternKind[] = [
  'sequence',
  'sequence-range',
  'followed-by',
  'interval-join',
  'left-interval-join',
];

export function patternCase(seed: number): PatternCase {
  const r = random(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const kind = KINDS[seed % KINDS.length]!;
  const join = kind.endsWith('join');
  const step = pick([100, 250, 1000]);
  const graceMs = pick([0, step, 3 * step]);
  const keys = ['a', 'b', 'c'].slice(0, 1 + Math.floor(r() * 3));
  const count = 10 + Math.floor(r() * 50);
  const letters = join
    ? ['L', 'R']
    : pick([
        ['x', 'y'],
        ['x', 'y', 'z'],
      ]);
  const events: FlinkEvent[] = [];
  const used = new Set<string>();
  let max = T0 + 1000;
  for (let i = 0; i < count; i++) {
    const key = pick(keys);
    // Mostly forward, sometimes back within the grace period: out of order, never late.
    let ts = r() < 0.3 && graceMs > 0 ? max - Math.floor(r() * graceMs) : max + 1 + Math.floor(r() * step);
    while (used.has(`${key}/${ts}`)) ts++;
    used.add(`${key}/${ts}`);
    max = Math.max(max, ts);
    events.push({ key, ts, seq: i + 1, value: Math.floor(r() * 20), s: pick(letters) });
  }
  const within = step * pick([2, 4, 8, 20]);
  const ms = (n: number) => `${n} MILLISECONDS`;
  const grace = graceMs > 0 ? ` GRACE PERIOD ${ms(graceMs)}` : '';
  let sql: string;
  let flinkSql: string;
  const mr = (measures: string, pattern: string, define: string) =>
    `SELECT * FROM events MATCH_RECOGNIZE (PARTITION BY key ORDER BY ts, seq MEASURES ${measures} ` +
    `ONE ROW PER MATCH AFTER MATCH SKIP TO NEXT ROW PATTERN (${pattern}) WITHIN ${flinkInterval(within)} DEFINE ${define})`;
  if (kind === 'sequence' || kind === 'sequence-range') {
    const n = 1 + Math.floor(r() * 3);
    const m = kind === 'sequence-range' ? n + 1 + Math.floor(r() * 2) : n;
    const quant = m === n ? (n === 1 ? '' : `{${n}}`) : `{${n},${m}}`;
    const cmp = pick(['>', '<', '<>']);
    sql =
      `SELECT data.key AS key, a[0].data.seq AS first_seq, a[last].data.value AS last_a, b.data.seq AS b_seq, ` +
      `count(a) AS n, sum(a.data.value) AS total FROM SEQUENCE (EVERY a=ev[data.s = 'x']${quant} -> ` +
      `b=ev[data.s = 'y' AND data.value ${cmp} a[0].data.value]) WITHIN ${ms(within)}${grace} PARTITION BY data.key`;
    flinkSql = mr(
      'FIRST(A.seq) AS first_seq, LAST(A.`value`) AS last_a, B.seq AS b_seq, COUNT(A.seq) AS n, SUM(A.`value`) AS total',
      `A${quant} B`,
      `A AS A.s = 'x', B AS B.s = 'y' AND B.\`value\` ${cmp} FIRST(A.\`value\`)`,
    );
  } else if (kind === 'followed-by') {
    const n = 1 + Math.floor(r() * 3);
    const quant = n === 1 ? '' : `{${n}}`;
    const cmp = pick(['>', '<', '<>']);
    const aCond = `data.s = 'x'`;
    sql =
      `SELECT data.key AS key, a[0].data.seq AS first_seq, a[last].data.value AS last_a, b.data.seq AS b_seq, ` +
      `count(a) AS n, sum(a.data.value) AS total FROM PATTERN (EVERY a=ev[${aCond}]${quant} -> ` +
      `b=ev[data.s = 'y' AND data.value ${cmp} a[0].data.value]) WITHIN ${ms(within)}${grace} PARTITION BY data.key`;
    const as = Array.from({ length: n }, (_, i) => `A${i + 1}`);
    const zs = as.map((_, i) => `Z${i + 1}`);
    const bCond = (v: string) => `${v}.s = 'y' AND ${v}.\`value\` ${cmp} A1.\`value\``;
    const define = [
      ...as.map((a) => `${a} AS ${a}.s = 'x'`),
      ...zs.map((z, i) => (i < n - 1 ? `${z} AS NOT (${z}.s = 'x')` : `${z} AS NOT (${bCond(z)})`)),
      `B AS ${bCond('B')}`,
    ].join(', ');
    flinkSql = mr(
      `A1.seq AS first_seq, A${n}.\`value\` AS last_a, B.seq AS b_seq, CAST(${n} AS BIGINT) AS n, ` +
        `${as.map((a) => `${a}.\`value\``).join(' + ')} AS total`,
      `${as.map((a, i) => `${a} ${zs[i]}*`).join(' ')} B`,
      define,
    );
  } else {
    const left = kind === 'left-interval-join';
    const extra = r() < 0.5;
    sql =
      `SELECT o.data.seq AS lseq, p.data.seq AS rseq, p.data.value AS paid FROM orders o ${left ? 'LEFT ' : ''}JOIN payments p ` +
      `WITHIN ${ms(within)}${grace} ON o.data.key = p.data.key${extra ? ' AND o.data.value <= p.data.value' : ''}`;
    flinkSql =
      `SELECT o.seq AS lseq, p.seq AS rseq, p.\`value\` AS paid FROM (SELECT * FROM events WHERE s = 'L') o ` +
      `${left ? 'LEFT ' : ''}JOIN (SELECT * FROM events WHERE s = 'R') p ON o.key = p.key` +
      `${extra ? ' AND o.`value` <= p.`value`' : ''} AND p.ts BETWEEN o.ts - ${flinkInterval(within)} AND o.ts + ${flinkInterval(within)}`;
  }
  const id = `${kind}-${seed}`;
  return { kind, sql, events, flink: { id, events, graceMs, sql: flinkSql } };
}
