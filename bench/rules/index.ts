// `npm run bench -- rules [--runs N] [--seconds S] [--sizes 1,10,100,1000] [--events N]`
// Events per second per core of eventrunner's compiled GRL against the Grule engine itself
// (hack/grule, github.com/hyperjumptech/grule-rule-engine), on the same generated rule sets and
// the same CloudEvents, measured in the same run. Each measurement is its own single-core process
// (Go: GOMAXPROCS=1; Node: --single-threaded-gc) reporting its median 100 ms slice; engines and
// sizes are interleaved over several runs, medians are reported, and ratios are medians of the
// ratios within each run. Progress goes to stderr; one JSON line ends stdout.
//
// Figures: `rulesOnly` evaluates already-parsed events (the processor parses each message once
// anyway); `withParse` includes JSON.parse of the event, which is what Grule's AddJSON + Execute
// per event includes, so `withParse` against Grule is the like-for-like ratio.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileRules, type CloudEventLike } from '../../runtime/rules/index.js';
import { generateEvents, generateRules, OUTPUTS } from './workload.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = join(here, '..', '..');
const log = (msg: string): void => {
  process.stderr.write(`${msg}\n`);
};

interface Options {
  runs: number;
  seconds: number;
  sizes: number[];
  events: number;
}

function parseArgs(args: string[]): Options {
  const opts: Options = { runs: 5, seconds: 1, sizes: [1, 10, 100, 1000], events: 1000 };
  for (let i = 0; i < args.length; i++) {
    const [flag, value] = [args[i], args[i + 1]];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    if (flag === '--runs') opts.runs = Number(value);
    else if (flag === '--seconds') opts.seconds = Number(value);
    else if (flag === '--sizes') opts.sizes = value.split(',').map(Number);
    else if (flag === '--events') opts.events = Number(value);
    else throw new Error(`unknown argument ${flag}`);
    i++;
  }
  if (!(opts.runs >= 1 && opts.seconds > 0 && opts.events >= 1 && opts.sizes.every((n) => n >= 1))) {
    throw new Error('--runs, --seconds, --events and --sizes must be positive');
  }
  return opts;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

function measureJs(
  rules: string,
  events: string,
  seconds: number,
  kind: string,
): { eventsPerSec: number; firings: number } {
  const r = spawnSync(
    process.execPath,
    [
      '--single-threaded-gc',
      '--import',
      'tsx',
      join(here, 'measure.ts'),
      rules,
      events,
      String(seconds),
      kind,
    ],
    { cwd: root, encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`measure.ts failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as { eventsPerSec: number; firings: number };
}

function measureGrule(harness: string, rules: string, events: string, seconds: number): number {
  const r = spawnSync(harness, ['bench', '-rules', rules, '-events', events, '-seconds', String(seconds)], {
    encoding: 'utf8',
    env: { ...process.env, GOMAXPROCS: '1' },
  });
  if (r.status !== 0) throw new Error(`grule-harness bench failed: ${r.stderr}`);
  return (JSON.parse(r.stdout.trim()) as { eventsPerSec: number }).eventsPerSec;
}

/** Both engines must give the same results on the workload, or the comparison means nothing. */
function checkAgreement(harness: string, rulesPath: string, source: string, lines: string[]): void {
  const sample = lines.slice(0, 200);
  const r = spawnSync(harness, ['run', '-rules', rulesPath], {
    input: sample.join('\n') + '\n',
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`grule-harness run failed: ${r.stderr}`);
  const theirs = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { routes: string[]; event: unknown });
  const rules = compileRules(source, { outputs: OUTPUTS });
  sample.forEach((line, i) => {
    const ours = rules.evaluate(JSON.parse(line) as CloudEventLike);
    const want = theirs[i]!.routes.length ? theirs[i]!.routes : OUTPUTS;
    const sameRoutes = JSON.stringify(ours.routes) === JSON.stringify(want);
    const canon = (v: unknown): string =>
      JSON.stringify(v, (_k, x: unknown) =>
        x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort()) : x,
      );
    if (!sameRoutes || canon(ours.event) !== canon(theirs[i]!.event)) {
      throw new Error(
        `engines disagree on event ${i} of ${rulesPath}: routes ${JSON.stringify(ours.routes)} vs ${JSON.stringify(want)}`,
      );
    }
  });
}

export async function main(args: string[]): Promise<void> {
  const opts = parseArgs(args);
  execFileSync('bash', [join(root, 'hack/tools/extra-grule.sh')], { stdio: ['ignore', 'ignore', 'inherit'] });
  const harness = join(
    process.env.EVENTRUNNER_CACHE ?? join(homedir(), '.cache', 'eventrunner'),
    'bin',
    'grule-harness',
  );
  const dir = mkdtempSync(join(tmpdir(), 'er-bench-rules-'));
  try {
    const lines = generateEvents(opts.events).map((e) => JSON.stringify(e));
    const eventsPath = join(dir, 'events.jsonl');
    writeFileSync(eventsPath, lines.join('\n') + '\n');
    const avgBytes = Math.round(lines.reduce((s, l) => s + l.length, 0) / lines.length);
    log(
      `rules bench: ${opts.events} CloudEvents (~${avgBytes} bytes each), sizes ${opts.sizes.join(', ')}, ${opts.runs} runs of ${opts.seconds}s`,
    );

    const sets = opts.sizes.map((n) => {
      const source = generateRules(n);
      const path = join(dir, `rules-${n}.grl`);
      writeFileSync(path, source);
      checkAgreement(harness, path, source, lines);
      return { n, path };
    });
    log('both engines agree on routes and resulting events for every rule set');

    const parseOnly: number[] = [];
    const samples = new Map<
      number,
      { rulesOnly: number[]; withParse: number[]; grule: number[]; firings: number }
    >();
    for (const { n } of sets) samples.set(n, { rulesOnly: [], withParse: [], grule: [], firings: 0 });
    for (let run = 1; run <= opts.runs; run++) {
      parseOnly.push(measureJs(sets[0]!.path, eventsPath, opts.seconds, 'parse-only').eventsPerSec);
      log(`run ${run}/${opts.runs} JSON.parse alone: ${Math.round(parseOnly.at(-1)!)}/s`);
      for (const { n, path } of run % 2 ? sets : [...sets].reverse()) {
        const s = samples.get(n)!;
        const grule = measureGrule(harness, path, eventsPath, opts.seconds);
        const only = measureJs(path, eventsPath, opts.seconds, 'rules-only');
        const parse = measureJs(path, eventsPath, opts.seconds, 'with-parse');
        s.grule.push(grule);
        s.rulesOnly.push(only.eventsPerSec);
        s.withParse.push(parse.eventsPerSec);
        s.firings = only.firings;
        log(
          `run ${run}/${opts.runs} ${String(n).padStart(4)} rules: eventrunner ${Math.round(only.eventsPerSec)}/s (with JSON.parse ${Math.round(parse.eventsPerSec)}/s), Grule ${Math.round(grule)}/s`,
        );
      }
    }

    const results = sets.map(({ n }) => {
      const s = samples.get(n)!;
      const [rulesOnly, withParse, grule] = [median(s.rulesOnly), median(s.withParse), median(s.grule)];
      // Ratios are taken within each run (measurements seconds apart) and then the median is taken,
      // which cancels most of the load drift of a shared machine between runs.
      const ratio = (xs: number[]): number => Number(median(xs.map((x, i) => x / s.grule[i]!)).toFixed(1));
      return {
        rules: n,
        firingsPerEvent: Number(s.firings.toFixed(2)),
        eventrunner: { rulesOnly: Math.round(rulesOnly), withParse: Math.round(withParse) },
        grule: Math.round(grule),
        ratio: { rulesOnly: ratio(s.rulesOnly), withParse: ratio(s.withParse) },
      };
    });
    for (const r of results) {
      log(
        `${String(r.rules).padStart(4)} rules (median): eventrunner ${r.eventrunner.rulesOnly}/s, with JSON.parse ${r.eventrunner.withParse}/s; Grule ${r.grule}/s; ratio ${r.ratio.rulesOnly}x (${r.ratio.withParse}x with parse)`,
      );
    }
    const at100 = results.find((r) => r.rules === 100);
    const at10 = results.find((r) => r.rules === 10);
    process.stdout.write(
      `${JSON.stringify({
        benchmark: 'rules',
        unit: 'events/s per core',
        statistic: `events/s: median over ${opts.runs} runs of each process's median 100 ms slice; ratio: median of the per-run ratios`,
        secondsPerMeasurement: opts.seconds,
        jsonParseOnly: Math.round(median(parseOnly)),
        events: opts.events,
        eventBytes: avgBytes,
        cpu: cpus()[0]?.model,
        node: process.version,
        results,
        targets: {
          ratioAt100Rules: at100 && {
            want: 10,
            got: at100.ratio.withParse,
            met: at100.ratio.withParse >= 10,
          },
          eventsPerSecAt10Rules: at10 && {
            want: 1_000_000,
            got: at10.eventrunner.rulesOnly,
            met: at10.eventrunner.rulesOnly >= 1_000_000,
          },
        },
      })}\n`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
