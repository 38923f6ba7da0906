// `npm run bench -- queries [--events N] [--keys N] [--warmup N] [--runs N]`: the query engine's
// events/s per core on one JSON-lines file, against Apache Flink SQL (flink-sql-harness,
// parallelism 1) on the same file and the equivalent queries in the same run, warm-up runs first,
// then pairs of runs alternating (alternate.ts); result row counts must agree. Then the state held
// per key and a checkpoint's size and time at 100,000 keys. Progress on stderr, one JSON line last
// on stdout. `npm run bench -- queries runtime ...` measures the distributed runtime end to end
// instead (runtime.ts).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { measureCheckpoint } from './checkpoint.js';
import { alternate, compare } from './alternate.js';
import { runtimeBench } from './runtime.js';
import { patternsBench } from './patterns.js';
import { lookupBench } from './lookup.js';
import { WORKLOADS } from './workloads.js';

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
      const entry = { name: w.name, ...compare(await alternate(file, w.ours, w.flink, warmup, runs)) };
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
