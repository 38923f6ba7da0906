// One run of eventrunner's query engine over the benchmark file, as a query worker would see it:
// read and parse every line, push inputs in batches of 1,000 into one partition, end of input.
// CPU time is the process's (GC included), as Flink's is. The engine is the compiled code a query
// worker runs (dist/, which `npm run bench` builds first), not the sources as the TypeScript
// loader running bench/ compiles them on the fly.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type * as Queries from '../../runtime/queries/index.js';
import type { QueryInput } from '../../runtime/queries/index.js';
import { collectGarbage } from './gc.js';
import { runJsonLines } from './json-lines.js';

const compiled = join(fileURLToPath(new URL('.', import.meta.url)), '../../dist/runtime/queries/index.js');

/** The query engine as built into dist/. */
export async function loadEngine(): Promise<typeof Queries> {
  if (!existsSync(compiled)) throw new Error(`${compiled} is missing: run npm run build first`);
  return (await import(pathToFileURL(compiled).href)) as typeof Queries;
}

export interface OurRun {
  events: number;
  rows: number;
  ms: number;
  cpuMs: number;
}

const BATCH = 1000;

/**
 * `runs` runs of runOurs in a process of their own (engine-process.ts, started with this process's
 * node flags, so under the same TypeScript loader).
 */
export function runOursIsolated(file: string, sql: string, runs: number): Promise<OurRun[]> {
  const script = join(fileURLToPath(new URL('.', import.meta.url)), 'engine-process.ts');
  const args = [...process.execArgv, script, file, sql, String(runs)];
  return runJsonLines<OurRun>(process.execPath, args, 'engine-process.ts');
}

export async function runOurs(file: string, sql: string): Promise<OurRun> {
  const { compileQuery } = await loadEngine();
  const q = compileQuery({ name: 'bench', sql }, { namespace: 'bench', pipeline: 'bench', sources: ['ev'] });
  collectGarbage();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const text = readFileSync(file, 'utf8');
  const state = q.createState();
  let rows = 0;
  let events = 0;
  let batch: QueryInput[] = [];
  let start = 0;
  for (;;) {
    const end = text.indexOf('\n', start);
    if (end < 0) break;
    const e = JSON.parse(text.slice(start, end)) as { key: string; ts: number; seq: number; value: number };
    start = end + 1;
    events++;
    // The stream time stands for the event time, as for an event without `time`.
    batch.push({ source: 'ev', seq: e.seq, streamTime: e.ts, event: { id: String(e.seq), data: e } });
    if (batch.length === BATCH) {
      rows += state.push(batch).results.length;
      batch = [];
    }
  }
  rows += state.push(batch).results.length;
  rows += state.end().results.length;
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { events, rows, ms, cpuMs: (cpu.user + cpu.system) / 1000 };
}
