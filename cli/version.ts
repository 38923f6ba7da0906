import { readFileSync } from 'node:fs';

/** The package's package.json: two levels up from dist/cli/, one from cli/ when run from source. */
function readPackage(): { name?: unknown; version: string } {
  for (const relative of ['../../package.json', '../package.json']) {
    let pkg: { name?: unknown; version: string };
    try {
      pkg = JSON.parse(readFileSync(new URL(relative, import.meta.url), 'utf8')) as typeof pkg;
    } catch {
      continue;
    }
    if (pkg.name === 'eventrunner') return pkg;
  }
  throw new Error(`no eventrunner package.json above ${new URL('.', import.meta.url).pathname}`);
}

/** The package version. */
export const version: string = readPackage().version;
