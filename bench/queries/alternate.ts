// The engine against Flink in one benchmark: both in processes of their own, set up side by side,
// their runs alternating (json-lines.ts, PacedProcess), warm-up runs first and not counted.
import { toolPath } from '../../test/stack/paths.js';
import { startOurs, type OurRun } from './engine.js';
import { PacedProcess } from './json-lines.js';

export interface FlinkRun {
  events: number;
  rows: number;
  ms: number;
  cpuMs: number;
}

export interface Pair {
  ours: OurRun;
  flink: FlinkRun;
}

const log = (m: string) => process.stderr.write(`${m}\n`);

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
export const perCpuSecond = (r: { events: number; cpuMs: number }) => Math.round(r.events / (r.cpuMs / 1000));
export const perWallSecond = (r: { events: number; ms: number }) => r.events / (r.ms / 1000);
export const round2 = (x: number) => Math.round(x * 100) / 100;

function startFlink(file: string, sql: string): Promise<PacedProcess<FlinkRun>> {
  const args = ['bench', file, sql, '--runs', '1000000', '--paced'];
  return PacedProcess.start<FlinkRun>(toolPath('flink-sql-harness'), args, 'flink-sql-harness bench');
}

/**
 * `warmup` runs of each engine, not counted, then `runs` pairs of runs, the engines alternating
 * which goes first. Flink's JVM needs three to four runs of 1,000,000 events before its rate
 * stops rising (the JIT compiling its operators); a long-running job runs at that rate.
 */
export async function alternate(file: string, ours: string, flink: string, warmup: number, runs: number) {
  const [o, f] = await Promise.all([startOurs(file, ours), startFlink(file, flink)]);
  try {
    for (let i = 0; i < warmup; i++) {
      const a = await o.run();
      const b = await f.run();
      log(`  warm-up ${i + 1}: ${perCpuSecond(a)} / ${perCpuSecond(b)} events per CPU-second`);
    }
    const pairs: Pair[] = [];
    for (let i = 0; i < runs; i++) {
      if (i % 2 === 0) {
        const a = await o.run();
        pairs.push({ ours: a, flink: await f.run() });
      } else {
        const b = await f.run();
        pairs.push({ ours: await o.run(), flink: b });
      }
      const p = pairs[i]!;
      log(`  run ${i + 1}: ${perCpuSecond(p.ours)} / ${perCpuSecond(p.flink)} events per CPU-second`);
    }
    return pairs;
  } finally {
    await Promise.all([o.close(), f.close()]);
  }
}

/** Both engines' medians and the median of the pairs' ratios. */
export function compare(pairs: Pair[]) {
  const ours = pairs.map((p) => p.ours);
  const flink = pairs.map((p) => p.flink);
  return {
    eventsPerCpuSecond: { ours: median(ours.map(perCpuSecond)), flink: median(flink.map(perCpuSecond)) },
    ratioPerCore: round2(median(pairs.map((p) => perCpuSecond(p.ours) / perCpuSecond(p.flink)))),
    ratiosPerCore: pairs.map((p) => round2(perCpuSecond(p.ours) / perCpuSecond(p.flink))),
    eventsPerWallSecond: {
      ours: Math.round(median(ours.map(perWallSecond))),
      flink: Math.round(median(flink.map(perWallSecond))),
    },
    ratioWall: round2(median(ours.map(perWallSecond)) / median(flink.map(perWallSecond))),
    rows: { ours: ours[0]!.rows, flink: flink[0]!.rows },
    rowsAgree: ours.every((r) => r.rows === ours[0]!.rows) && flink.every((r) => r.rows === ours[0]!.rows),
  };
}
