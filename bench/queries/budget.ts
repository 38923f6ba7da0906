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
const us = (eventsPerCpuSecond: number) => Math.round((1e6 / eventsPerCpuSecond) * 1000) / 1000;

const PARSE = 'SELECT data.key AS k FROM ev WHERE data.value < 0';

/** The engine's median events per CPU-second on `sql`: one warm-up run, then `runs`. */
async function engineRate(file: string, sql: string, runs: number): Promise<{ rate: number; rows: number }> {
  const p = await startOurs(file, sql);
  try {
    await p.run();
    const rs = [];
    for (let i = 0; i < runs; i++) rs.push(await p.run());
    return { rate: median(rs.map(perCpuSecond)), rows: rs[0]!.rows };
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
    const idUs = Math.round(idCost(keys) * 1000) / 1000;
    const part = {
      parse: us(parse.rate),
      windows: Math.round((us(windows.rate) - us(parse.rate)) * 1000) / 1000,
      rows: Math.round((us(ours) - us(windows.rate)) * 1000) / 1000,
      ids: Math.round(idUs * rowsPerEvent * 1000) / 1000,
    };
    const target = us(flink * 3);
    const left = Math.round((target - part.parse - part.ids) * 1000) / 1000;
    const engineNow = Math.round((part.windows + part.rows - part.ids) * 1000) / 1000;
    const result = {
      bench: 'queries-budget',
      events,
      keys,
      eventsPerCpuSecond: { parse: parse.rate, windows: windows.rate, tumbling: ours, flink },
      rowsPerEvent: Math.round(rowsPerEvent * 1000) / 1000,
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
