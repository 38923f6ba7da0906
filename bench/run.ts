// `npm run bench -- <name> [args]`: runs bench/<name>/index.ts. Each benchmark prints progress to
// stderr and one machine-readable JSON line last on stdout.
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { join } from 'node:path';

// Servers as in production: Cassandra with both of the JVM's compilers (test/stack/cassandra.ts).
process.env.EVENTRUNNER_CASSANDRA_JIT ??= 'full';

const here = fileURLToPath(new URL('.', import.meta.url));
const available = readdirSync(here, { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(here, d.name, 'index.ts')))
  .map((d) => d.name);

const [name, ...args] = process.argv.slice(2);
if (!name || !available.includes(name)) {
  process.stderr.write(`usage: npm run bench -- <${available.join('|')}> [args]\n`);
  process.exit(2);
}
const mod = (await import(pathToFileURL(join(here, name, 'index.ts')).href)) as {
  main(args: string[]): Promise<void>;
};
await mod.main(args);
