// `npm run bench -- queries [--events N] [--keys N] [--runs N] [--warmup N]`: the query engine's events/s per core
// on one JSON-lines file, against Apache Flink SQL (flink-sql-harness, parallelism 1) on the same
// file and the equivalent queries in the same run; result row counts must agree. Then the state
// held per key and a checkpoint's size and time at 100,000 keys. Per workload the two engines' runs
// alternate (one process each, paced), so that each pair of runs meets the same machine load; the
// ratio per core is the median of the pairs' ratios. Both first run --warmup runs that are not
// counted: Flink's JVM takes three to four runs of 1,000,000 events to reach its steady rate
// (the JIT compiling its operators), and a long-running job runs at that rate. Medians of --runs
// runs; progress on stderr, one JSON line last on stdout. `npm run bench -- queries runtime ...` measures the
// distributed runtime end to end instead (runtime.ts).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { toolPath } from '../../test/stack/paths.js';
import { measureCheckpoint } from './checkpoint.js';
import { startOurs, type OurRun } from './engine.js';
import { PacedProcess } from './json-lines.js';
import { runtimeBench } from './runtime.js';
import { patternsBench } from './patterns.js';
import { lookupBench } from './lookup.js';
import { WORKLOADS } from './workloads.js';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const log = (m: string) => process.stderr.write(`${m}\n`);

/** One event every 3.6 ms over an hour, keys uniform, values with two decimals. */
function writeEvents(file: string, events: number, keys: number): void {
  const t0 = Date.UTC(2026, 0, 1);
  const lines: string[] = [];
  let seed = 42;
  const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296;
  for (let i = 0; i < events; i++) {
    const key = `k${Math.floor(rnd() * keys)}`;
    lines.push(
      JSON.stringify({
        key,
        ts: t0 + Math.floor(i * 3.6),
        seq: i + 1,
        value: Math.round(rnd() * 10000) / 100,
      }),
    );
  }
  writeFileSync(file, `${lines.join('\n')}\n`);
}

interface FlinkRun {
  events: number;
  rows: number;
  ms: number;
  cpuMs: number;
}

function startFlink(file: string, sql: string): Promise<PacedProcess<FlinkRun>> {
  const args = ['bench', file, sql, '--runs', '1000000', '--paced'];
  return PacedProcess.start<FlinkRun>(toolPath('flink-sql-harness'), args, 'flink-sql-harness bench');
}

/**
 * `warmup` runs of each engine, not counted, then `runs` pairs of runs, the engines alternating
 * which goes first; both processes set up first.
 */
async function alternate(file: string, ours: string, flink: string, warmup: number, runs: number) {
  const [o, f] = await Promise.all([startOurs(file, ours), startFlink(file, flink)]);
  try {
    for (let i = 0; i < warmup; i++) {
      const a = await o.run();
      const b = await f.run();
      log(`  warm-up ${i + 1}: ${perCpuSecond(a)} / ${perCpuSecond(b)} events per CPU-second`);
    }
    const pairs: { ours: OurRun; flink: FlinkRun }[] = [];
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

const perCpuSecond = (r: { events: number; cpuMs: number }) => Math.round(r.events / (r.cpuMs / 1000));
const perWallSecond = (r: { events: number; ms: number }) => r.events / (r.ms / 1000);
const round2 = (x: number) => Math.round(x * 100) / 100;

export async function main(argv: string[]): Promise<void> {
  if (argv[0] === 'runtime') return runtimeBench(argv.slice(1));
  if (argv[0] === 'patterns') return patternsBench(argv.slice(1));
  if (argv[0] === 'lookup') return lookupBench(argv.slice(1));
  const { values } = parseArgs({
    args: argv,
    options: {
      events: { type: 'string', default: '1000000' },
      keys: { type: 'string', default: '10000' },
      runs: { type: 'string', default: '5' },
      warmup: { type: 'string', default: '4' },
      'checkpoint-keys': { type: 'string', default: '100000' },
    },
  });
  const events = Number(values.events);
  const keys = Number(values.keys);
  const runs = Number(values.runs);
  const warmup = Number(values.warmup);
  const dir = mkdtempSync(join(tmpdir(), 'bench-queries-'));
  const file = join(dir, 'events.jsonl');
  try {
    log(`writing ${events} events over ${keys} keys to ${file}`);
    writeEvents(file, events, keys);
    const workloads = [];
    for (const w of WORKLOADS) {
      log(`${w.name}:`);
      const pairs = await alternate(file, w.ours, w.flink, warmup, runs);
      const ours = pairs.map((p) => p.ours);
      const flink = pairs.map((p) => p.flink);
      const ourRate = median(ours.map(perCpuSecond));
      const flinkRate = median(flink.map(perCpuSecond));
      const ourWall = median(ours.map(perWallSecond));
      const flinkWall = median(flink.map(perWallSecond));
      const rows = { ours: ours[0]!.rows, flink: flink[0]!.rows };
      const entry = {
        name: w.name,
        eventsPerCpuSecond: { ours: ourRate, flink: flinkRate },
        ratioPerCore: round2(median(pairs.map((p) => perCpuSecond(p.ours) / perCpuSecond(p.flink)))),
        ratiosPerCore: pairs.map((p) => round2(perCpuSecond(p.ours) / perCpuSecond(p.flink))),
        eventsPerWallSecond: { ours: Math.round(ourWall), flink: Math.round(flinkWall) },
        ratioWall: round2(ourWall / flinkWall),
        rows,
        rowsAgree: rows.ours === rows.flink,
      };
      log(JSON.stringify(entry));
      workloads.push(entry);
    }
    const checkpoint = measureCheckpoint(Number(values['checkpoint-keys']));
    log(JSON.stringify({ checkpoint }));
    process.stdout.write(
      `${JSON.stringify({ bench: 'queries', events, keys, warmup, runs, workloads, checkpoint })}\n`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
