// Node failures of a 3-node JetStream cluster under a running pipeline: the EventSource's stream,
// the dead letters and the advisories at 3 replicas, ingest and a processor as processes, a
// Cassandra Sink at RF 3 / LOCAL_QUORUM. Each fault hits a run of 100,000 events posted over
// HTTP (retried until acknowledged), and each run ends with the per-id account: every event
// ingest acknowledged is written or dead-lettered, none twice, none both, none that was not
// acknowledged, and the stream holds each once. The faults run one after another on one cluster.
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cassandraClusterEnv, natsClusterEnv } from '../../stack/context.js';
import { clusterControl, consumerLeader, streamLeader } from '../../stack/cluster-control.js';
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

describe('a pipeline on a 3-node JetStream cluster', () => {
  const control = () => clusterControl(natsClusterEnv().controlUrl);
  let p: ClusterPipeline;
  const timings: Record<string, Record<string, number>> = {};
  beforeAll(async () => {
    p = await startClusterPipeline(natsClusterEnv(), cassandraClusterEnv(), 'nf');
  });
  afterEach(async (ctx) => {
    if (ctx.task.result?.state === 'fail') process.stderr.write(`${lastLogs(p)}\n`);
    // Whatever a test did, the next one starts on a whole cluster.
    for (const n of await control().nodes()) {
      if (n.state === 'paused') await control().resume(n.name);
      if (n.state === 'down') await control().restart(n.name);
    }
    await whole(p);
  });
  afterAll(async () => {
    await p?.close();
    process.stderr.write(`[cluster] nats faults, seconds per test: ${JSON.stringify(timings)}\n`);
  });

  /** A run of EVENTS events with `fault` applied once a third of them are in; returns the account. */
  async function runWith(
    name: string,
    fault: (prod: ReturnType<typeof produce>) => Promise<void>,
  ): Promise<Account> {
    const t = Date.now();
    const run = randomUUID().slice(0, 8);
    const before = (await retried('stream info', () => p.jsm.streams.info(p.stream))).state.messages;
    const prod = produce(p.ingestUrl, run, EVENTS);
    await until('a third of the events in', 300_000, () => prod.progress() >= EVENTS / 3);
    await fault(prod);
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

  it('loses and duplicates nothing when the stream leader is killed (-9) mid-run and restarted', async () => {
    const a = await runWith('stream leader', async ({ progress }) => {
      const leader = (await streamLeader(p.jsm, p.stream))!;
      expect(leader).toBeDefined();
      await control().kill(leader);
      await until('another stream leader', 60_000, async () => {
        const now = await streamLeader(p.jsm, p.stream).catch(() => undefined);
        return now !== undefined && now !== leader;
      });
      // Ingest and the processor go on without it for a while, then it comes back on its store.
      const at = progress();
      await until(
        'events accepted without the old leader',
        120_000,
        () => progress() >= Math.min(EVENTS, at + EVENTS / 6),
      );
      await control().restart(leader);
    });
    expectClean(a, EVENTS);
  });

  it('loses and duplicates nothing when the consumer leader is killed (-9) mid-run and restarted', async () => {
    const a = await runWith('consumer leader', async ({ progress }) => {
      const leader = (await consumerLeader(p.jsm, p.stream, p.consumer))!;
      expect(leader).toBeDefined();
      const acked = await metric(p.processor, 'eventrunner_processor_acks_total');
      await control().kill(leader);
      await until('another consumer leader', 60_000, async () => {
        const now = await consumerLeader(p.jsm, p.stream, p.consumer).catch(() => undefined);
        return now !== undefined && now !== leader;
      });
      // The processor keeps acknowledging through the new leader.
      await until('acks through the new consumer leader', 120_000, async () => {
        return (await metric(p.processor, 'eventrunner_processor_acks_total')) >= acked + EVENTS / 10;
      });
      const at = progress();
      await until('more events accepted', 120_000, () => progress() >= Math.min(EVENTS, at + EVENTS / 10));
      await control().restart(leader);
    });
    expectClean(a, EVENTS);
  });

  it('loses and duplicates nothing while the stream leader is cut off (paused) and producers keep sending', async () => {
    const a = await runWith('leader partitioned', async ({ progress }) => {
      const leader = (await streamLeader(p.jsm, p.stream))!;
      await control().pause(leader);
      // The two others elect a leader among themselves and take the writes.
      await until('a leader among the two others', 60_000, async () => {
        const now = await streamLeader(p.jsm, p.stream).catch(() => undefined);
        return now !== undefined && now !== leader;
      });
      const at = progress();
      await until(
        'events accepted while it is away',
        120_000,
        () => progress() >= Math.min(EVENTS, at + EVENTS / 6),
      );
      // Back, it must step down and catch up, not keep a diverging copy.
      await control().resume(leader);
    });
    expectClean(a, EVENTS);
    // Every replica ends with the same messages.
    const info = await p.jsm.streams.info(p.stream);
    expect(info.cluster?.replicas?.every((r) => r.current)).toBe(true);
  });

  it('answers 503, never a false 2xx, while the stream has no quorum, and loses nothing once it has', async () => {
    const a = await runWith('no quorum', async ({ answers }) => {
      const leader = (await streamLeader(p.jsm, p.stream))!;
      const others = natsClusterEnv()
        .nodes.map((n) => n.name)
        .filter((n) => n !== leader);
      // Two of three away, whichever they are: no majority for the stream or the meta group.
      await control().pause(others[0]!);
      await control().pause(others[1]!);
      const pausedAt = Date.now();
      await until('503s without quorum', 120_000, () =>
        answers.some((x) => x.sentAt > pausedAt && x.status === 503),
      );
      await until(
        'several batches refused',
        120_000,
        () => answers.filter((x) => x.sentAt > pausedAt && x.refused > 0).length >= 8,
      );
      const resumedAt = Date.now();
      await control().resume(others[0]!);
      await control().resume(others[1]!);
      // No event sent after quorum was lost was acknowledged before it was back.
      const during = answers.filter((x) => x.sentAt > pausedAt && x.answeredAt < resumedAt);
      expect(during.length).toBeGreaterThan(0);
      expect(during.flatMap((x) => x.accepted)).toEqual([]);
    });
    expectClean(a, EVENTS);
  });
});
