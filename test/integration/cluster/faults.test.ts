// Node failures under a running pipeline on a 3-node JetStream cluster and a 3-node Cassandra
// cluster: the EventSource's stream, the dead letters and the advisories at 3 replicas, ingest and
// a processor as processes, a Cassandra Sink at RF 3 / LOCAL_QUORUM. Each fault hits a run of
// 100,000 events (EVENTRUNNER_CLUSTER_EVENTS) posted over HTTP and retried until acknowledged, and
// each run ends with the per-id account: every event ingest acknowledged is written or
// dead-lettered, none twice, none both, none that was not acknowledged, and the stream holds each
// once. The faults take nodes away one after another (the tests of a file run in order), on one
// pipeline; after each, every node is back and every replica current before the next.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cassandraClusterEnv, natsClusterEnv } from '../../stack/context.js';
import { clusterControl, consumerLeader, streamLeader } from '../../stack/cluster-control.js';
import { lastLogs, metric, startClusterPipeline, until, type ClusterPipeline } from './harness.js';
import { expectClean, faultRun, restoreNodes, type FaultTimings, type Producer } from './fault-run.js';

// Events per fault; EVENTRUNNER_CLUSTER_EVENTS lowers it on a machine too slow for the default.
const EVENTS = Number(process.env.EVENTRUNNER_CLUSTER_EVENTS ?? 100_000);
const ACKS = 'eventrunner_processor_acks_total';
const NAKS = 'eventrunner_processor_naks_total';

