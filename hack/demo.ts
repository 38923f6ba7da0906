// `npm run demo`: starts the real-server stack eventrunner runs against and reports what it started.
// Ctrl-C (or Enter) stops everything it started.
import { startStack } from '../test/stack/cli.js';
import { toProcessEnv } from '../test/stack/env.js';
import { logsDir } from '../test/stack/paths.js';

const say = (s: string) => process.stdout.write(`${s}\n`);

say('eventrunner demo: starting the stack (kube-apiserver + etcd, NATS JetStream, Cassandra, ClickHouse)');
const stack = await startStack(['kube', 'nats', 'cassandra', 'clickhouse'], (s) => say(`  ${s}`));
say('\nrunning:');
for (const [k, v] of Object.entries(toProcessEnv(stack.env))) say(`  ${k}=${v}`);
say(`  server logs: ${logsDir()}`);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  say('\nstopping everything the demo started ...');
  await stack.stop();
  say('stopped.');
  process.exit(0);
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
if (process.stdin.isTTY) {
  say('\npress Enter or Ctrl-C to stop');
  process.stdin.once('data', () => void stop());
} else {
  await stop();
}
