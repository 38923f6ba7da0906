// Two processors on one durable consumer share the stream (each event handled once overall), and
// raw JSON messages published straight to the stream get a stable id (their Nats-Msg-Id), so their
// rows are keyed like every other event's.
import { beforeAll, describe, expect, it } from 'vitest';
import type cassandra from 'cassandra-driver';
import { type ClickHouseClient } from '@clickhouse/client';
import { jetstream } from '@nats-io/jetstream';
import { type NatsConnection } from '@nats-io/transport-node';
import { natsEnv } from '../../stack/context.js';
import { useStackTargets } from './stack-targets.js';
import { assertInvariant, consumerState, readOutcome, settled } from './checks.js';
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

describe('replicas', () => {
  const stack = useStackTargets('repl');
  const { keyspace, database } = stack;
  let cql: cassandra.Client;
  let ch: ClickHouseClient;
  let nc: NatsConnection;
  let targets: Targets;
  beforeAll(() => {
    ({ cql, ch, nc, targets } = stack);
  });

  it('share one durable consumer and key raw JSON events by their message id', async () => {
    const n = names('repl');
    const { nc: admin } = await natsSetup(natsEnv().url, n, { maxDeliver: 5, maxAckPending: 400 });
    const config = writeConfig(processConfig(targets, n, { maxAckPending: 400 }));
    const where = { keyspace, table: 'orders', database, chTable: 'orders', dlqStream: n.dlqStream };
    const a = await startProcess(config);
    const b = await startProcess(config);
    try {
      const events = shopEvents(3000, { poison: true });
      await publish(
        admin,
        n.prefix,
        events.map((e) => e.event),
      );
      // Raw JSON (no CloudEvents headers, no specversion): converted with the default type and
      // keyed by Nats-Msg-Id, so a redelivery would write the same row.
      const js = jetstream(admin);
      const raw = Array.from({ length: 20 }, (_, i) => `raw-${n.consumer}-${i}`);
      for (const id of raw)
        await js.publish(`${n.prefix}.raw`, JSON.stringify({ amount: 3, note: id }), { msgID: id });
      const want = expected(events);
      for (const id of raw) want.store.add(id);
      await waitFor(
        async () => settled(await readOutcome(cql, ch, nc, where), want),
        120_000,
        'all events processed',
      );
      await waitFor(
        async () => (await consumerState(nc, n.stream, n.consumer)).ackPending === 0,
        30_000,
        'all acked',
      );
      // 400 in flight cannot fill ClickHouse batches of 500: said once at start-up, naming what to change.
      const batchWarnings = a.logs.filter((l) => l.level === 'warn' && l.output === 'analytics');
      expect(batchWarnings).toHaveLength(1);
      expect(batchWarnings[0]).toMatchObject({ maxRows: 500, maxInFlight: 400 });
      expect(String(batchWarnings[0]!.msg)).toMatch(/raise the Pipeline's delivery\.maxAckPending/);
      const inA = await metric(a, 'eventrunner_processor_events_in_total');
      const inB = await metric(b, 'eventrunner_processor_events_in_total');
      expect(inA).toBeGreaterThan(0);
      expect(inB).toBeGreaterThan(0);
      expect(inA + inB).toBe(events.length + raw.length);
      assertInvariant(events.length + raw.length, await readOutcome(cql, ch, nc, where), want);
      const row = (
        await cql.execute(`SELECT type, data FROM ${keyspace}.orders WHERE id = ?`, [raw[0]], {
          prepare: true,
        })
      ).first();
      expect(row.get('type')).toBe('io.eventrunner.raw');
      expect(JSON.parse(row.get('data') as string)).toEqual({ amount: 3, note: raw[0] });
    } finally {
      expect((await stopProcess(a)).code).toBe(0);
      expect((await stopProcess(b)).code).toBe(0);
      await admin.close();
    }
  });
});
