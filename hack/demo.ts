// `npm run demo`: eventrunner's main job on the local stack. It starts kube-apiserver + etcd, NATS
// JetStream, Cassandra and ClickHouse, installs the CRDs, runs the operator and a local kubelet,
// applies examples/quickstart with kubectl, sends sample orders through the HTTP ingest, and shows
// what a user would look at. Ctrl-C stops everything it started.
import { startStack } from '../test/stack/cli.js';
import type { StackEnv } from '../test/stack/env.js';
import { logsDir } from '../test/stack/paths.js';
import {
  localQuickstart,
  readResults,
  sampleOrders,
  sendEvents,
  startJourney,
  waitAllReady,
  type Journey,
} from './journey.js';

const say = (s = '') => process.stdout.write(`${s}\n`);
const step = (s: string) => say(`\n\u001b[1m==> ${s}\u001b[0m`);
const events = Number(process.env.DEMO_EVENTS ?? 200);

let stack: Awaited<ReturnType<typeof startStack>> | undefined;
let journey: Journey | undefined;
let stopping = false;
async function stopAll(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    say('\nstopping everything the demo started ...');
    await journey?.stop().catch(() => undefined);
    await stack?.stop().catch(() => undefined);
  }
  process.exit(code);
}
process.once('SIGINT', () => void stopAll(130));
process.once('SIGTERM', () => void stopAll(143));

try {
  step('Starting the servers (kube-apiserver + etcd, NATS JetStream, Cassandra, ClickHouse)');
  stack = await startStack(['kube', 'nats', 'cassandra', 'clickhouse'], (s) => say(`    ${s}`));
  const env = stack.env as Required<StackEnv>;

  step('Installing the CRDs, starting the operator and the local kubelet');
  journey = await startJourney(env);
  say(`    operator log: ${logsDir()}/operator-${journey.namespace}.log; pod logs: ${logsDir()}/pods/`);

  step('kubectl apply -f examples/quickstart  (Sinks pointed at the local Cassandra and ClickHouse)');
  say(journey.kubectl('apply', '-f', localQuickstart(env)).replace(/^/gm, '    '));

  step('Waiting for every EventSource, Sink and Pipeline to be Ready');
  let last = '';
  await waitAllReady(journey, 180_000, (notReady) => {
    const line = notReady.join('; ');
    if (line !== last) say(`    waiting: ${line}`);
    last = line;
  });
  say(journey.kubectl('get', 'eventsources,sinks,pipelines', '-o', 'wide').replace(/^/gm, '    '));

  step(`Sending ${events} orders through the HTTP ingest (bearer token of client "checkout")`);
  const orders = sampleOrders(events, `demo-${Date.now().toString(36)}`);
  const statuses = await sendEvents(journey, 'shop', 'change-me-checkout-token', orders);
  const accepted = statuses.filter((s) => s >= 200 && s < 300).length;
  say(`    ${accepted}/${orders.length} accepted (HTTP 2xx)`);

  step('Waiting for the processors to drain the stream');
  let results = await readResults(env);
  const deadline = Date.now() + 120_000;
  while (results.consumerPending !== 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 500));
    results = await readResults(env);
  }
  // The operator refreshes lag and dead-letter depth on its resync; show the table once it has.
  const dlq = results.deadLetters.length;
  const until = Date.now() + 30_000;
  while (
    Date.now() < until &&
    !new RegExp(`orders\\s+True\\s+\\d+\\s+0\\s+${dlq}\\s`).test(journey.kubectl('get', 'pipelines'))
  ) {
    await new Promise((r) => setTimeout(r, 1000));
  }
  say(journey.kubectl('get', 'pipelines').replace(/^/gm, '    '));

  step('What landed where');
  say(`    Cassandra shop.orders (output "store"):          ${results.cassandraRows} rows`);
  say(`    ClickHouse analytics.orders (output "analytics"): ${results.clickhouseRows} rows`);
  say(`    dead-lettered: ${results.deadLetters.length}`);
  const reasons = new Map<string, number>();
  for (const d of results.deadLetters) reasons.set(d.reason, (reasons.get(d.reason) ?? 0) + 1);
  for (const [reason, n] of reasons) say(`      ${n} x ${reason}`);

  if (process.stdin.isTTY) {
    say('\nThe stack keeps running: try `kubectl get eventrunner -n demo` with');
    say(`    KUBECONFIG=${env.kube.kubeconfig}`);
    say('Press Enter or Ctrl-C to stop everything.');
    await new Promise((r) => process.stdin.once('data', r));
  }
  await stopAll(0);
} catch (err) {
  process.stderr.write(
    `\ndemo failed: ${err instanceof Error ? err.message : String(err)}\nlogs: ${logsDir()}\n`,
  );
  await stopAll(1);
}
