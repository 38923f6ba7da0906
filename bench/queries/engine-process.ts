// `engine-process.ts FILE SQL RUNS`: runs of the query engine over FILE (engine.ts), one JSON line
// per run on stdout. The queries bench starts one such process per workload, as it starts one
// Flink JVM per workload, so that no workload runs on code and a heap shaped by the ones before it.
import { runOurs } from './engine.js';

const [file, sql, runs] = process.argv.slice(2);
if (!file || !sql || !runs) {
  process.stderr.write('usage: engine-process.ts FILE SQL RUNS\n');
  process.exit(2);
}
for (let i = 0; i < Number(runs); i++) process.stdout.write(`${JSON.stringify(await runOurs(file, sql))}\n`);
