// Node failures of a 3-node Cassandra cluster under a running pipeline whose Sink writes at
// LOCAL_QUORUM to a keyspace at RF 3 (streams at 3 replicas on the JetStream cluster). With one
// node paused the writes go on; with two, no write can reach quorum: the processor naks, acks
// nothing, and once the nodes are back every event is written. Each run is 100,000 events with
// the per-id account at the end (see harness.ts).
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cassandraClusterEnv, natsClusterEnv } from '../../stack/context.js';
import { clusterControl } from '../../stack/cluster-control.js';
import {
  account,
  lastLogs,
  metric,
  retried,
  whole,
  produce,
  settled,
  startClusterPipeline,
  until,
  type Account,
  type ClusterPipeline,
} from './harness.js';

// Events per fault; EVENTRUNNER_CLUSTER_EVENTS lowers it on a machine too slow for the default.
const EVENTS = Number(process.env.EVENTRUNNER_CLUSTER_EVENTS ?? 100_000);
const ACKS = 'eventrunner_processor_acks_total';
const NAKS = 'eventrunner_processor_naks_total';

function expectClean(a: Account, events: number): void {
  expect({
    lost: a.lost.slice(0, 5),
    unacknowledged: a.unacknowledged.slice(0, 5),
    deadLetteredTwice: a.deadLetteredTwice.slice(0, 5),
    writtenAndDeadLettered: a.writtenAndDeadLettered.slice(0, 5),
    misrouted: a.misrouted.slice(0, 5),
    streamDuplicates: a.streamDuplicates,
  }).toEqual({
    lost: [],
    unacknowledged: [],
    deadLetteredTwice: [],
    writtenAndDeadLettered: [],
    misrouted: [],
    streamDuplicates: 0,
  });
  expect(a.written + a.deadLettered).toBe(events);
}

describe('a pipeline writing to a 3-node Cassandra cluster at LOCAL_QUORUM', () => {
  const control = () => clusterControl(cassandraClusterEnv().controlUrl);
  let p: ClusterPipeline;
  const timings: Record<string, Record<string, number>> = {};
  beforeAll(async () => {
    p = await startClusterPipeline(natsClusterEnv(), cassandraClusterEnv(), 'cf');
  });
  afterEach(async (ctx) => {
    if (ctx.task.result?.state === 'fail') process.stderr.write(`${lastLogs(p)}\n`);
    for (const n of await control().nodes()) {
      if (n.state === 'paused') await control().resume(n.name);
      if (n.state === 'down') await control().restart(n.name);
    }
    await whole(p);
  });
  afterAll(async () => {
    await p?.close();
    process.stderr.write(`[cluster] cassandra faults, seconds per test: ${JSON.stringify(timings)}\n`);
  });

  async function runWith(name: string, fault: () => Promise<void>): Promise<Account> {
    const t = Date.now();
    const run = randomUUID().slice(0, 8);
    const before = (await retried('stream info', () => p.jsm.streams.info(p.stream))).state.messages;
    const prod = produce(p.ingestUrl, run, EVENTS);
    // The fault comes once the processor is writing this run.
    const acked = await metric(p.processor, ACKS);
    await until(
      'a sixth of the run written',
      300_000,
      async () => (await metric(p.processor, ACKS)) >= acked + EVENTS / 6,
    );
    await fault();
    await prod.done;
    const produced = Date.now();
    await settled(p);
    const caughtUp = Date.now();
    const a = await account(p, prod.accepted, { run, streamBefore: before });
    const s = (from: number, to: number) => Math.round((to - from) / 100) / 10;
    timings[name] = {
      produce: s(t, produced),
      catchUp: s(produced, caughtUp),
      account: s(caughtUp, Date.now()),
    };
    return a;
  }

  it('keeps writing with one node paused, and loses and duplicates nothing', async () => {
    const a = await runWith('one node paused', async () => {
      const [node] = cassandraClusterEnv().nodes;
      await control().pause(node!.name);
      const acked = await metric(p.processor, ACKS);
      // Two replicas of three still make LOCAL_QUORUM: writes go on while it is away.
      await until(
        'writes acknowledged with one node paused',
        180_000,
        async () => (await metric(p.processor, ACKS)) >= acked + EVENTS / 5,
      );
      await control().resume(node!.name);
    });
    expectClean(a, EVENTS);
  });

  it('naks and acks nothing with two nodes paused, and writes everything once they are back', async () => {
    const a = await runWith('two nodes paused', async () => {
      const [, second, third] = cassandraClusterEnv().nodes;
      await control().pause(second!.name);
      await control().pause(third!.name);
      // Writes that reached quorum before the pause settle first; from then on every write fails.
      const naks = await metric(p.processor, NAKS);
      await until(
        'naks without quorum',
        120_000,
        async () => (await metric(p.processor, NAKS)) >= naks + 200,
      );
      const ackedThen = await metric(p.processor, ACKS);
      const naksThen = await metric(p.processor, NAKS);
      await until('more naks', 120_000, async () => (await metric(p.processor, NAKS)) >= naksThen + 1000);
      // Not one event was acknowledged while no write could reach quorum.
      expect(await metric(p.processor, ACKS)).toBe(ackedThen);
      await control().resume(second!.name);
      await control().resume(third!.name);
    });
    expectClean(a, EVENTS);
  });
});
