// `npm run stack -- up [kube nats cassandra clickhouse]`: starts the test stack and keeps it running
// until Ctrl-C. It writes .stack/env.json; point tests at it with
// EVENTRUNNER_STACK_ENV=.stack/env.json to reuse the servers across many test runs.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ServerKind, FullStackEnv } from './env.js';
import { toProcessEnv } from './env.js';
import { logsDir, repoRoot } from './paths.js';
import { serverKinds, startServer, type RunningServer } from './servers.js';

export async function startStack(kinds: ServerKind[], log = (s: string) => process.stderr.write(s + '\n')) {
  const running: RunningServer[] = [];
  const env: FullStackEnv = {};
  try {
    for (const kind of kinds) {
      const t = Date.now();
      log(`starting ${kind} ...`);
      const server = await startServer(kind);
      running.push(server);
      (env as Record<string, unknown>)[kind] = server.env;
      log(`${kind} ready in ${((Date.now() - t) / 1000).toFixed(1)}s`);
    }
  } catch (err) {
    await Promise.all(running.map((s) => s.stop()));
    throw err;
  }
  return {
    env,
    async stop() {
      await Promise.all(running.reverse().map((s) => s.stop()));
    },
  };
}

async function main(argv: string[]): Promise<void> {
  const [cmd, ...rest] = argv;
  if (cmd !== 'up') {
    process.stderr.write('usage: npm run stack -- up [kube] [nats] [cassandra] [clickhouse]\n');
    process.exit(2);
  }
  const unknown = rest.filter((k) => !serverKinds.includes(k as ServerKind));
  if (unknown.length) {
    process.stderr.write(`unknown server(s): ${unknown.join(', ')}; choose from ${serverKinds.join(', ')}\n`);
    process.exit(2);
  }
  const kinds = rest.length ? (rest as ServerKind[]) : serverKinds;
  const stack = await startStack(kinds);
  const dir = join(repoRoot, '.stack');
  mkdirSync(dir, { recursive: true });
  const envFile = join(dir, 'env.json');
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
