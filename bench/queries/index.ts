// `npm run bench -- queries [--events N] [--keys N] [--warmup N] [--runs N]`: the query engine's
// events/s per core on one JSON-lines file, against Apache Flink SQL (flink-sql-harness,
// parallelism 1) on the same file and the equivalent queries in the same run, warm-up runs first,
// then pairs of runs alternating (alternate.ts); result row counts must agree. Then the state held
// per key and a checkpoint's size and time at 100,000 keys. Progress on stderr, one JSON line last
// on stdout. `npm run bench -- queries runtime ...` measures the distributed runtime end to end
// instead (runtime.ts); `... queries budget` where a tumbling event's time goes (budget.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { measureCheckpoint } from './checkpoint.js';
import { alternate, compare } from './alternate.js';
import { runtimeBench } from './runtime.js';
import { patternsBench } from './patterns.js';
import { lookupBench } from './lookup.js';
import { WORKLOADS, writeEvents } from './workloads.js';
import { budgetBench } from './budget.js';

const log = (m: string) => process.stderr.write(`${m}\n`);

export async function main(argv: string[]): Promise<void> {
  if (argv[0] === 'runtime') return runtimeBench(argv.slice(1));
  if (argv[0] === 'patterns') return patternsBench(argv.slice(1));
  if (argv[0] === 'lookup') return lookupBench(argv.slice(1));
  if (argv[0] === 'budget') return budgetBench(argv.slice(1));
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
