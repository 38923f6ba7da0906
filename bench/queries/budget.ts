// `npm run bench -- queries budget [--events N] [--keys N] [--warmup N] [--runs N]`: where the
// time of a tumbling count+sum event goes, against what 3× Flink per core leaves for it. On the
// windows bench's file, each in a process of its own after one warm-up run (medians of --runs):
//   - parse: reading and parsing the lines and building the inputs — a stateless query whose
//     WHERE rejects every event (values are never negative), so nothing past the filter runs;
//   - windows: the tumbling workload with `HAVING count(*) < 0` — windows and groups, no rows;
//   - tumbling: the workload itself, and Flink's rate on it at its steady rate (alternate.ts);
//   - ids: one result id, SHA-256 of a window id's JSON text as ids.ts hashes it, per row.
// Prints microseconds per event of each part, and what 3× Flink's rate would leave for the
// engine's own work (windows, groups, building rows) once parsing and ids are paid.
import { hash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { alternate, median, perCpuSecond } from './alternate.js';
import { startOurs } from './engine.js';
import { WORKLOADS, writeEvents } from './workloads.js';

const log = (m: string) => process.stderr.write(`${m}\n`);
const round3 = (x: number) => Math.round(x * 1000) / 1000;
const us = (eventsPerCpuSecond: number) => round3(1e6 / eventsPerCpuSecond);

const PARSE = 'SELECT data.key AS k FROM ev WHERE data.value < 0';

/** The engine's median events per CPU-second on `sql`: one warm-up run, then `runs`. */
async function engineRate(file: string, sql: string, runs: number): Promise<number> {
  const p = await startOurs(file, sql);
  try {
    await p.run();
    const rs = [];
    for (let i = 0; i < runs; i++) rs.push(await p.run());
    return median(rs.map(perCpuSecond));
  } finally {
    await p.close();
  }
}

/** CPU microseconds per id: SHA-256 of window id texts, as idOfText in ids.ts computes them. */
function idCost(keys: number): number {
  const head = '["bench","bench","bench","window",1767225600000,1767225660000,';
  const texts = Array.from({ length: keys }, (_, i) => `${head}"[\\"k${i}\\"]"]`);
  const n = 1_000_000;
  const costs = [];
  let sink = 0;
  for (let r = 0; r < 4; r++) {
    const c0 = process.cpuUsage();
    for (let i = 0; i < n; i++)
      sink ^= hash('sha256', texts[i % keys]!, 'hex')
        .slice(0, 32)
        .charCodeAt(7);
    const c = process.cpuUsage(c0);
    costs.push((c.user + c.system) / n);
  }
  if (sink === -1) log('');
  return median(costs.slice(1));
}

export async function budgetBench(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      events: { type: 'string', default: '1000000' },
      keys: { type: 'string', default: '10000' },
      warmup: { type: 'string', default: '4' },
      runs: { type: 'string', default: '5' },
    },
  });
  const events = Number(values.events);
  const keys = Number(values.keys);
  const runs = Number(values.runs);
  const tumbling = WORKLOADS.find((w) => w.name === 'tumbling-count-sum')!;
  const dir = mkdtempSync(join(tmpdir(), 'bench-budget-'));
  const file = join(dir, 'events.jsonl');
  try {
    writeEvents(file, events, keys);
    log('parse:');
    const parse = await engineRate(file, PARSE, runs);
    log('windows (no rows):');
    const windows = await engineRate(file, `${tumbling.ours} HAVING count(*) < 0`, runs);
    log('tumbling, against Flink:');
    const pairs = await alternate(file, tumbling.ours, tumbling.flink, Number(values.warmup), runs);
    const ours = median(pairs.map((p) => perCpuSecond(p.ours)));
    const flink = median(pairs.map((p) => perCpuSecond(p.flink)));
    const rowsPerEvent = pairs[0]!.ours.rows / events;
    const idUs = round3(idCost(keys));
    const part = {
      parse: us(parse),
      windows: round3(us(windows) - us(parse)),
      rows: round3(us(ours) - us(windows)),
      ids: round3(idUs * rowsPerEvent),
    };
    const target = us(flink * 3);
    const left = round3(target - part.parse - part.ids);
    const engineNow = round3(part.windows + part.rows - part.ids);
    const result = {
      bench: 'queries-budget',
      events,
      keys,
      eventsPerCpuSecond: { parse: parse, windows: windows, tumbling: ours, flink },
      rowsPerEvent: round3(rowsPerEvent),
      idMicros: idUs,
      microsPerEvent: { ...part, total: us(ours), flink: us(flink), threeTimesFlink: target },
      leftForEngineAt3x: left,
      engineNow,
      fasterNeeded: left > 0 ? Math.round((engineNow / left) * 100) / 100 : null,
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
