// Apache Flink SQL as an oracle: runs many cases through one flink-sql-harness process (hack/flink,
// provisioned into the cache by `npm run tools`). Each case's events are fed in array order as a
// stream whose windows close and drop late events as ours do with the case's grace period
// (hack/flink/README.md says how our dialect maps to Flink SQL and which inputs the two engines
// treat differently).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toolPath } from '../../stack/paths.js';

export const FLINK_HARNESS = 'flink-sql-harness';

/** One event of a case; `seq` defaults to its position (1-based), the other fields to NULL. */
export interface FlinkEvent {
  key: string | null;
  /** Event time, epoch milliseconds (> graceMs + 1: Flink's watermark starts at 0). */
  ts: number;
  seq?: number;
  value?: number | null;
  v2?: number | null;
  s?: string | null;
}

/**
 * A query over the table `events` (key STRING, ts TIMESTAMP_LTZ(3) rowtime, seq BIGINT, value DOUBLE,
 * v2 DOUBLE, s STRING). `value` is a reserved word in Flink SQL: write it `\`value\``.
 */
export interface FlinkCase {
  id: string;
  events: FlinkEvent[];
  graceMs: number;
  sql: string;
}

/**
 * The final rows of a case (its changelog applied), in emission order. Timestamps are epoch ms,
 * numbers are numbers, NULL is null (NaN and infinities are the strings "NaN", "Infinity").
 */
export interface FlinkResult {
  columns: string[];
  rows: unknown[][];
  error?: string;
}

export interface FlinkRunOptions {
  /** Cases per Flink job (default 25): fewer jobs start faster, a failing job reruns its cases alone. */
  batch?: number;
  parallelism?: number;
  /** Kills the harness after this long (default 10 minutes). */
  timeoutMs?: number;
}

/** Path of the harness in the eventrunner cache; throws MissingToolError naming `npm run tools`. */
export function flinkHarnessPath(): string {
  return toolPath(FLINK_HARNESS);
}

/** A Flink SQL interval of exactly `ms` milliseconds, for window sizes, gaps and OVER ranges. */
export function flinkInterval(ms: number): string {
  if (!Number.isInteger(ms) || ms < 0 || ms >= 100 * 86_400_000) throw new RangeError(`interval ${ms} ms`);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  const s = Math.floor(ms / 1000);
  const hms = `${pad(Math.floor(s / 3600) % 24)}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}`;
  return `INTERVAL '${Math.floor(s / 86400)} ${hms}.${pad(ms % 1000, 3)}' DAY TO SECOND(3)`;
}

/** Runs every case in one harness process; resolves with each case's result by id. */
export async function runFlinkCases(
  cases: FlinkCase[],
  options: FlinkRunOptions = {},
): Promise<Map<string, FlinkResult>> {
  const ids = new Set(cases.map((c) => c.id));
  if (ids.size !== cases.length) throw new Error('runFlinkCases: case ids must be unique');
  const harness = flinkHarnessPath();
  const dir = mkdtempSync(join(tmpdir(), 'flink-cases-'));
  try {
    const file = join(dir, 'cases.json');
    writeFileSync(file, JSON.stringify(cases));
    const args = ['cases', file, '--batch', String(options.batch ?? 25)];
    if (options.parallelism) args.push('--parallelism', String(options.parallelism));
    const stdout = await run(harness, args, options.timeoutMs ?? 600_000);
    const results = new Map<string, FlinkResult>();
    for (const line of stdout.split('\n')) {
      if (!line.trim()) continue;
      const { id, ...result } = JSON.parse(line) as FlinkResult & { id: string };
      results.set(id, result);
    }
    const missing = [...ids].filter((id) => !results.has(id));
    if (missing.length) throw new Error(`${FLINK_HARNESS} gave no result for ${missing.join(', ')}`);
    return results;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function run(command: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => {
      err = (err + b.toString()).slice(-4000);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(Buffer.concat(out).toString('utf8'));
      else reject(new Error(`${FLINK_HARNESS} exited with ${signal ?? code}: ${err.trim()}`));
    });
  });
}
