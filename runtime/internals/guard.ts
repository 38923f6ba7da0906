// The guard every library-internal fast path is reached through. A fast path is written and
// measured against one exact version of a library; a newer release may move the file it reaches
// into or change the fields it reads, without any notice in its public API. So before a path is
// used, the guard compares the installed version of each library it touches with the version it
// was written for, then loads the internals and checks their shape (the functions and fields the
// path calls). Anything unexpected disables that path: never a throw, at import or later.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const nodeRequire = createRequire(import.meta.url);

/** The fast paths, as named in logs and in the `path` label of the metrics. */
export const FastPathName = {
  CassandraDirectExecute: 'cassandra-direct-execute',
  CassandraMurmur3Token: 'cassandra-murmur3-token',
  NatsReplySubject: 'nats-reply-subject',
  NatsRawHeaders: 'nats-raw-headers',
  KubeSharedAgents: 'kube-shared-agents',
} as const;
export type FastPathName = (typeof FastPathName)[keyof typeof FastPathName];

/** A library and the exact version a fast path was written and measured against. */
export interface LibraryPin {
  name: string;
  version: string;
}

/** What a site's loader may use to reach a library's files (replaceable, to test a moved file). */
export interface LoadContext {
  /** Node's require, resolving from this folder. */
  require(id: string): unknown;
  /** The directory of an installed package (the one holding its package.json). */
  packageDir(name: string): string;
}

/** One library-internal fast path: what it pins, and how its internals are reached and checked. */
export interface FastPathSite<T> {
  readonly path: FastPathName;
  readonly pins: readonly LibraryPin[];
  /**
   * Reaches the internals and checks their shape. Returns them, or a sentence saying what is not
   * as expected; may throw (a missing file), which the guard turns into the same.
   */
  load(ctx: LoadContext): T | string;
}

/** Why a fast path is not used. */
export type FastPathReason = 'off' | 'version' | 'missing' | 'shape';

export interface LibraryVersion {
  name: string;
  writtenFor: string;
  /** undefined when the package cannot be found. */
  installed: string | undefined;
}

export type FastPathStatus<T = unknown> =
  | { path: FastPathName; enabled: true; libraries: LibraryVersion[]; internals: T }
  | {
      path: FastPathName;
      enabled: false;
      libraries: LibraryVersion[];
      reason: FastPathReason;
      detail: string;
    };

/** Finds the package.json of `name`: by its subpath when exported, else up from its entry point. */
export function packageDir(name: string, req: NodeJS.Require = nodeRequire): string {
  try {
    return dirname(req.resolve(`${name}/package.json`));
  } catch {
    // A package whose `exports` map hides its package.json (the @nats-io packages).
  }
  let dir = dirname(req.resolve(name));
  for (;;) {
    const file = join(dir, 'package.json');
    if (existsSync(file) && (JSON.parse(readFileSync(file, 'utf8')) as { name?: string }).name === name)
      return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json of ${name} above ${req.resolve(name)}`);
    dir = parent;
  }
}

/** The installed version of `name`, or undefined when it cannot be read. */
export function installedVersion(name: string, ctx: LoadContext = defaultLoadContext): string | undefined {
  try {
    const file = join(ctx.packageDir(name), 'package.json');
    const version = (JSON.parse(readFileSync(file, 'utf8')) as { version?: unknown }).version;
    return typeof version === 'string' ? version : undefined;
  } catch {
    return undefined;
  }
}

export const defaultLoadContext: LoadContext = {
  require: (id) => nodeRequire(id),
  packageDir: (name) => packageDir(name),
};

export interface CheckOptions {
  /** Versions to expect instead of the sites' own pins, by package (a test simulates a bump). */
  pins?: Readonly<Record<string, string>>;
  ctx?: LoadContext;
}

function describeError(err: unknown): string {
  if (err instanceof Error) return (err as Error & { code?: string }).code ?? err.message.split('\n', 1)[0]!;
  return String(err);
}

/** Checks the installed versions, then loads and checks the site's internals. Never throws. */
export function checkSite<T>(site: FastPathSite<T>, opts: CheckOptions = {}): FastPathStatus<T> {
  const ctx = opts.ctx ?? defaultLoadContext;
  const libraries = site.pins.map((p) => ({
    name: p.name,
    writtenFor: opts.pins?.[p.name] ?? p.version,
    installed: installedVersion(p.name, ctx),
  }));
  const off = (reason: FastPathReason, detail: string): FastPathStatus<T> => ({
    path: site.path,
    enabled: false,
    libraries,
    reason,
    detail,
  });
  const moved = libraries.filter((l) => l.installed !== l.writtenFor);
  if (moved.length)
    return off(
      'version',
      moved
        .map(
          (l) => `${l.name} is ${l.installed ?? 'not found'}, the fast path was written for ${l.writtenFor}`,
        )
        .join('; '),
    );
  let loaded: T | string;
  try {
    loaded = site.load(ctx);
  } catch (err) {
    return off('missing', describeError(err));
  }
  if (typeof loaded === 'string') return off('shape', loaded);
  return { path: site.path, enabled: true, libraries, internals: loaded };
}

/** A problem sentence when `value` lacks a function at `name`, else undefined. */
export function lacksFunction(value: unknown, name: string, what: string): string | undefined {
  const fn = (value as Record<string, unknown> | null | undefined)?.[name];
  return typeof fn === 'function' ? undefined : `${what} has no function ${name}`;
}
