// `npm run stack -- up [kube nats cassandra clickhouse ...]`: starts the test stack and keeps it
// running until Ctrl-C; the 3-node clusters (nats-cluster, cassandra-cluster) only when named. It writes .stack/env.json; point tests at it with
// EVENTRUNNER_STACK_ENV=.stack/env.json to reuse the servers across many test runs.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ServerKind, FullStackEnv } from './env.js';
import { toProcessEnv } from './env.js';
import { logsDir, repoRoot } from './paths.js';
import { clusterKinds, serverKinds, startServer, type RunningServer } from './servers.js';

export async function startStack(kinds: ServerKind[], log = (s: string) => process.stderr.write(s + '\n')) {
  const running: RunningServer[] = [];
  const env: FullStackEnv = {};
  // All at once; if one fails, the others are stopped once they are up.
  const started = await Promise.allSettled(
    kinds.map(async (kind) => {
      const t = Date.now();
      log(`starting ${kind} ...`);
      const server = await startServer(kind);
      running.push(server);
      (env as Record<string, unknown>)[kind] = server.env;
      log(`${kind} ready in ${((Date.now() - t) / 1000).toFixed(1)}s`);
    }),
  );
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await Promise.all(running.map((s) => s.stop()));
    throw failed.reason;
  }
  return {
    env,
    async stop() {
      await Promise.all(running.reverse().map((s) => s.stop()));
    },
  };
}

async function main(argv: string[]): Promise<void> {
  const [cmd, ...args] = argv;
  // --out <path>: where to describe the stack (default .stack/env.json), so that a second
  // stack (the clusters, say) can run next to the first without replacing its file.
  const at = args.indexOf('--out');
  const envFileArg = at >= 0 ? args[at + 1] : undefined;
  const rest = at >= 0 ? args.filter((_, i) => i !== at && i !== at + 1) : args;
  if (cmd !== 'up') {
    process.stderr.write(
      `usage: npm run stack -- up [${[...serverKinds, ...clusterKinds].join('] [')}] [--out <path>]\n`,
    );
    process.exit(2);
  }
  const known = [...serverKinds, ...clusterKinds];
  const unknown = rest.filter((k) => !known.includes(k as ServerKind));
  if (unknown.length) {
    process.stderr.write(`unknown server(s): ${unknown.join(', ')}; choose from ${known.join(', ')}\n`);
    process.exit(2);
  }
  const kinds = rest.length ? (rest as ServerKind[]) : serverKinds;
  const stack = await startStack(kinds);
  const dir = join(repoRoot, '.stack');
  mkdirSync(dir, { recursive: true });
  const envFile = envFileArg ? resolve(envFileArg) : join(dir, 'env.json');
  writeFileSync(envFile, JSON.stringify(stack.env, null, 2));
  const exports = Object.entries(toProcessEnv(stack.env))
    .map(([k, v]) => `export ${k}=${v}`)
    .join('\n');
  process.stdout.write(
    `\nstack is up (logs: ${logsDir()})\n${exports}\n\n` +
      `reuse it in tests: EVENTRUNNER_STACK_ENV=${envFile} npx vitest run ...\nCtrl-C stops it.\n`,
  );
  const shutdown = async () => {
    process.stderr.write('\nstopping the stack ...\n');
    await stack.stop();
    process.exit(0);
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await main(process.argv.slice(2));
}
