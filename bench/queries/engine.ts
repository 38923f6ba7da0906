// One run of eventrunner's query engine over the benchmark file, as a query worker would see it:
// read and parse every line, push inputs in batches of 1,000 into one partition, end of input.
// CPU time is the process's (GC included), as Flink's is. The engine is the compiled code a query
// worker runs (dist/, which `npm run bench` builds first), not the sources as the TypeScript
// loader running bench/ compiles them on the fly.
import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type * as Queries from '../../runtime/queries/index.js';
import type { QueryInput } from '../../runtime/queries/index.js';
import { collectGarbage } from './gc.js';
import { PacedProcess } from './json-lines.js';

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
 * A process of its own for runs of runOurs, paced by the caller (engine-process.ts, started with
 * this process's node flags, so under the same TypeScript loader).
 */
export function startOurs(file: string, sql: string): Promise<PacedProcess<OurRun>> {
  const script = join(fileURLToPath(new URL('.', import.meta.url)), 'engine-process.ts');
  const args = [...process.execArgv, script, file, sql];
  return PacedProcess.start<OurRun>(process.execPath, args, 'engine-process.ts');
}

const CHUNK = 1 << 20;

export async function runOurs(file: string, sql: string): Promise<OurRun> {
  const { compileQuery } = await loadEngine();
  const q = compileQuery({ name: 'bench', sql }, { namespace: 'bench', pipeline: 'bench', sources: ['ev'] });
  collectGarbage();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const state = q.createState();
  let rows = 0;
  let events = 0;
  let batch: QueryInput[] = [];
  // The file in chunks, as a consumer receives messages, not as one string of the whole file.
  const fd = openSync(file, 'r');
  const buf = Buffer.allocUnsafe(CHUNK);
  const utf8 = new StringDecoder('utf8');
  let rest = '';
  try {
    for (let n = readSync(fd, buf, 0, CHUNK, null); n > 0; n = readSync(fd, buf, 0, CHUNK, null)) {
      const text = rest + utf8.write(buf.subarray(0, n));
      let start = 0;
      for (let end = text.indexOf('\n'); end >= 0; end = text.indexOf('\n', start)) {
        const e = JSON.parse(text.slice(start, end)) as {
          key: string;
          ts: number;
          seq: number;
          value: number;
        };
        start = end + 1;
        events++;
        // The stream time stands for the event time, as for an event without `time`.
        batch.push({ source: 'ev', seq: e.seq, streamTime: e.ts, event: { id: String(e.seq), data: e } });
        if (batch.length === BATCH) {
          rows += state.push(batch).results.length;
          batch = [];
        }
      }
      rest = text.slice(start);
    }
  } finally {
    closeSync(fd);
  }
  rows += state.push(batch).results.length;
  rows += state.end().results.length;
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { events, rows, ms, cpuMs: (cpu.user + cpu.system) / 1000 };
}
