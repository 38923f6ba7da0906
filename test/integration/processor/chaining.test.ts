// Pipelines chained through an EventSource: Pipeline A notifies a (slow) webhook and publishes
// every order to the "alerts" EventSource's stream through an eventSource Sink; Pipeline B reads
// that stream into a Cassandra table. A's processor is SIGKILLed mid-run, with events published to
// alerts but not yet acknowledged; the restarted processor gets them again and publishes them
// again, and the stream's Nats-Msg-Id deduplication keeps one message per id: B's table, and the
// alerts stream itself, hold each id exactly once.
import { describe, expect, it } from 'vitest';
import { jetstreamManager } from '@nats-io/jetstream';
import type { CloudEvent } from '../../../runtime/events/index.js';
import { natsEnv } from '../../stack/context.js';
import { startReceiver } from '../../support/webhook-receiver.js';
import { cassandraIds, consumerState } from './checks.js';
import { useStackTargets } from './stack-targets.js';
import {
  metric,
  names,
  natsSetup,
  publish,
  readDeadLetters,
  startProcess,
  stopProcess,
  waitFor,
  writeConfig,
  type Names,
} from './support.js';

const RULES = `
rule Gold "large orders are gold and raise an alert" salience 10 {
  when event.data.amount >= 1000
  then event.data.tier = "gold"; Route("notify"); Route("alerts");
}
rule Rest "every other order raises an alert only" {
  when event.data.amount < 1000
  then Route("notify"); Route("alerts");
}`;

describe('Pipelines chained through an EventSource', () => {
  const stack = useStackTargets('chain');

  it('gives B each id exactly once although A was SIGKILLed mid-run', { timeout: 180_000 }, async () => {
    const receiver = await startReceiver({ respond: () => ({ status: 200, delayMs: 10 }) });
    const a = names('chainA');
    const b: Names = names('chainB');
    // A reads the shop stream; B's stream is the alerts EventSource A publishes to.
    const { nc: admin } = await natsSetup(natsEnv().url, a, { maxDeliver: 20, ackWaitMs: 2000 });
    const { nc: adminB } = await natsSetup(natsEnv().url, b, { maxDeliver: 20 });
    const n = 1000;
    const events: CloudEvent[] = Array.from({ length: n }, (_, i) => ({
      specversion: '1.0',
      id: `chain-${i}`,
      source: '/shop/web',
      type: 'com.shop.order.created',
      subject: `order/${i}`,
      data: { amount: i % 4 === 0 ? 1500 : 100 + i },
    }));
    const configA = writeConfig({
      pipeline: { namespace: 'test', name: 'orders' },
      nats: { url: natsEnv().url },
      sources: [{ eventSource: 'shop', stream: a.stream, consumer: a.consumer }],
      rules: { source: RULES },
      outputs: [
        { name: 'notify', sink: { http: { url: `${receiver.url}/gold`, maxConcurrency: 4 } } },
        {
          name: 'alerts',
          sink: { eventSource: { name: 'alerts' } },
          eventSource: { stream: b.stream, subjectPrefix: b.prefix },
        },
      ],
      delivery: { maxDeliver: 20, backoff: ['100ms'], maxAckPending: 200 },
      deadLetter: { stream: a.dlqStream, subject: a.dlqSubject },
      ops: { port: 0, host: '127.0.0.1' },
      logLevel: 'info',
    });
    const configB = writeConfig({
      pipeline: { namespace: 'test', name: 'alert-counts' },
      nats: { url: natsEnv().url },
      sources: [{ eventSource: 'alerts', stream: b.stream, consumer: b.consumer }],
      rules: { source: '' },
      outputs: [
        {
          name: 'store',
          sink: {
            scylla: {
              contactPoints: [stack.targets.cassandra.contactPoint],
              localDataCenter: stack.targets.cassandra.localDataCenter,
              keyspace: stack.keyspace,
              table: 'alerts',
              consistency: 'LOCAL_ONE',
              manageSchema: true,
              replicationFactor: 1,
            },
            columns: [{ name: 'tier', type: 'text', from: '/data/tier' }],
          },
          credentials: {
            usernameFile: stack.targets.cassandra.usernameFile,
            passwordFile: stack.targets.cassandra.passwordFile,
          },
        },
      ],
      delivery: { maxDeliver: 20, backoff: ['100ms'], maxAckPending: 1000 },
      deadLetter: { stream: b.dlqStream, subject: b.dlqSubject },
      ops: { port: 0, host: '127.0.0.1' },
      logLevel: 'info',
    });
    const jsm = await jetstreamManager(stack.nc);
    const processB = await startProcess(configB);
    let processA = await startProcess(configA);
    let restarted: Awaited<ReturnType<typeof startProcess>> | undefined;
    try {
      await publish(admin, a.prefix, events);
      // Mid-run: some events acknowledged by the webhook, more published to alerts than acked.
      await waitFor(() => receiver.accepted().size >= 250, 60_000, 'A halfway');
      processA.child.kill('SIGKILL');
      await processA.exited;
      const atKill = {
        notified: receiver.accepted().size,
        published: (await jsm.streams.info(b.stream)).state.messages,
        a: await consumerState(stack.nc, a.stream, a.consumer),
      };
      expect(atKill.published).toBeLessThan(n);
      // Events A held when it died: published to alerts but never acknowledged (the stream's
      // sequences are 1..n in publish order, so the ack floor counts the acknowledged ones).
      expect(atKill.a.ackPending).toBeGreaterThan(0);
      expect(atKill.published).toBeGreaterThan(atKill.a.ackFloor);

      restarted = processA = await startProcess(configA);
      await waitFor(
        async () => (await cassandraIds(stack.cql, stack.keyspace, 'alerts')).size >= n,
        120_000,
        'every alert in B’s table',
      );
      await waitFor(
        async () => {
          const [sa, sb] = await Promise.all([
            consumerState(stack.nc, a.stream, a.consumer),
            consumerState(stack.nc, b.stream, b.consumer),
          ]);
          return sa.pending + sa.ackPending + sb.pending + sb.ackPending === 0;
        },
        60_000,
        'both Pipelines settled',
      );
      // The redelivered events were published again, and the stream dropped the copies.
      expect(await metric(restarted, 'eventrunner_processor_redeliveries_total')).toBeGreaterThan(0);
      expect((await jsm.streams.info(b.stream)).state.messages).toBe(n);
      const ids = await cassandraIds(stack.cql, stack.keyspace, 'alerts');
      expect(ids).toEqual(new Set(events.map((e) => e.id)));
      const gold = await stack.cql.execute(
        `SELECT id, tier FROM ${stack.keyspace}.alerts WHERE id = 'chain-4'`,
      );
      expect(gold.first().get('tier')).toBe('gold');
      // The webhook got every order, some twice (the ones A held when it died), none lost.
      for (const e of events) expect(receiver.accepted().get(e.id)).toBeGreaterThanOrEqual(1);
      expect(await readDeadLetters(stack.nc, a.dlqStream)).toEqual([]);
      expect(await readDeadLetters(stack.nc, b.dlqStream)).toEqual([]);
    } finally {
      if (restarted) expect((await stopProcess(restarted)).code).toBe(0);
      else await stopProcess(processA, 'SIGKILL').catch(() => undefined);
      expect((await stopProcess(processB)).code).toBe(0);
      await receiver.close();
      await admin.close();
      await adminB.close();
    }
  });
});
