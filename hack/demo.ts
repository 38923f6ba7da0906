// `npm run demo`: eventrunner's main job on the local stack. It starts kube-apiserver + etcd, NATS
// JetStream, Cassandra and ClickHouse, installs the CRDs, runs the operator and a local kubelet,
// applies examples/quickstart with kubectl, sends sample orders through the HTTP ingest, and shows
// what a user would look at. Then it keeps running: the dashboard's URL printed and a steady
// trickle of orders, until Ctrl-C stops everything it started (DEMO_EXIT=1: stop after the table).
import { startStack } from '../test/stack/cli.js';
import type { StackEnv } from '../test/stack/env.js';
import { logsDir } from '../test/stack/paths.js';
import { createLogger } from '../runtime/common/logger.js';
import { startDashboard, type RunningDashboard } from '../runtime/dashboard/run.js';
import { kubeletTargets } from './kubelet/targets.js';
import {
  countedOrders,
  localQuickstart,
  readMinuteRows,
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
let dashboard: RunningDashboard | undefined;
let stopping = false;
async function stopAll(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    say('\nstopping everything the demo started ...');
    await dashboard?.stop().catch(() => undefined);
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

  step('Orders per minute and country (the windowed query, ClickHouse analytics.orders_per_minute)');
  // A minute's rows are written once it is over: its end plus the 10 s grace period, plus the
  // 10 s a partition waits for more input before its watermark follows the clock.
  say('    waiting for the last minute to close (up to 90 s) ...');
  const counted = countedOrders(orders);
  let rows = await readMinuteRows(env);
  const closeBy = Date.now() + 90_000;
  while (rows.reduce((n, r) => n + r.orders, 0) < counted && Date.now() < closeBy) {
    await new Promise((r) => setTimeout(r, 1000));
    rows = await readMinuteRows(env);
  }
  say(`    ${'minute'.padEnd(8)} ${'country'.padEnd(8)} ${'orders'.padStart(6)} ${'revenue'.padStart(10)}`);
  for (const r of rows)
    say(
      `    ${r.window_start.slice(11, 16).padEnd(8)} ${r.country.padEnd(8)} ${String(r.orders).padStart(6)} ${r.revenue.toFixed(2).padStart(10)}`,
    );
  say(`    ${rows.reduce((n, r) => n + r.orders, 0)}/${counted} counted orders in ${rows.length} rows`);
  say(journey.kubectl('get', 'pipelines', '-o', 'wide').replace(/^/gm, '    '));

  if (process.env.DEMO_EXIT === '1') await stopAll(0);

  step('Starting the dashboard (eventrunner dashboard, read-only)');
  const port = Number(process.env.DEMO_DASHBOARD_PORT ?? 8089);
  const dashboardOptions = {
    kc: journey.kc,
    namespace: journey.namespace,
    nats: { url: env.nats.url },
    // The local kubelet's pods are processes, not pods the API server could proxy to.
    targets: kubeletTargets(journey.kubelet, journey.namespace),
    host: '127.0.0.1',
    intervalMs: 1000,
    historyMs: 15 * 60_000,
    log: createLogger({ name: 'eventrunner-dashboard', level: 'warn' }),
    signal: new AbortController().signal,
  };
  dashboard = await startDashboard({ ...dashboardOptions, port }).catch((err: unknown) => {
    if ((err as { code?: string }).code !== 'EADDRINUSE') throw err;
    return startDashboard({ ...dashboardOptions, port: 0 });
  });
  say(`\n    \u001b[1mDashboard: ${dashboard.url}\u001b[0m`);
  say(`    kubectl: KUBECONFIG=${env.kube.kubeconfig} kubectl get eventrunner -n ${journey.namespace}`);
  say('    A few orders a second keep flowing through the pipeline. Ctrl-C stops everything.');
  let n = 0;
  const running = journey;
  for (;;) {
    // Three orders a second, taken in turn from the sample's mix (every rule gets its share).
    const at = (n++ * 3) % 27;
    const batch = sampleOrders(30, `trickle-${Date.now().toString(36)}`).slice(at, at + 3);
    await sendEvents(running, 'shop', 'change-me-checkout-token', batch).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 1000));
  }
} catch (err) {
  process.stderr.write(
    `\ndemo failed: ${err instanceof Error ? err.message : String(err)}\nlogs: ${logsDir()}\n`,
  );
  await stopAll(1);
}
