// One measurement of eventrunner's rule engine, run in its own process (started by index.ts with
// --single-threaded-gc so that garbage collection stays on the measured core):
//   measure.ts <rules.grl> <events.jsonl> <seconds> <rules-only|with-parse|parse-only>
// Prints {"eventsPerSec": N, "firings": F} on stdout (N: median of 100 ms slices). `rules-only` evaluates pre-parsed events
// (reused, so fields the rules add stay on them); `with-parse` parses each event's JSON first, as
// Grule's AddJSON does; `parse-only` only parses, to show what JSON.parse alone costs.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { compileRules, type CloudEventLike } from '../../runtime/rules/index.js';
import { OUTPUTS } from './workload.js';

const [rulesPath, eventsPath, secondsArg, kind] = process.argv.slice(2);
const KINDS = ['rules-only', 'with-parse', 'parse-only'];
if (!rulesPath || !eventsPath || !secondsArg || !kind || !KINDS.includes(kind)) {
  process.stderr.write(
    'usage: measure.ts <rules.grl> <events.jsonl> <seconds> <rules-only|with-parse|parse-only>\n',
  );
  process.exit(2);
}
const lines = readFileSync(eventsPath, 'utf8').trim().split('\n');
const events = lines.map((l) => JSON.parse(l) as CloudEventLike);
let firings = 0;
const rules = compileRules(readFileSync(rulesPath, 'utf8'), { outputs: OUTPUTS });

// Count how many rules fire per event (their writes are new fields), for the report.
for (const e of events.map((x) => structuredClone(x))) {
  const before = Object.keys(e.data as object).length;
  rules.evaluate(e);
  firings += Object.keys(e.data as object).length - before;
}

let sink = 0;
function batch(n: number, offset: number): void {
  if (kind === 'rules-only') {
    for (let i = 0; i < n; i++) sink += rules.evaluate(events[(offset + i) % events.length]!).routes.length;
  } else if (kind === 'parse-only') {
    for (let i = 0; i < n; i++)
      sink += (JSON.parse(lines[(offset + i) % lines.length]!) as CloudEventLike).id.length;
  } else {
    for (let i = 0; i < n; i++) {
      sink += rules.evaluate(JSON.parse(lines[(offset + i) % lines.length]!) as CloudEventLike).routes.length;
    }
  }
}

// Warm up until the JIT has settled, then measure whole batches against the clock.
const warmUntil = performance.now() + Math.min(1000, Number(secondsArg) * 500);
let done = 0;
while (performance.now() < warmUntil) batch(100, done++ * 100);
// Throughput is measured in 100 ms slices and the median slice is reported: on a shared machine a
// slice in which this process was descheduled would otherwise drag the figure down at random.
const deadline = Number(secondsArg) * 1000;
const start = performance.now();
const rates: number[] = [];
let count = 0;
while (performance.now() - start < deadline) {
  const sliceStart = performance.now();
  let n = 0;
  while (performance.now() - sliceStart < 100) {
    batch(50, count + n);
    n += 50;
  }
  rates.push(n / ((performance.now() - sliceStart) / 1000));
  count += n;
}
rates.sort((a, b) => a - b);
const median = rates[Math.floor(rates.length / 2)]!;
process.stdout.write(
  `${JSON.stringify({ eventsPerSec: median, events: count, slices: rates.length, firings: firings / events.length, sink: sink > 0 })}\n`,
);
