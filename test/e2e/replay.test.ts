// Replay and redrive through the operator (its own process) and the local kubelet on the real
// stack: a replay from a time up to another rewrites exactly the events stored between them, in
// one Pipeline's Cassandra table only, at its ratePerSecond (within a margin); with a ClickHouse
// of the test's own stopped past maxDeliver, events dead-letter, and once it is started again a
// redrive by reason writes each of them once, a second redrive of the same filter sends nothing,
// and an event that fails again is dead-lettered again with its new reason; query results an
// output refused are redriven to that output.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import cassandra from 'cassandra-driver';
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { headers as natsHeaders, type NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { startJourney, waitAllReady, type Journey } from '../../hack/journey.js';
import type { Replay } from '../../api/generated/types.js';
import { deadLetterStreamName, subjectPrefix } from '../../operator/names.js';
import { replayBucketName, workStreamName } from '../../runtime/replay/plan.js';
import { STRUCTURED_CONTENT_TYPE } from '../../runtime/events/wire.js';
import { chColumns, parseVersion } from '../../runtime/sinks/clickhouse-sql.js';
import type { ColumnSpec } from '../../runtime/sinks/types.js';
import { startClickHouse, type ClickHouseServer } from '../stack/clickhouse.js';
import { cassandraEnv, clickhouseEnv, kubeEnv, natsEnv } from '../stack/context.js';
import type { StackEnv } from '../stack/env.js';
import { repoRoot } from '../stack/paths.js';
import { startReceiver, type Receiver } from '../support/webhook-receiver.js';

const group = 'eventrunner.io';
const version = 'v1alpha1';

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

describe('Replay and redrive through the operator and the local kubelet', () => {
  const suffix = randomUUID().slice(0, 6);
  const namespace = `replay-${suffix}`;
  const keyspace = `rp_${suffix}`;
  const chDatabase = `rp_${suffix}`;
  // The typed column of the ClickHouse Sink: a value too big for its Decimal passes the Sink's own
  // checks and is refused by the server, so that event fails again once ClickHouse is back.
  const chColumnSpecs: ColumnSpec[] = [{ name: 'amount', type: 'decimal', from: '/data/amount' }];
  let stack: Required<StackEnv>;
  let journey: Journey;
  let receiver: Receiver;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let db: cassandra.Client;
  let custom: CustomObjectsApi;
  let clickhouse: ClickHouseServer;
  let ch: ClickHouseClient;

  const publish = async (
    eventSource: string,
    ids: string[],
    data: (id: string) => object = (id) => ({ n: id }),
  ) => {
    const js = jetstream(nc);
    for (const id of ids) {
      const h = natsHeaders();
      h.set('Content-Type', STRUCTURED_CONTENT_TYPE);
      const body = { specversion: '1.0', id, type: 'com.test.thing', source: '/test', data: data(id) };
      await js.publish(`${subjectPrefix(namespace, eventSource)}.com.test.thing`, JSON.stringify(body), {
        headers: h,
        msgID: id,
      });
    }
  };
  const writeTimes = async (table: string) => {
    const rs = await db.execute(`SELECT id, WRITETIME(type) AS w FROM ${keyspace}.${table}`);
    return new Map(rs.rows.map((r) => [r.get('id') as string, Number(r.get('w'))]));
  };
  const createReplay = (name: string, spec: Replay['spec']) =>
    custom.createNamespacedCustomObject({
      group,
      version,
      namespace,
      plural: 'replays',
      body: { apiVersion: `${group}/${version}`, kind: 'Replay', metadata: { name }, spec },
    });
  const finished = (name: string) =>
    until(`Replay ${name} to finish`, 300_000, async () => {
      const rp = (await custom.getNamespacedCustomObject({
        group,
        version,
        namespace,
        plural: 'replays',
        name,
      })) as Replay;
      const phase = rp.status?.phase;
      return phase === 'Succeeded' || phase === 'Failed' ? rp : undefined;
    });
  /**
   * The CLI as a user runs it: exit status, stdout, stderr. Asynchronously: the local kubelet that
   * runs the Replay's pod lives in this process, so blocking it while the CLI follows the Replay
   * would wait for a pod that cannot start.
   */
  const cli = (...args: string[]) =>
    new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, [join(repoRoot, 'bin', 'eventrunner.js'), ...args], {
        env: { ...process.env, KUBECONFIG: stack.kube.kubeconfig, NATS_URL: stack.nats.url },
        timeout: 300_000,
      });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      child.on('error', reject);
      child.on('close', (status) => resolve({ status, stdout, stderr }));
    });
  const deadLetters = async (pipeline: string) => {
    const stream = deadLetterStreamName(namespace, pipeline);
    const last = (await jsm.streams.info(stream)).state.last_seq;
    const out: { id: string; reason: string }[] = [];
    for (let seq = 1; seq <= last; seq++) {
      const m = await jsm.streams.getMessage(stream, { seq });
      if (m) out.push({ id: m.json<{ id: string }>().id, reason: m.header.get('eventrunner-reason') });
    }
    return out;
  };

  /** Rows of the ClickHouse table per event id: each write is a row of its own there. */
  const writesById = async () => {
    const rs = await ch.query({
      query: `SELECT id, count() AS c FROM ${chDatabase}.calls GROUP BY id`,
      format: 'JSONEachRow',
    });
    return new Map((await rs.json<{ id: string; c: string }>()).map((r) => [r.id, Number(r.c)]));
  };

  beforeAll(async () => {
    stack = { kube: kubeEnv(), nats: natsEnv(), cassandra: cassandraEnv(), clickhouse: clickhouseEnv() };
    receiver = await startReceiver({ respond: () => ({ status: 200 }) });
    nc = await connect({ servers: stack.nats.url });
    jsm = await jetstreamManager(nc);
    db = new cassandra.Client({
      contactPoints: [stack.cassandra.contactPoint],
      localDataCenter: stack.cassandra.localDataCenter,
      credentials: { username: stack.cassandra.username, password: stack.cassandra.password },
    });
    // A ClickHouse of this test's own, which it stops and starts again.
    [journey, clickhouse] = await Promise.all([
      startJourney(stack, namespace),
      startClickHouse('clickhouse-replay'),
    ]);
    ch = createClient({ url: clickhouse.url });
    await ch.command({ query: `CREATE DATABASE ${chDatabase}` });
    // The Sink's columns in a plain MergeTree rather than the ReplacingMergeTree it would create:
    // no merge folds two writes of one event into one row, so rows per id count writes.
    const columns = [...chColumns(chColumnSpecs, parseVersion(clickhouse.version))]
      .map(([n, t]) => `\`${n}\` ${t}`)
      .join(', ');
    await ch.command({
      query: `CREATE TABLE ${chDatabase}.calls (${columns}) ENGINE = MergeTree() ORDER BY id`,
    });
    custom = journey.kc.makeApiClient(CustomObjectsApi);
    const dir = mkdtempSync(join(tmpdir(), 'eventrunner-replay-'));
    const eventSource = (name: string) => `apiVersion: ${group}/${version}
kind: EventSource
metadata: {name: ${name}}
spec:
  ingest: {http: {port: 8080}, grpc: {enabled: false}, replicas: 1, auth: {enabled: false}}
  stream: {maxBytes: 16Mi, maxAge: 1h, storage: file, replicas: 1}
`;
    const table = (name: string) => `apiVersion: ${group}/${version}
kind: Sink
metadata: {name: ${name}}
spec:
  scylla:
    contactPoints: ["${stack.cassandra.contactPoint}"]
    localDataCenter: ${stack.cassandra.localDataCenter}
    keyspace: ${keyspace}
    table: ${name.replaceAll('-', '_')}
    credentialsSecretRef: {name: cassandra}
    manageSchema: true
    replicationFactor: 1
`;
    const pipeline = (
      name: string,
      source: string,
      sink: string,
      delivery = '',
    ) => `apiVersion: ${group}/${version}
kind: Pipeline
metadata: {name: ${name}}
spec:
  sources: [{eventSource: ${source}}]
  outputs: [{name: out, sink: ${sink}}]
  deadLetter: {maxBytes: 16Mi}
  replicas: 1${delivery}
`;
    const docs = [
      `apiVersion: v1
kind: Secret
metadata: {name: cassandra}
stringData: {username: ${stack.cassandra.username}, password: ${stack.cassandra.password}}
`,
      eventSource('things'),
      eventSource('calls'),
      table('table-a'),
      table('table-b'),
      `apiVersion: ${group}/${version}
kind: Sink
metadata: {name: warehouse}
spec:
  clickhouse: {url: "${clickhouse.url}", database: ${chDatabase}, table: calls, batch: {maxDelay: 50ms}}
  columns: ${JSON.stringify(chColumnSpecs)}
`,
      pipeline('pa', 'things', 'table-a'),
      pipeline('pb', 'things', 'table-b'),
      pipeline('pc', 'calls', 'warehouse', '\n  delivery: {maxDeliver: 2, ackWait: 5s, backoff: [100ms]}'),
    ];
    writeFileSync(join(dir, 'all.yaml'), docs.join('---\n'));
    journey.kubectl('apply', '-f', dir);
    await waitAllReady(journey, 150_000);
  }, 240_000);

  afterAll(async () => {
    // Streams reserve their maxBytes on the shared NATS: the operator removes them with their owners.
    journey?.kubectl('delete', 'replays,pipelines,eventsources', '--all', '--wait=true', '--timeout=60s');
    await journey?.stop();
    for (const pl of ['pa', 'pb', 'pc', 'pq'])
      await jsm?.streams.delete(`KV_${replayBucketName(namespace, pl)}`).catch(() => undefined);
    await receiver?.close();
    await ch?.close();
    await clickhouse?.stop();
    await db?.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`).catch(() => undefined);
    await db?.shutdown();
    await nc?.close();
  });

  it(
    'replays one Pipeline from a time up to another at its rate: rows between rewritten once, the rest untouched, the other Pipeline sees nothing',
    { timeout: 600_000 },
    async () => {
      const early = Array.from({ length: 30 }, (_, i) => `early-${i}`);
      const late = Array.from({ length: 30 }, (_, i) => `late-${i}`);
      const after = Array.from({ length: 10 }, (_, i) => `after-${i}`);
      const inBoth = (n: number) => async () =>
        (await writeTimes('table_a')).size === n && (await writeTimes('table_b')).size === n
          ? true
          : undefined;
      await publish('things', early);
      await until('the early events in both tables', 60_000, inBoth(30));
      // Stream times are taken when stored: every early event is before `from`, every late one
      // between `from` and `to`, every one after that at or after `to`.
      const from = new Date(Date.now() + 5).toISOString();
      await new Promise((r) => setTimeout(r, 10));
      await publish('things', late);
      const to = new Date(Date.now() + 5).toISOString();
      await new Promise((r) => setTimeout(r, 10));
      await publish('things', after);
      await until('every event in both tables', 60_000, inBoth(70));
      const beforeA = await writeTimes('table_a');
      const beforeB = await writeTimes('table_b');

      const rate = 5;
      const run = await cli(
        'replay',
        '-n',
        namespace,
        '-p',
        'pa',
        '--name',
        'from-time',
        '--from-time',
        from,
        '--to-time',
        to,
        '--rate',
        String(rate),
      );
      expect(run.stderr).toMatch(/\[#{30}\] 30\/30 {2}Succeeded/);
      expect(run.stdout).toMatch(/from-time: Succeeded/);
      expect(run.status).toBe(0);
      const rp = await finished('from-time');
      expect(rp.status).toMatchObject({ phase: 'Succeeded', total: 30, done: 30, failed: 0 });
      expect(rp.status?.conditions?.[0]).toMatchObject({ type: 'Succeeded', status: 'True' });

      const afterA = await writeTimes('table_a');
      const afterB = await writeTimes('table_b');
      expect(afterA.size).toBe(70);
      for (const id of [...early, ...after]) expect(afterA.get(id), id).toBe(beforeA.get(id));
      for (const id of late) expect(afterA.get(id)!, id).toBeGreaterThan(beforeA.get(id)!);
      expect(afterB).toEqual(beforeB);
      // ratePerSecond holds where it matters, at the sink: the rewrites (write times in µs) are
      // spread over at least the time the rate allows, with room (about 2 s at 5/s) for a slow
      // first write.
      const rewritten = late.map((id) => afterA.get(id)!);
      const spreadSeconds = (Math.max(...rewritten) - Math.min(...rewritten)) / 1e6;
      const perSecond = (late.length - 1) / spreadSeconds;
      console.log(`replay at ratePerSecond ${rate}: ${perSecond.toFixed(1)} events/s into the table`);
      expect(perSecond).toBeLessThanOrEqual(rate * 1.5);

      // Cleaned up: no replay Deployment, no work stream; Events tell the story.
      await until('the replay Deployment to go', 30_000, async () =>
        journey.kubectl('get', 'deployments', '-o', 'name').includes('from-time-replay') ? undefined : true,
      );
      await expect(
        jsm.streams.info(workStreamName({ namespace, name: 'from-time', uid: rp.metadata.uid! })),
      ).rejects.toThrow();
      expect(journey.kubectl('get', 'replays')).toMatch(/from-time\s+pa\s+Succeeded\s+30\s+30\s+0/);
      const events = journey.kubectl('get', 'events', '--field-selector', 'involvedObject.name=from-time');
      expect(events).toMatch(/ReplayStarted/);
      expect(events).toMatch(/ReplaySucceeded/);
    },
  );

  it(
    'with ClickHouse stopped past maxDeliver, redrives the dead letters by reason once started again: each written once, a second redrive sends nothing, one that fails again is dead-lettered with its new reason',
    { timeout: 600_000 },
    async () => {
      const ids = Array.from({ length: 10 }, (_, i) => `call-${i}`);
      // ClickHouse stopped, as an outage: every write fails until maxDeliver (2) is spent.
      await clickhouse.pause();
      await publish('calls', ids, (id) => ({ amount: id === 'call-0' ? '1e40' : '2.5' }));
      const first = await until('10 dead letters', 60_000, async () => {
        const dl = await deadLetters('pc');
        return dl.length === 10 ? dl : undefined;
      });
      expect(new Set(first.map((d) => d.id))).toEqual(new Set(ids));
      for (const d of first)
        expect(d.reason).toMatch(/^delivered 2 times \(maxDeliver\); last error: output out: clickhouse/);
      const listed = await cli(
        'dlq',
        'list',
        '-n',
        namespace,
        '-p',
        'pc',
        '-o',
        'json',
        '--reason',
        'MAXDELIVER',
      );
      expect(listed.status).toBe(0);
      const rows = JSON.parse(listed.stdout) as {
        sequence: number;
        eventId: string;
        output: string;
        deliveries: number;
      }[];
      expect(rows.map((r) => r.eventId).sort()).toEqual([...ids].sort());
      for (const r of rows) expect(r).toMatchObject({ deliveries: 2 });
      expect(
        JSON.parse(
          (await cli('dlq', 'list', '-n', namespace, '-p', 'pc', '-o', 'json', '--reason', 'nope')).stdout,
        ),
      ).toEqual([]);
      const shown = await cli('dlq', 'show', String(rows[0]!.sequence), '-n', namespace, '-p', 'pc');
      expect(shown.stdout).toMatch(/Reason: +delivered 2 times .*clickhouse/);
      expect(shown.stdout).toMatch(/Redriven: +no/);

      // Started again, on the same port and data, where nothing was written meanwhile; call-0's
      // amount is still more than its column holds.
      await clickhouse.resume();
      expect(await writesById()).toEqual(new Map());
      const failing = await cli(
        'redrive',
        '-n',
        namespace,
        '-p',
        'pc',
        '--name',
        'redrive-1',
        '--reason',
        'maxdeliver',
      );
      expect(failing.status).toBe(1);
      expect(failing.stdout).toMatch(/redrive-1: Failed \(EventsDeadLetteredAgain: 1 of 10/);
      const r1 = await finished('redrive-1');
      expect(r1.status).toMatchObject({ phase: 'Failed', total: 10, done: 9, failed: 1 });
      const written = new Map(ids.slice(1).map((id) => [id, 1]));
      expect(await writesById()).toEqual(written);
      const again = (await deadLetters('pc')).slice(10);
      expect(again).toHaveLength(1);
      expect(again[0]!.id).toBe('call-0');
      expect(again[0]!.reason).toMatch(
        /^output out rejected the event: clickhouse rejected the data: .*Decimal/i,
      );
      expect((await cli('dlq', 'list', '-n', namespace, '-p', 'pc')).stdout).toMatch(
        / redrive-1 +.*maxDeliver/,
      );

      // Marked: the same filter again finds nothing to send, and nothing more is written.
      await createReplay('redrive-2', { pipeline: 'pc', deadLetters: { reason: 'maxdeliver' } });
      const r2 = await finished('redrive-2');
      expect(r2.status).toMatchObject({ phase: 'Succeeded', total: 0, done: 0, failed: 0 });
      expect(await writesById()).toEqual(written);
      expect(await deadLetters('pc')).toHaveLength(11);

      // Deleting a Replay lets it go once what it made is gone (the finalizer).
      journey.kubectl('delete', 'replay', 'redrive-1', '--wait=true', '--timeout=30s');
      expect(journey.kubectl('get', 'replays', '-o', 'name')).not.toMatch(/redrive-1/);
    },
  );

  it(
    'redrives query results an output refused to that output, under their own ids, once',
    { timeout: 300_000 },
    async () => {
      // The results endpoint refuses every result for good (404) until it is fixed.
      let refusing = true;
      receiver.setRespond((_ids, _attempt, req) =>
        req.url?.startsWith('/results') && refusing ? { status: 404 } : { status: 200 },
      );
      const dir = mkdtempSync(join(tmpdir(), 'eventrunner-replay-q-'));
      writeFileSync(
        join(dir, 'query.yaml'),
        `apiVersion: ${group}/${version}
kind: EventSource
metadata: {name: readings}
spec:
  ingest: {http: {port: 8080}, grpc: {enabled: false}, replicas: 0, auth: {enabled: false}}
  stream: {maxBytes: 16Mi, maxAge: 1h, storage: file, replicas: 1}
---
apiVersion: ${group}/${version}
kind: Sink
metadata: {name: results-hook}
spec:
  http: {url: "${receiver.url}/results", mode: binary, timeout: 2s}
---
apiVersion: ${group}/${version}
kind: Sink
metadata: {name: events-hook}
spec:
  http: {url: "${receiver.url}/events", mode: binary, timeout: 2s}
---
apiVersion: ${group}/${version}
kind: Pipeline
metadata: {name: pq}
spec:
  sources: [{eventSource: readings}]
  rules: ""
  # The events themselves go to another endpoint, which takes them; the query's results to res.
  outputs: [{name: events, sink: events-hook}, {name: res, sink: results-hook}]
  defaultOutputs: [events]
  deadLetter: {maxBytes: 16Mi}
  queries:
    - name: echo
      partitions: 1
      outputs: [res]
      sql: SELECT id AS reading FROM readings
`,
      );
      journey.kubectl('apply', '-f', dir);
      await until('Pipeline pq Ready', 150_000, async () => {
        const pl = (await custom.getNamespacedCustomObject({
          group,
          version,
          namespace,
          plural: 'pipelines',
          name: 'pq',
        })) as { status?: { conditions?: { type: string; status: string }[] } };
        return pl.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')
          ? true
          : undefined;
      });
      await publish(
        'readings',
        Array.from({ length: 5 }, (_, i) => `reading-${i}`),
      );
      const refused = await until('5 results dead-lettered', 120_000, async () => {
        const dl = await deadLetters('pq');
        return dl.length === 5 ? dl : undefined;
      });
      for (const d of refused) expect(d.reason).toMatch(/output res rejected the result: .*404/);
      const resultIds = refused.map((d) => d.id).sort();

      refusing = false;
      const toResults = () => receiver.deliveries.filter((d) => d.path.startsWith('/results')).length;
      const requests = toResults();
      await createReplay('redrive-results', { pipeline: 'pq', deadLetters: { query: 'echo' } });
      const r = await finished('redrive-results');
      expect(r.status).toMatchObject({ phase: 'Succeeded', total: 5, done: 5, failed: 0 });
      const accepted = receiver.accepted();
      for (const id of resultIds) expect(accepted.get(id), id).toBe(1);
      expect(toResults() - requests).toBe(5);
      // Marked: the same filter again sends nothing.
      await createReplay('redrive-results-2', { pipeline: 'pq', deadLetters: { query: 'echo' } });
      const r2 = await finished('redrive-results-2');
      expect(r2.status).toMatchObject({ phase: 'Succeeded', total: 0, done: 0, failed: 0 });
      expect(toResults() - requests).toBe(5);
      expect((await cli('dlq', 'list', '-n', namespace, '-p', 'pq', '--query', 'echo')).stdout).toMatch(
        // The REDRIVEN column is cut to its width.
        / redrive-res/,
      );
    },
  );
});
