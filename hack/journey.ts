// The user's journey on the local stack, shared by `npm run demo` and the e2e test: CRDs installed,
// the operator running as its own process, the local kubelet running what it creates, the
// quickstart applied with kubectl, events sent through the HTTP ingest, and the results read back
// from the API, the databases and the dead-letter stream.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import cassandra from 'cassandra-driver';
import { installCrds } from '../operator/install-crds.js';
import type { StackEnv } from '../test/stack/env.js';
import { logsDir, repoRoot, toolPath } from '../test/stack/paths.js';
import { adminConfig } from '../test/support/kube.js';
import { LocalKubelet } from './kubelet/kubelet.js';

export const journeyNamespace = 'demo';
const group = 'eventrunner.io';
const version = 'v1alpha1';

export interface Journey {
  kc: KubeConfig;
  namespace: string;
  kubelet: LocalKubelet;
  operator: ChildProcess;
  kubectl(...args: string[]): string;
  stop(): Promise<void>;
}

/**
 * Resolves once the operator logs that it started (its controllers run: what is created from now on
 * is reconciled). A new process can take tens of seconds to load on a loaded machine; waiting here
 * keeps that out of the waits for what it reconciles. Rejects if it exits first.
 */
export function operatorStarted(operator: ChildProcess, logFile: string, timeoutMs = 120_000): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const done = (err?: Error) => {
      clearTimeout(timer);
      operator.stdout?.off('data', onData);
      operator.off('exit', onExit);
      if (err) reject(err);
      else resolve();
    };
    const onData = (chunk: Buffer) => {
      // Only the tail is kept: the line may arrive split across chunks.
      seen = (seen + chunk.toString('utf8')).slice(-4096);
      if (seen.includes('"msg":"Operator started"')) done();
    };
    const onExit = (code: number | null, signal: string | null) =>
      done(new Error(`the operator exited (${signal ?? `code ${code}`}) before it started; see ${logFile}`));
    const timer = setTimeout(
      () => done(new Error(`the operator did not start within ${timeoutMs / 1000} s; see ${logFile}`)),
      timeoutMs,
    );
    operator.stdout?.on('data', onData);
    operator.once('exit', onExit);
  });
}

