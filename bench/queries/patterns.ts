// `npm run bench -- queries patterns [--events N] [--keys N] [--warmup N] [--runs N]`: the pattern engine's
// events/s per core on "three failed payments, then a success from another country, within 10
// minutes" per user, against Flink SQL MATCH_RECOGNIZE (flink-sql-harness, parallelism 1) on the
// same file in the same run; match counts must agree. Then the latency of matches: with one input
// per push, the time of each push that emitted matches (an upper bound of the time from the
// watermark passing a match's last event to its emission), as p50/p99/max. Runs as the windows
// bench runs (alternate.ts): warm-up runs, then pairs; progress on stderr, one JSON line last on
// stdout.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { CompiledQuery, QueryInput } from '../../runtime/queries/index.js';
import { alternate, compare } from './alternate.js';
import { loadEngine } from './engine.js';

const OURS = `SELECT data.key AS user, f[0].data.seq AS first_seq, ok.data.seq AS ok_seq
FROM PATTERN (EVERY f=ev[data.s = 'F']{3} -> ok=ev[data.s = 'S' AND data.v2 <> f[0].data.v2])
  WITHIN 10 MINUTES PARTITION BY data.key`;

/** The same pattern: `F1 Z1* F2 Z2* F3 Z3* B`, each Z "not the next step", as in the differential. */
const FLINK =
  'SELECT * FROM events MATCH_RECOGNIZE (PARTITION BY key ORDER BY ts, seq ' +
  'MEASURES F1.seq AS first_seq, B.seq AS ok_seq ONE ROW PER MATCH AFTER MATCH SKIP TO NEXT ROW ' +
  "PATTERN (F1 Z1* F2 Z2* F3 Z3* B) WITHIN INTERVAL '10' MINUTE DEFINE F1 AS F1.s = 'F', " +
  "F2 AS F2.s = 'F', F3 AS F3.s = 'F', Z1 AS NOT (Z1.s = 'F'), Z2 AS NOT (Z2.s = 'F'), " +
  "Z3 AS NOT (Z3.s = 'S' AND Z3.v2 <> F1.v2), B AS B.s = 'S' AND B.v2 <> F1.v2)";

const log = (m: string) => process.stderr.write(`${m}\n`);

interface Line {
  key: string;
  ts: number;
  seq: number;
  s: string;
  v2: number;
}

/** Payments every `step` ms, users uniform, 60% failures, five countries. */
function writeEvents(file: string, events: number, keys: number): void {
  const t0 = Date.UTC(2026, 0, 1);
  const step = 3_600_000 / 1_000_000; // an hour for a million events, as the window workloads
  let seed = 7;
  const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296;
  const lines: string[] = [];
  for (let i = 0; i < events; i++) {
    const line: Line = {
      key: `u${Math.floor(rnd() * keys)}`,
      ts: t0 + Math.floor(i * step),
      seq: i + 1,
      s: rnd() < 0.6 ? 'F' : 'S',
      v2: 1 + Math.floor(rnd() * 5),
    };
    lines.push(JSON.stringify(line));
  }
  writeFileSync(file, `${lines.join('\n')}\n`);
}

function inputsOf(text: string): QueryInput[] {
  const out: QueryInput[] = [];
  let start = 0;
  for (;;) {
    const end = text.indexOf('\n', start);
    if (end < 0) break;
    const e = JSON.parse(text.slice(start, end)) as Line;
    start = end + 1;
    out.push({ source: 'ev', seq: e.seq, streamTime: e.ts, event: { id: String(e.seq), data: e } });
  }
  return out;
}

/** Push by push: the duration of each push that emitted matches, in ms. */
function matchLatency(
  q: CompiledQuery,
  file: string,
  limit: number,
): { matches: number; p50: number; p99: number; max: number } {
  const inputs = inputsOf(readFileSync(file, 'utf8')).slice(0, limit);
  const state = q.createState();
  const times: number[] = [];
  let matches = 0;
  for (const input of inputs) {
    const t0 = performance.now();
    const n = state.push([input]).results.length;
    const dt = performance.now() - t0;
    if (n > 0) {
      matches += n;
      times.push(dt);
    }
  }
  times.sort((a, b) => a - b);
  const at = (p: number) =>
    Math.round((times[Math.min(times.length - 1, Math.floor(p * times.length))] ?? 0) * 1000) / 1000;
  return { matches, p50: at(0.5), p99: at(0.99), max: at(1) };
}

export async function patternsBench(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      events: { type: 'string', default: '1000000' },
      keys: { type: 'string', default: '100000' },
      runs: { type: 'string', default: '3' },
      warmup: { type: 'string', default: '3' },
      'latency-events': { type: 'string', default: '200000' },
    },
  });
  const events = Number(values.events);
  const keys = Number(values.keys);
  const runs = Number(values.runs);
  const dir = mkdtempSync(join(tmpdir(), 'bench-patterns-'));
  const file = join(dir, 'payments.jsonl');
  try {
    log(`writing ${events} payments over ${keys} users to ${file}`);
    writeEvents(file, events, keys);
    const compared = compare(await alternate(file, OURS, FLINK, Number(values.warmup), runs));
    const { compileQuery } = await loadEngine();
    const q = compileQuery(
      { name: 'fraud', sql: OURS },
      { namespace: 'bench', pipeline: 'bench', sources: ['ev'] },
    );
    const latency = matchLatency(q, file, Number(values['latency-events']));
    const result = {
      bench: 'queries-patterns',
      events,
      keys,
      warmup: Number(values.warmup),
      runs,
      ...compared,
      matchLatencyMs: latency,
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
