// One server of each kind per test run, shared by every vitest project that needs it: globalSetup
// files of several projects run in the same main process, so a reference count on globalThis
// starts a server on first use and stops it after its last user's teardown.
// Vitest runs the projects' globalSetup files one after another; `prestart` (called by the
// start-servers reporter when the run starts) starts every server the run's projects name at once,
// so that those files find them starting instead of starting each in turn.
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

/** The kind's entry, its server started now if none is running or starting; one more reference. */
function hold(kind: ServerKind): Entry {
  let entry = entries.get(kind);
  if (!entry) {
    const started = Date.now();
    process.stderr.write(`[stack] starting ${kind}\n`);
    const server = startServer(kind).then((s) => {
      process.stderr.write(`[stack] ${kind} ready in ${((Date.now() - started) / 1000).toFixed(1)}s\n`);
      return s;
    });
    const created: Entry = { refs: 0, server };
    entries.set(kind, created);
    // A server that failed to start is forgotten: the next user starts it again.
    server.catch(() => {
      if (entries.get(kind) === created) entries.delete(kind);
    });
    entry = created;
  }
  entry.refs++;
  return entry;
}

/** Drops a reference to `entry`; the last one stops its server. */
async function drop(kind: ServerKind, entry: Entry): Promise<void> {
  entry.refs--;
  if (entry.refs > 0) return;
  if (entries.get(kind) === entry) entries.delete(kind);
  const server = await entry.server.catch(() => undefined);
  await server?.stop();
}

export async function acquire<K extends ServerKind>(kind: K): Promise<NonNullable<FullStackEnv[K]>> {
  const env = externalStack()?.[kind];
  if (env) return env as NonNullable<FullStackEnv[K]>;
  return (await hold(kind).server).env as NonNullable<FullStackEnv[K]>;
}

export async function release(kind: ServerKind): Promise<void> {
  if (externalStack()?.[kind]) return;
  const entry = entries.get(kind);
  if (entry) await drop(kind, entry);
}

/**
 * Starts all of `kinds` at once without waiting for them, holding a reference to each until the
 * returned function is called. A server that fails to start fails its projects' globalSetup.
 */
export function prestart(kinds: readonly ServerKind[]): () => Promise<void> {
  const external = externalStack();
  const held = kinds
    .filter((kind) => !external?.[kind])
    .map((kind) => {
      const entry = hold(kind);
      entry.server.catch(() => undefined);
      return { kind, entry };
    });
  return async () => {
    await Promise.all(held.map(({ kind, entry }) => drop(kind, entry)));
  };
}
