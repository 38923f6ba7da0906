// The raw limits the processor is compared with, each on the same servers and data: consume+ack
// from the stream with a plain pull consumer, prepared upserts into the same Cassandra table with
// the driver alone, and JSONEachRow inserts into the same ClickHouse table with the client alone.
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type cassandra from 'cassandra-driver';
import type { ClickHouseClient } from '@clickhouse/client';
import { compileColumns } from '../../runtime/sinks/columns.js';
import { insertCql } from '../../runtime/sinks/cql.js';
import { chDateTime } from '../../runtime/sinks/clickhouse-sql.js';
import type { ColumnSpec } from '../../runtime/sinks/types.js';
import { shopEvent } from './events.js';

/** Events/s of consuming and acking `count` messages with a durable pull consumer. */
export async function rawConsume(
  nc: NatsConnection,
  stream: string,
  count: number,
  name: string,
): Promise<number> {
  const jsm = await jetstreamManager(nc);
  await jsm.consumers.add(stream, {
    durable_name: name,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    max_ack_pending: 20_000,
  });
  const consumer = await jetstream(nc).consumers.get(stream, name);
  const start = performance.now();
  const messages = await consumer.consume({ max_messages: 1000 });
  let n = 0;
  for await (const m of messages) {
    JSON.parse(new TextDecoder().decode(m.data)); // what any consumer does at least
    m.ack();
    if (++n >= count) break;
  }
  await nc.flush();
  const ms = performance.now() - start;
  await jsm.consumers.delete(stream, name);
  return (count / ms) * 1000;
}

/**
 * Events/s of prepared single-row upserts into the same table, `concurrency` in flight.
 * `started` is called once the rows are built, right before the timed writes begin.
 */
export async function rawCassandra(
  client: cassandra.Client,
  spec: { keyspace: string; table: string },
  columns: ColumnSpec[],
  count: number,
  concurrency: number,
  run: string,
  started?: () => void,
): Promise<number> {
  const query = insertCql(spec, columns);
  const conv = compileColumns(columns);
  const params = Array.from({ length: count }, (_, i) => {
    const r = conv.convert(shopEvent(run, i));
    return [r.id, r.type, r.source, r.subject, r.time, r.data, ...r.typed];
  });
  let next = 0;
  started?.();
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const p = params[next++]!;
        await client.execute(query, p, { prepare: true, isIdempotent: true });
      }
    }),
  );
  return (count / (performance.now() - start)) * 1000;
}

/** Events/s of JSONEachRow inserts of `batch` rows into the same table. */
export async function rawClickHouse(
  ch: ClickHouseClient,
  table: string,
  columns: ColumnSpec[],
  count: number,
  batch: number,
  run: string,
): Promise<number> {
  const conv = compileColumns(columns);
  const rows = Array.from({ length: count }, (_, i) => {
    const r = conv.convert(shopEvent(run, i));
    const row: Record<string, unknown> = {
      id: r.id,
      type: r.type,
      source: r.source,
      subject: r.subject,
      time: chDateTime(r.time!, false),
      time_text: r.timeText,
      data: r.data,
    };
    columns.forEach((c, j) => (row[c.name] = r.typed[j]));
    return row;
  });
  const start = performance.now();
  for (let i = 0; i < count; i += batch) {
    await ch.insert({ table, values: rows.slice(i, i + batch), format: 'JSONEachRow' });
  }
  return (count / (performance.now() - start)) * 1000;
}
