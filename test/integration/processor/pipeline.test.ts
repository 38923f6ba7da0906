// End to end through `eventrunner process` on the stack's NATS, Cassandra and ClickHouse: events
// land in both sinks with the rules applied, poison events reach the dead-letter stream with their
// reasons while the rest flow, and replaying every batch (a redelivery of the whole stream) adds
// no row and no dead letter.
import { beforeAll, describe, expect, it } from 'vitest';
import type cassandra from 'cassandra-driver';
import { type ClickHouseClient } from '@clickhouse/client';
import { AckPolicy, DeliverPolicy } from '@nats-io/jetstream';
import { type NatsConnection } from '@nats-io/transport-node';
import { STRUCTURED_CONTENT_TYPE, toNatsMessage } from '../../../runtime/events/index.js';
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

describe('eventrunner process', () => {
  const stack = useStackTargets('proc');
  const { keyspace, database } = stack;
  let cql: cassandra.Client;
  let ch: ClickHouseClient;
  let nc: NatsConnection;
  let targets: Targets;
  beforeAll(() => {
    ({ cql, ch, nc, targets } = stack);
  });

  it('routes events through the rules into both sinks, dead-letters poison, and replays without duplicates', async () => {
    const n = names('flow');
    const { nc: admin, jsm } = await natsSetup(natsEnv().url, n, { maxDeliver: 5 });
    const t = {
      ...targets,
      cassandra: { ...targets.cassandra, table: 'flow' },
      clickhouse: { ...targets.clickhouse, table: 'flow' },
    };
    const events = shopEvents(1500, { poison: true });
    const want = expected(events);
    expect(want.deadLettered.size).toBeGreaterThan(100);
    expect(want.dropped.size).toBeGreaterThan(100);
    await publish(
      admin,
      n.prefix,
      events.map((e) => e.event),
    );
    // Undecodable messages: not JSON at all, and JSON that is no CloudEvent nor convertible.
    const js = (await import('@nats-io/jetstream')).jetstream(admin);
    await js.publish(`${n.prefix}.garbage`, new TextEncoder().encode('{not json'), { msgID: 'garbage-1' });
    const produced = events.length + 1;

    const where = { keyspace, table: 'flow', database, chTable: 'flow', dlqStream: n.dlqStream };
    const proc = await startProcess(writeConfig(processConfig(t, n)));
    try {
      await waitFor(
        async () =>
          settled(await readOutcome(cql, ch, nc, where), {
            ...want,
            deadLettered: new Set([...want.deadLettered, 'x']),
          }),
        90_000,
        'all events processed',
      );
      await waitFor(
        async () => (await consumerState(nc, n.stream, n.consumer)).ackPending === 0,
        30_000,
        'all acked',
      );
      expect(await metric(proc, 'eventrunner_processor_events_dropped_total')).toBe(want.dropped.size);
      // Batches of 500 and 100 fit in 1,000 events in flight: no batch-size warning.
      expect(proc.logs.filter((l) => l.output !== undefined && l.maxRows !== undefined)).toEqual([]);
      expect(await metric(proc, 'eventrunner_processor_events_routed_total')).toBe(
        want.store.size + want.analytics.size,
      );
    } finally {
      expect((await stopProcess(proc)).code).toBe(0);
    }

    const o = await readOutcome(cql, ch, nc, where);
    const garbage = o.deadLetters.filter((d) => d.id === undefined);
    expect(garbage).toHaveLength(1);
    expect(garbage[0]!.reason).toMatch(/^undecodable: /);
    expect(garbage[0]!.subject).toBe(`${n.prefix}.garbage`);
    const decoded = { ...o, deadLetters: o.deadLetters.filter((d) => d.id !== undefined) };
    assertInvariant(produced - 1, decoded, want);
    const byId = new Map(decoded.deadLetters.map((d) => [d.id!, d]));
    for (const e of events) {
      if (e.fate === 'rule-deadletter')
        expect(byId.get(e.event.id)).toMatchObject({ reason: 'poison payload', rule: 'Poison' });
      if (e.fate === 'sink-deadletter') {
        expect(byId.get(e.event.id)?.output).toBe('store');
        // Read back from the stream after the sinks answered: the original headers come along.
        expect(byId.get(e.event.id)?.contentType).toBe(STRUCTURED_CONTENT_TYPE);
        expect(byId.get(e.event.id)?.subject).toBe(toNatsMessage(e.event, n.prefix).subject);
        expect(byId.get(e.event.id)?.reason).toMatch(/^output store rejected the event: column qty \(int\)/);
      }
    }
    // The rules' change reached the rows: big orders carry tier gold in both sinks.
    const big = events.find((e) => e.fate === 'both')!.event.id;
    expect(
      (await cql.execute(`SELECT tier FROM ${keyspace}.flow WHERE id = ?`, [big], { prepare: true }))
        .first()
        .get('tier'),
    ).toBe('gold');
    const [chRow] = await (
      await ch.query({
        query: `SELECT tier, amount FROM ${database}.flow FINAL WHERE id = '${big}'`,
        format: 'JSONEachRow',
      })
    ).json<{ tier: string }>();
    expect(chRow?.tier).toBe('gold');

    // Redeliver everything: a second durable from the start writes every batch again.
    await jsm.consumers.delete(n.stream, n.consumer);
    await jsm.consumers.add(n.stream, {
      durable_name: n.consumer,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      max_deliver: 5,
    });
    const again = await startProcess(writeConfig(processConfig(t, n)));
    try {
      await waitFor(
        async () => {
          const s = await consumerState(nc, n.stream, n.consumer);
          return s.pending === 0 && s.ackPending === 0;
        },
        90_000,
        'replay processed',
      );
      const taken = await metric(again, 'eventrunner_processor_events_in_total');
      expect(taken).toBeGreaterThanOrEqual(produced);
      // Every message taken is timed once, from the loop taking it to its writes queued.
      expect(await metric(again, 'eventrunner_processor_handle_duration_seconds_count')).toBe(taken);
    } finally {
      expect((await stopProcess(again)).code).toBe(0);
    }
    const replayed = await readOutcome(cql, ch, nc, where);
    // The dead-letter stream deduplicates by original stream and sequence: no second dead letter.
    expect(replayed.deadLetters).toHaveLength(o.deadLetters.length);
    assertInvariant(
      produced - 1,
      { ...replayed, deadLetters: replayed.deadLetters.filter((d) => d.id !== undefined) },
      want,
    );
    await admin.close();
  });
});
