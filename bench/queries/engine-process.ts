// `engine-process.ts FILE SQL`: runs of the query engine over FILE (engine.ts), paced by the
// caller (json-lines.ts, PacedProcess): `{"ready":true}` once the engine is loaded, then a run
// per line on stdin, one JSON line per run on stdout, until stdin ends. The queries bench starts
// one such process per workload, as it starts one Flink JVM per workload, so that no workload
// runs on code and a heap shaped by the ones before it.
import { createInterface } from 'node:readline';
import { loadEngine, runOurs } from './engine.js';

const [file, sql] = process.argv.slice(2);
if (!file || !sql) {
  process.stderr.write('usage: engine-process.ts FILE SQL\n');
  process.exit(2);
}
await loadEngine();
process.stdout.write('{"ready":true}\n');
for await (const line of createInterface({ input: process.stdin })) {
  if (line.trim()) process.stdout.write(`${JSON.stringify(await runOurs(file, sql))}\n`);
}
