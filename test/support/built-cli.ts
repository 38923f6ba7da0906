// The built CLI, `bin/eventrunner.js` over `dist/`, which is what pods run. Tests that spawn
// eventrunner processes (processors, query workers, ingest) start it rather than the sources through
// tsx: a process then starts in about half the CPU, with nothing to transform. `npm test` builds
// dist/ first; a test run on its own fails at once when dist/ is older than a source file, naming
// the file, instead of testing code that is no longer there.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../stack/paths.js';

/** What tsconfig.build.json compiles into dist/. */
const SOURCE_DIRS = ['api', 'cli', 'operator', 'runtime'];

let checked: string | undefined;

/** The path of bin/eventrunner.js, once dist/ is known to be built from the current sources. */
export function builtCli(): string {
  if (checked !== undefined) return checked;
  const main = join(repoRoot, 'dist', 'cli', 'main.js');
  let built: number;
  try {
    built = statSync(main).mtimeMs;
  } catch {
    throw new Error(`${main} is missing: run npm run build (npm test builds it)`);
  }
  const newer = sourceFiles().find((f) => f.mtimeMs > built);
  if (newer)
    throw new Error(`dist/ is older than ${newer.path}: run npm run build (npm test builds it first)`);
  checked = join(repoRoot, 'bin', 'eventrunner.js');
  return checked;
}

function sourceFiles(): { path: string; mtimeMs: number }[] {
  const found: { path: string; mtimeMs: number }[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(join(repoRoot, dir), { withFileTypes: true })) {
      const rel = join(dir, e.name);
      if (e.isDirectory()) walk(rel);
      else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts'))
        found.push({ path: rel, mtimeMs: statSync(join(repoRoot, rel)).mtimeMs });
    }
  };
  for (const d of SOURCE_DIRS) walk(d);
  return found;
}
