// One server of each kind per test run, shared by every vitest project that needs it: globalSetup
// files of several projects run in the same main process, so a reference count on globalThis
// starts a server on first use and stops it after its last user's teardown.
// With EVENTRUNNER_STACK_ENV=<file> (written by `npm run stack -- up`), an already running stack
// is used instead and nothing is started or stopped.
import { readFileSync } from 'node:fs';
import type { ServerKind, StackEnv } from './env.js';
import { startServer, type RunningServer } from './servers.js';

interface Entry {
  refs: number;
  server: Promise<RunningServer>;
}
const key = Symbol.for('eventrunner.test-stack');
const g = globalThis as unknown as Record<symbol, Map<ServerKind, Entry> | undefined>;
const entries: Map<ServerKind, Entry> = (g[key] ??= new Map());

function externalStack(): StackEnv | undefined {
  const file = process.env.EVENTRUNNER_STACK_ENV;
  if (!file) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as StackEnv;
}

export async function acquire<K extends ServerKind>(kind: K): Promise<NonNullable<StackEnv[K]>> {
  const external = externalStack();
  if (external) {
    const env = external[kind];
    if (!env)
      throw new Error(`EVENTRUNNER_STACK_ENV=${process.env.EVENTRUNNER_STACK_ENV} has no ${kind} server`);
    return env as NonNullable<StackEnv[K]>;
  }
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
  return (await entry.server).env as NonNullable<StackEnv[K]>;
}

export async function release(kind: ServerKind): Promise<void> {
  if (externalStack()) return;
  const entry = entries.get(kind);
  if (!entry) return;
  entry.refs--;
  if (entry.refs > 0) return;
  entries.delete(kind);
  const server = await entry.server.catch(() => undefined);
  await server?.stop();
}
