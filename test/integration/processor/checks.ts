// Reading the results back from the real tables and streams, and the invariant every test checks.
import type cassandra from 'cassandra-driver';
import type { ClickHouseClient } from '@clickhouse/client';
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { expect } from 'vitest';
import { readDeadLetters, type DeadLetterRecord } from './support.js';
import type { expected as expectedFn } from './fixtures.js';

export async function cassandraIds(
  cql: cassandra.Client,
  keyspace: string,
  table: string,
): Promise<Set<string>> {
  const ids = new Set<string>();
  let pageState: string | undefined;
  do {
    const rs = await cql.execute(`SELECT id FROM ${keyspace}.${table}`, [], {
      prepare: true,
      fetchSize: 5000,
      ...(pageState ? { pageState } : {}),
    });
    for (const row of rs.rows) ids.add(row.get('id') as string);
    pageState = rs.pageState ?? undefined;
  } while (pageState);
  return ids;
}

export async function clickhouseIds(
  ch: ClickHouseClient,
  database: string,
  table: string,
): Promise<{ ids: Set<string>; finalCount: number }> {
  const rs = await ch.query({ query: `SELECT id FROM ${database}.${table} FINAL`, format: 'JSONEachRow' });
  const rows = await rs.json<{ id: string }>();
  return { ids: new Set(rows.map((r) => r.id)), finalCount: rows.length };
}

export interface Outcome {
  store: Set<string>;
  analytics: Set<string>;
  deadLetters: DeadLetterRecord[];
}

export async function readOutcome(
  cql: cassandra.Client,
  ch: ClickHouseClient,
  nc: NatsConnection,
  where: { keyspace: string; table: string; database: string; chTable: string; dlqStream: string },
): Promise<Outcome> {
  const [store, analytics, deadLetters] = await Promise.all([
    cassandraIds(cql, where.keyspace, where.table),
    clickhouseIds(ch, where.database, where.chTable),
    readDeadLetters(nc, where.dlqStream),
  ]);
  expect(analytics.finalCount).toBe(analytics.ids.size);
  return { store, analytics: analytics.ids, deadLetters };
}

export function settled(o: Outcome, want: ReturnType<typeof expectedFn>): boolean {
  return (
    o.store.size >= want.store.size &&
    o.analytics.size >= want.analytics.size &&
    o.deadLetters.length >= want.deadLettered.size
  );
}

/** produced = rows written + dropped by rule + dead-lettered, event by event, and nothing twice. */
export function assertInvariant(produced: number, o: Outcome, want: ReturnType<typeof expectedFn>): void {
  const dlqIds = o.deadLetters.map((d) => d.id);
  expect(new Set(dlqIds).size).toBe(dlqIds.length);
  expect(o.store).toEqual(want.store);
  expect(o.analytics).toEqual(want.analytics);
  expect(new Set(dlqIds)).toEqual(want.deadLettered);
  const written = new Set([...o.store, ...o.analytics]);
  for (const id of dlqIds) expect(written.has(id!)).toBe(false);
  for (const id of want.dropped) expect(written.has(id) || dlqIds.includes(id)).toBe(false);
  expect(written.size + want.dropped.size + dlqIds.length).toBe(produced);
}

export async function consumerState(nc: NatsConnection, stream: string, consumer: string) {
  const jsm = await jetstreamManager(nc);
  const info = await jsm.consumers.info(stream, consumer);
  return {
    pending: info.num_pending,
    ackPending: info.num_ack_pending,
    ackFloor: info.ack_floor.stream_seq,
    redelivered: info.num_redelivered,
  };
}