/** Installs the CRDs and starts the operator (a separate process) and the local kubelet. */
export async function startJourney(
  stack: Required<StackEnv>,
  namespace = journeyNamespace,
  /** More operator flags (e.g. NATS authentication). */
  operatorArgs: readonly string[] = [],
): Promise<Journey> {
  const kc = adminConfig(stack.kube.kubeconfig);
  await installCrds(kc);
  await kc
    .makeApiClient(CoreV1Api)
    .createNamespace({ body: { metadata: { name: namespace } } })
    .catch((err: unknown) => {
      if ((err as { code?: number }).code !== 409) throw err;
    });
  mkdirSync(logsDir(), { recursive: true });
  const opLog = createWriteStream(join(logsDir(), `operator-${namespace}.log`), { flags: 'a' });
  const operator = spawn(
    process.execPath,
    [
      join(repoRoot, 'bin', 'eventrunner.js'),
      'operator',
      '--image',
      'eventrunner:local',
      '--nats-url',
      stack.nats.url,
      '--watch-namespace',
      namespace,
      '--leader-elect',
      'false',
      '--ops-port',
      '0',
      '--resync',
      '10',
      ...operatorArgs,
    ],
    { env: { ...process.env, KUBECONFIG: stack.kube.kubeconfig }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  operator.stdout?.pipe(opLog);
  operator.stderr?.pipe(opLog);
  try {
    await operatorStarted(operator, join(logsDir(), `operator-${namespace}.log`));
  } catch (err) {
    operator.kill('SIGKILL');
    throw err;
  }
  const kubelet = new LocalKubelet({ kc, namespace });
  await kubelet.start();
  const kubectl = (...args: string[]) =>
    execFileSync(toolPath('kubectl'), ['--kubeconfig', stack.kube.kubeconfig, '-n', namespace, ...args], {
      encoding: 'utf8',
    });
  return {
    kc,
    namespace,
    kubelet,
    operator,
    kubectl,
    async stop() {
      const exited = new Promise((r) => operator.once('exit', r));
      operator.kill('SIGTERM');
      await exited;
      await kubelet.stop();
    },
  };
}

/**
 * The quickstart manifests with the Sinks pointed at the local Cassandra and ClickHouse (the files
 * name in-cluster hosts), written to a temp dir for `kubectl apply -f`.
 */
export function localQuickstart(stack: Required<StackEnv>): string {
  const dir = mkdtempSync(join(tmpdir(), 'eventrunner-quickstart-'));
  const src = join(repoRoot, 'examples', 'quickstart');
  for (const f of readdirSync(src).filter((f) => f.endsWith('.yaml'))) {
    const text = readFileSync(join(src, f), 'utf8')
      .replaceAll('cassandra:9042', stack.cassandra.contactPoint)
      .replaceAll('http://clickhouse:8123', stack.clickhouse.url)
      .replace(
        /username: cassandra\n(\s+)password: cassandra/,
        `username: ${stack.cassandra.username}\n$1password: ${stack.cassandra.password}`,
      );
    writeFileSync(join(dir, f), text);
  }
  return dir;
}

interface Conditioned {
  metadata: { name: string };
  status?: { conditions?: { type: string; status: string; message: string }[] };
}

/** Waits until every EventSource, Sink and Pipeline in the namespace reports Ready=True. */
export async function waitAllReady(
  j: Journey,
  timeoutMs = 120_000,
  onWait?: (notReady: string[]) => void,
): Promise<void> {
  const custom = j.kc.makeApiClient(CustomObjectsApi);
  const deadline = Date.now() + timeoutMs;
  let notReady: string[] = [];
  while (Date.now() < deadline) {
    notReady = [];
    for (const plural of ['eventsources', 'sinks', 'pipelines']) {
      const list = (await custom.listNamespacedCustomObject({
        group,
        version,
        namespace: j.namespace,
        plural,
      })) as { items: Conditioned[] };
      for (const o of list.items) {
        const ready = o.status?.conditions?.find((c) => c.type === 'Ready');
        if (ready?.status !== 'True')
          notReady.push(`${plural}/${o.metadata.name}: ${ready?.message ?? 'no status yet'}`);
      }
    }
    if (notReady.length === 0) return;
    onWait?.(notReady);
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`not Ready after ${timeoutMs / 1000}s:\n  ${notReady.join('\n  ')}`);
}

/** Sends structured CloudEvents one by one through the EventSource's HTTP ingest Service. */
export async function sendEvents(
  j: Journey,
  eventSource: string,
  token: string,
  events: object[],
): Promise<number[]> {
  const address = j.kubelet.serviceAddress(j.namespace, `${eventSource}-ingest`, 'http');
  if (!address) throw new Error(`the ingest Service of ${eventSource} is not served yet`);
  const statuses: number[] = [];
  for (const e of events)
    statuses.push(await postEvent(`http://${address}/events`, token, JSON.stringify(e)));
  return statuses;
}

/**
 * One POST of an event, as a client should send it: given up after 20 s without an answer or on a
 * broken connection, and sent again (three attempts in all). The ingest deduplicates by event id,
 * so an event sent twice is stored once.
 */
async function postEvent(url: string, token: string, body: string): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/cloudevents+json', authorization: `Bearer ${token}` },
        body,
        signal: AbortSignal.timeout(20_000),
      });
      await res.arrayBuffer();
      return res.status;
    } catch (err) {
      if (attempt === 3) throw new Error(`POST ${url}: no answer in 3 attempts: ${String(err)}`);
    }
  }
}

