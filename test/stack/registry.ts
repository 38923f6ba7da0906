// One server of each kind per test run, shared by every vitest project that needs it: globalSetup
// files of several projects run in the same main process, so a reference count on globalThis
// starts a server on first use and stops it after its last user's teardown.
// With EVENTRUNNER_STACK_ENV=<file> (written by `npm run stack -- up`), the servers of an already
// running stack are used instead and not started or stopped; a kind that stack does not run is
// started for this run as usual.
import { readFileSync } from 'node:fs';
import type { ServerKind, FullStackEnv } from './env.js';
import { startServer, type RunningServer } from './servers.js';

interface Entry {
  refs: number;
  server: Promise<RunningServer>;
}
const key = Symbol.for('eventrunner.test-stack');
const g = globalThis as unknown as Record<symbol, Map<ServerKind, Entry> | undefined>;
const entries: Map<ServerKind, Entry> = (g[key] ??= new Map());

function externalStack(): FullStackEnv | undefined {
  const file = process.env.EVENTRUNNER_STACK_ENV;
  if (!file) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as FullStackEnv;
}

export async function acquire<K extends ServerKind>(kind: K): Promise<NonNullable<FullStackEnv[K]>> {
  const env = externalStack()?.[kind];
  if (env) return env as NonNullable<FullStackEnv[K]>;
  let entry = entries.get(kind);
  if (!entry) {
    const started = Date.now();
    process.stderr.write(`[stack] starting ${kind}\n`);
    const server = startServer(kind).then((s) => {
      process.stderr.write(`[stack] ${kind} ready in ${((Date.now() - started) / 1000).toFixed(1)}s\n`);
      return s;
    });
    entry = { refs: 0, server };
    entries.set(kind, entry);
    server.catch(() => entries.delete(kind));
  }
  entry.refs++;
  return (await entry.server).env as NonNullable<FullStackEnv[K]>;
}

export async function release(kind: ServerKind): Promise<void> {
  if (externalStack()?.[kind]) return;
  const entry = entries.get(kind);
  if (!entry) return;
  entry.refs--;
  if (entry.refs > 0) return;
  entries.delete(kind);
  const server = await entry.server.catch(() => undefined);
  await server?.stop();
}