describe('a pipeline on a 3-node JetStream cluster writing to a 3-node Cassandra cluster', () => {
  const nats = () => clusterControl(natsClusterEnv().controlUrl);
  const cass = () => clusterControl(cassandraClusterEnv().controlUrl);
  let p: ClusterPipeline;
  const timings: Record<string, FaultTimings> = {};
  beforeAll(async () => {
    // A delivery whose ack was lost with a node comes again after ackWait: 10 s rather than the
    // default 30 s, so that a run catches up sooner (in-progress acks cover slower writes).
    p = await startClusterPipeline(natsClusterEnv(), cassandraClusterEnv(), 'cl', {
      delivery: { maxDeliver: 100, backoff: ['500ms', '1s', '2s'], ackWait: '10s' },
    });
  });
  afterEach(async (ctx) => {
    if (ctx.task.result?.state === 'fail') process.stderr.write(`${lastLogs(p)}\n`);
    // Whatever a test did, the next one starts on whole clusters.
    await restoreNodes(p, [natsClusterEnv().controlUrl, cassandraClusterEnv().controlUrl]);
  });
  afterAll(async () => {
    await p?.close();
    process.stderr.write(
      `[cluster] ${EVENTS} events per fault, seconds from each run's start: ${JSON.stringify(timings)}\n`,
    );
  });

  async function run(name: string, fault: (prod: Producer, mark: (point: string) => void) => Promise<void>) {
    const r = await faultRun(p, EVENTS, fault);
    timings[name] = r.timings;
    expectClean(r.account, EVENTS);
  }

  /** Until a share of the run's events are acknowledged by ingest. */
  const accepted = (prod: Producer, share: number) =>
    until(`${share} of the events in`, 300_000, () => prod.progress() >= EVENTS * share);

  /** Until `more` events beyond those acknowledged now are acknowledged by ingest (or all are). */
  async function moreAccepted(prod: Producer, more: number, what: string) {
    const at = prod.progress();
    await until(what, 120_000, () => prod.progress() >= Math.min(EVENTS, at + more));
  }

  /** Until the node leading `leader()` is another than `old`. */
  const newLeader = (what: string, old: string, leader: () => Promise<string | undefined>) =>
    until(what, 60_000, async () => {
      const now = await leader().catch(() => undefined);
      return now !== undefined && now !== old;
    });

  describe('JetStream nodes', () => {
    it('loses and duplicates nothing when the stream leader is killed (-9) mid-run and restarted', async () => {
      await run('stream leader killed', async (prod, mark) => {
        await accepted(prod, 1 / 3);
        const leader = (await streamLeader(p.jsm, p.stream))!;
        expect(leader).toBeDefined();
        await nats().kill(leader);
        mark('killed');
        await newLeader('another stream leader', leader, () => streamLeader(p.jsm, p.stream));
        mark('new leader');
        // Ingest and the processor go on without it for a while, then it comes back on its store.
        await moreAccepted(prod, EVENTS / 6, 'events accepted without the old leader');
        mark('accepted without it');
        await nats().restart(leader);
        mark('restarted');
      });
    });

    it('loses and duplicates nothing when the consumer leader is killed (-9) mid-run and restarted', async () => {
      await run('consumer leader killed', async (prod, mark) => {
        await accepted(prod, 1 / 3);
        const leader = (await consumerLeader(p.jsm, p.stream, p.consumer))!;
        expect(leader).toBeDefined();
        const acked = await metric(p.processor, ACKS);
        await nats().kill(leader);
        mark('killed');
        await newLeader('another consumer leader', leader, () => consumerLeader(p.jsm, p.stream, p.consumer));
        mark('new leader');
        // The processor keeps acknowledging through the new leader.
        await until(
          'acks through the new consumer leader',
          120_000,
          async () => (await metric(p.processor, ACKS)) >= acked + EVENTS / 10,
        );
        mark('acks through it');
        await moreAccepted(prod, EVENTS / 10, 'more events accepted');
        await nats().restart(leader);
        mark('restarted');
      });
    });

    it('loses and duplicates nothing while the stream leader is cut off (paused) and producers keep sending', async () => {
      await run('stream leader partitioned', async (prod, mark) => {
        await accepted(prod, 1 / 3);
        const leader = (await streamLeader(p.jsm, p.stream))!;
        await nats().pause(leader);
        mark('paused');
        // The two others elect a leader among themselves and take the writes.
        await newLeader('a leader among the two others', leader, () => streamLeader(p.jsm, p.stream));
        mark('new leader');
        await moreAccepted(prod, EVENTS / 6, 'events accepted while it is away');
        mark('accepted without it');
        // Back, it must step down and catch up, not keep a diverging copy.
        await nats().resume(leader);
      });
      // Every replica ends with the same messages.
      const info = await p.jsm.streams.info(p.stream);
      expect(info.cluster?.replicas?.every((r) => r.current)).toBe(true);
    });

    it('answers 503, never a false 2xx, while the stream has no quorum, and loses nothing once it has', async () => {
      await run('no quorum', async (prod, mark) => {
        const { answers } = prod;
        await accepted(prod, 1 / 3);
        const leader = (await streamLeader(p.jsm, p.stream))!;
        const others = natsClusterEnv()
          .nodes.map((n) => n.name)
          .filter((n) => n !== leader);
        // Two of three away, whichever they are: no majority for the stream or the meta group.
        await nats().pause(others[0]!);
        await nats().pause(others[1]!);
        const pausedAt = Date.now();
        mark('paused');
        await until('503s without quorum', 120_000, () =>
          answers.some((x) => x.sentAt > pausedAt && x.status === 503),
        );
        mark('503');
        await until(
          'several batches refused',
          120_000,
          () => answers.filter((x) => x.sentAt > pausedAt && x.refused > 0).length >= 8,
        );
        const resumedAt = Date.now();
        await nats().resume(others[0]!);
        await nats().resume(others[1]!);
        mark('resumed');
        // No event sent after quorum was lost was acknowledged before it was back.
        const during = answers.filter((x) => x.sentAt > pausedAt && x.answeredAt < resumedAt);
        expect(during.length).toBeGreaterThan(0);
        expect(during.flatMap((x) => x.accepted)).toEqual([]);
      });
    });
  });

  describe('Cassandra nodes, written at LOCAL_QUORUM', () => {
    /** Until the processor has acknowledged a share of the run's events (it is writing this run). */
    async function writing(share: number) {
      const acked = await metric(p.processor, ACKS);
      await until(
        `${share} of the run written`,
        300_000,
        async () => (await metric(p.processor, ACKS)) >= acked + EVENTS * share,
      );
    }

    it('keeps writing with one node paused, and loses and duplicates nothing', async () => {
      await run('one Cassandra node paused', async (_prod, mark) => {
        await writing(1 / 6);
        const [node] = cassandraClusterEnv().nodes;
        await cass().pause(node!.name);
        mark('paused');
        // Two replicas of three still make LOCAL_QUORUM: writes go on while it is away.
        await writing(1 / 5);
        mark('written without it');
        await cass().resume(node!.name);
      });
    });

    it('naks and acks nothing with two nodes paused, and writes everything once they are back', async () => {
      await run('two Cassandra nodes paused', async (_prod, mark) => {
        await writing(1 / 6);
        const [, second, third] = cassandraClusterEnv().nodes;
        await cass().pause(second!.name);
        await cass().pause(third!.name);
        mark('paused');
        // Writes that reached quorum before the pause settle first; from then on every write fails.
        const naks = await metric(p.processor, NAKS);
        await until(
          'naks without quorum',
          120_000,
          async () => (await metric(p.processor, NAKS)) >= naks + 200,
        );
        mark('naks');
        const ackedThen = await metric(p.processor, ACKS);
        const naksThen = await metric(p.processor, NAKS);
        await until('more naks', 120_000, async () => (await metric(p.processor, NAKS)) >= naksThen + 1000);
        mark('more naks');
        // Not one event was acknowledged while no write could reach quorum.
        expect(await metric(p.processor, ACKS)).toBe(ackedThen);
        await cass().resume(second!.name);
        await cass().resume(third!.name);
      });
    });
  });
});