/** Sample orders: the quickstart's five plus generated ones covering every rule. */
export function sampleOrders(count: number, idPrefix = 'demo'): object[] {
  const base = readFileSync(join(repoRoot, 'examples', 'quickstart', 'events.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  // Without the file's fixed times: sent now, they count in the current minute's query windows.
  const out: object[] = base.map(({ time: _time, ...e }) => ({ ...e, id: `${idPrefix}-${e.id as string}` }));
  const countries = ['DE', 'FR', 'NL', 'IT', 'ES'];
  for (let i = 0; out.length < count; i++) {
    const kind = i % 10;
    out.push({
      specversion: '1.0',
      id: `${idPrefix}-g-${i}`,
      type: kind === 9 ? 'com.shop.order.refunded' : 'com.shop.order.created',
      source: kind === 8 ? '/loadtest/k6' : '/checkout',
      subject: String(2000 + i),
      datacontenttype: 'application/json',
      data: {
        amount: kind === 7 ? -1 : kind < 2 ? 1000 + i : 10 + (i % 500),
        currency: 'EUR',
        country: countries[i % countries.length],
      },
    });
  }
  return out;
}

/** A row the quickstart's orders-per-minute query wrote to ClickHouse. */
export interface MinuteRow {
  country: string;
  orders: number;
  revenue: number;
  window_start: string;
  window_end: string;
}

/** The orders-per-minute rows in ClickHouse, oldest minute first (none while the table is missing). */
export async function readMinuteRows(stack: Required<Pick<StackEnv, 'clickhouse'>>): Promise<MinuteRow[]> {
  const query =
    'SELECT data FROM analytics.orders_per_minute FINAL ORDER BY window_start, country FORMAT JSONEachRow';
  const res = await fetch(`${stack.clickhouse.url}/?query=${encodeURIComponent(query)}`);
  if (!res.ok) return [];
  return (await res.text())
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse((JSON.parse(l) as { data: string }).data) as MinuteRow);
}

/** Orders the quickstart's rules keep and its query counts: created, not load tests, not negative. */
export function countedOrders(orders: object[]): number {
  return (orders as { type: string; source: string; data: { amount: number } }[]).filter(
    (o) => o.type === 'com.shop.order.created' && !o.source.startsWith('/loadtest/') && o.data.amount >= 0,
  ).length;
}

export interface JourneyCounts {
  cassandraRows: number;
  clickhouseRows: number;
  deadLetters: { id: string; reason: string }[];
  consumerPending: number;
}

export async function readResults(
  stack: Required<StackEnv>,
  namespace = journeyNamespace,
): Promise<JourneyCounts> {
  const cql = new cassandra.Client({
    contactPoints: [stack.cassandra.contactPoint],
    localDataCenter: stack.cassandra.localDataCenter,
    credentials: { username: stack.cassandra.username, password: stack.cassandra.password },
  });
  let cassandraRows = 0;
  try {
    await cql.connect();
    cassandraRows = Number((await cql.execute('SELECT COUNT(*) FROM shop.orders')).first()?.get(0) ?? 0);
  } catch (err) {
    if (!/unconfigured table|does not exist|Keyspace/i.test(String(err))) throw err;
  } finally {
    await cql.shutdown();
  }
  const ch = await fetch(
    `${stack.clickhouse.url}/?query=${encodeURIComponent('SELECT count() FROM analytics.orders FINAL')}`,
  );
  const clickhouseRows = ch.ok ? Number((await ch.text()).trim()) : 0;

  const nc = await connect({ servers: stack.nats.url });
  const deadLetters: { id: string; reason: string }[] = [];
  let consumerPending = 0;
  try {
    const jsm = await jetstreamManager(nc);
    const dlq = `ER_DLQ_${namespace}_orders`;
    const info = await jsm.streams.info(dlq).catch(() => undefined);
    for (let seq = info?.state.first_seq ?? 1; info && seq <= info.state.last_seq; seq++) {
      const m = await jsm.streams.getMessage(dlq, { seq }).catch(() => undefined);
      if (!m) continue;
      const body = JSON.parse(new TextDecoder().decode(m.data)) as { id?: string };
      deadLetters.push({ id: body.id ?? '?', reason: m.header?.get('eventrunner-reason') ?? '' });
    }
    const c = await jsm.consumers
      .info(`ER_${namespace}_shop`, `ER_PL_${namespace}_orders`)
      .catch(() => undefined);
    // -1 when the consumer cannot be read: callers waiting for 0 must not mistake that for drained.
    consumerPending = c ? c.num_pending + c.num_ack_pending : -1;
  } finally {
    await nc.close();
  }
  return { cassandraRows, clickhouseRows, deadLetters, consumerPending };
}
