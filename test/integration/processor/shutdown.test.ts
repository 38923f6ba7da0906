// Stopping a processor mid-stream loses nothing: SIGTERM drains (stops pulling, writes and acks
// what it holds) and exits within the grace period; SIGKILL leaves unacked events that JetStream
// redelivers to the next processor, which writes them again without creating a second row.
import { beforeAll, describe, expect, it } from 'vitest';
import type cassandra from 'cassandra-driver';
import { type ClickHouseClient } from '@clickhouse/client';
import { type NatsConnection } from '@nats-io/transport-node';
import { natsEnv } from '../../stack/context.js';
import { useStackTargets } from './stack-targets.js';
import { assertInvariant, cassandraIds, consumerState, readOutcome, settled } from './checks.js';
import { expected, processConfig, shopEvents, type Targets } from './fixtures.js';
import {
  metric,
  names,
  natsSetup,
  publish,
  startProcess,
  stopProcess,
  waitFor,
  writeConfig,
} from './support.js';

describe('stopping a processor', () => {
  const stack = useStackTargets('stop');
  const { keyspace, database } = stack;
  let cql: cassandra.Client;
  let ch: ClickHouseClient;
  let nc: NatsConnection;
  let targets: Targets;
  beforeAll(() => {
    ({ cql, ch, nc, targets } = stack);
  });

  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    it(`${signal} mid-stream loses nothing and duplicates nothing`, async () => {
      const table = signal.toLowerCase();
      const n = names(table);
      const { nc: admin } = await natsSetup(natsEnv().url, n, { maxDeliver: 20, ackWaitMs: 3000 });
      const t = {
        ...targets,
        cassandra: { ...targets.cassandra, table },
        clickhouse: { ...targets.clickhouse, table },
      };
      const where = { keyspace, table, database, chTable: table, dlqStream: n.dlqStream };
      const config = writeConfig(
        processConfig(t, n, { maxDeliver: 20, grace: '15s', chBatch: { maxRows: 300, maxDelay: '500ms' } }),
      );
      const events = shopEvents(6000, { poison: true });
      const want = expected(events);
      await publish(
        admin,
        n.prefix,
        events.map((e) => e.event),
      );

      const first = await startProcess(config);
      await waitFor(
        async () => (await cassandraIds(cql, keyspace, table)).size >= 800,
        60_000,
        'some events written',
      );
      const stopped = await stopProcess(first, signal);
      const after = await consumerState(nc, n.stream, n.consumer);
      expect(after.pending + after.ackPending).toBeGreaterThan(0); // it really stopped mid-stream
      if (signal === 'SIGTERM') {
        expect(stopped.code).toBe(0);
        expect(stopped.ms).toBeLessThan(15_000);
        expect(first.logs.some((l) => l.msg === 'Drained in-flight events')).toBe(true);
      }

      const second = await startProcess(config);
      try {
        await waitFor(
          async () => settled(await readOutcome(cql, ch, nc, where), want),
          120_000,
          'the rest processed',
        );
        await waitFor(
          async () => {
            const s = await consumerState(nc, n.stream, n.consumer);
            return s.pending === 0 && s.ackPending === 0;
          },
          30_000,
          'all acked',
        );
        if (signal === 'SIGKILL')
          expect(await metric(second, 'eventrunner_processor_redeliveries_total')).toBeGreaterThan(0);
      } finally {
        expect((await stopProcess(second)).code).toBe(0);
        await admin.close();
      }
      assertInvariant(events.length, await readOutcome(cql, ch, nc, where), want);
    });
  }
});
