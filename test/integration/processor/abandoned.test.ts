// An event whose last allowed delivery was taken by a processor that then died is not lost: the
// MAX_DELIVERIES advisory JetStream sends makes a running processor dead-letter it.
import { beforeAll, describe, expect, it } from 'vitest';
import type cassandra from 'cassandra-driver';
import { type ClickHouseClient } from '@clickhouse/client';
import { jetstream } from '@nats-io/jetstream';
import { type NatsConnection } from '@nats-io/transport-node';
import { natsEnv } from '../../stack/context.js';
import { useStackTargets } from './stack-targets.js';
import { consumerState, readOutcome } from './checks.js';
import { processConfig, shopEvents, type Targets } from './fixtures.js';
import {
  names,
  natsSetup,
  publish,
  readDeadLetters,
  startProcess,
  stopProcess,
  waitFor,
  writeConfig,
} from './support.js';

describe('an event abandoned at maxDeliver', () => {
  const stack = useStackTargets('aband');
  const { keyspace, database } = stack;
  let cql: cassandra.Client;
  let ch: ClickHouseClient;
  let nc: NatsConnection;
  let targets: Targets;
  beforeAll(() => {
    ({ cql, ch, nc, targets } = stack);
  });

  it('is dead-lettered by a running processor through the max-deliveries advisory', async () => {
    const n = names('aband');
    const ackWaitMs = 15_000;
    const { nc: admin } = await natsSetup(natsEnv().url, n, { maxDeliver: 1, ackWaitMs });
    const events = shopEvents(10);
    await publish(
      admin,
      n.prefix,
      events.map((e) => e.event),
    );
    // A "processor" takes the only allowed delivery of every event and dies without an outcome.
    const taken = await jetstream(admin).consumers.get(n.stream, n.consumer);
    const batch = await taken.fetch({ max_messages: 10, expires: 5000 });
    let held = 0;
    const takenAt = Date.now();
    for await (const m of batch) {
      void m;
      if (++held === 10) break;
    }
    expect(held).toBe(10);

    const proc = await startProcess(writeConfig(processConfig(targets, n, { maxDeliver: 1, backoff: [] })));
    // The advisory comes when the ack wait of the held deliveries runs out; the processor must
    // already be listening then for this test to mean anything.
    expect(Date.now() - takenAt).toBeLessThan(ackWaitMs);
    try {
      await waitFor(
        async () => (await readDeadLetters(nc, n.dlqStream)).length >= 10,
        60_000,
        'abandoned events dead-lettered',
      );
    } finally {
      expect((await stopProcess(proc)).code).toBe(0);
      await admin.close();
    }
    const dl = await readDeadLetters(nc, n.dlqStream);
    expect(new Set(dl.map((d) => d.id))).toEqual(new Set(events.map((e) => e.event.id)));
    for (const d of dl) expect(d.reason).toMatch(/^delivered 1 times \(maxDeliver\) without an outcome/);
    expect((await consumerState(nc, n.stream, n.consumer)).ackPending).toBe(0);
    // produced (10) = written (0) + dropped (0) + dead-lettered (10)
    const o = await readOutcome(cql, ch, nc, {
      keyspace,
      table: 'orders',
      database,
      chTable: 'orders',
      dlqStream: n.dlqStream,
    });
    expect(o.store.size + o.analytics.size + o.deadLetters.length).toBe(10);
    expect(o.deadLetters).toHaveLength(10);
  });
});
