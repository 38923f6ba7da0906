// Where provisioned binaries live (hack/tools.sh puts them there) and where a stack keeps its logs.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)));

export function cacheDir(): string {
  return process.env.EVENTRUNNER_CACHE ?? join(homedir(), '.cache', 'eventrunner');
}

/** Logs of the servers of the latest stack run; kept after the run so failures can be read. */
export function logsDir(): string {
  return process.env.EVENTRUNNER_STACK_LOGS ?? join(repoRoot, '.stack', 'logs');
}

export class MissingToolError extends Error {
  readonly code = 'MISSING_TOOL';
  constructor(tool: string, where: string) {
    super(`${tool} is not provisioned (looked for ${where}); run \`npm run tools\` first`);
    this.name = 'MissingToolError';
  }
}

/** Path of a binary built by `npm run tools`; throws MissingToolError naming what to run. */
export function toolPath(name: string): string {
  const p = join(cacheDir(), 'bin', name);
  if (!existsSync(p)) throw new MissingToolError(name, p);
  return p;
}

/** Reads one pinned version from hack/versions.env. */
export async function pinnedVersion(key: string): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  const text = await readFile(join(repoRoot, 'hack', 'versions.env'), 'utf8');
  const m = new RegExp(`^${key}=(.*)$`, 'm').exec(text);
  if (!m?.[1]) throw new Error(`hack/versions.env has no ${key}`);
  return m[1].trim();
}
