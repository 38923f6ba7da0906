// End-to-end latency at a fixed offered rate: events are published at `rate`/s and every k-th one
// is followed until its row is visible in Cassandra and in ClickHouse, each sink timed on its own
// (publish → row visible there) and both together. Visibility is polled every `pollMs`, which
// bounds the resolution of the figures.
import { jetstream } from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/nats-core';
import type { NatsConnection } from '@nats-io/transport-node';
import type cassandra from 'cassandra-driver';
import type { ClickHouseClient } from '@clickhouse/client';
import { toNatsMessage } from '../../runtime/events/index.js';
import { shopEvent } from './events.js';

export interface LatencyOptions {
  rate: number;
  seconds: number;
  sampleEvery: number;
  pollMs: number;
  prefix: string;
  run: string;
  cassandraTable: string;
  clickhouseTable: string;
}

export async function measureLatency(
  nc: NatsConnection,
  cql: cassandra.Client,
  ch: ClickHouseClient,
  o: LatencyOptions,
): Promise<{
  latenciesMs: number[];
  cassandraMs: number[];
  clickhouseMs: number[];
  published: number;
  missing: number;
}> {
  const js = jetstream(nc);
  const outstanding = new Map<string, { sent: number; inCassandra?: boolean; inClickHouse?: boolean }>();
  const latencies: number[] = [];
  const cassandraMs: number[] = [];
  const clickhouseMs: number[] = [];
  let publishing = true;
  // Set when publishing failed: the poller stops, so the error that ended the run is the one
  // reported (and not a query on a client the caller has shut down since).
  let failed = false;
  const poller = (async () => {
    while (!failed && (publishing || outstanding.size)) {
      await new Promise((r) => setTimeout(r, o.pollMs));
      const ids = [...outstanding.keys()].slice(0, 500);
      if (!ids.length) continue;
      // Each sink is asked only for the rows it has not shown yet: Cassandra's rows land long before
      // ClickHouse's batch, and asking again for them would load Cassandra with reads of our own.
      const forCassandra = ids.filter((id) => !outstanding.get(id)!.inCassandra);
      const forClickHouse = ids.filter((id) => !outstanding.get(id)!.inClickHouse);
      const [rs, chRows] = await Promise.all([
        forCassandra.length
          ? cql
              .execute(`SELECT id FROM ${o.cassandraTable} WHERE id IN ?`, [forCassandra], { prepare: true })
              .then((r) => r.rows.map((row) => row.get('id') as string))
          : [],
        forClickHouse.length
          ? ch
              .query({
                query: `SELECT id FROM ${o.clickhouseTable} WHERE id IN (${forClickHouse.map((i) => `'${i}'`).join(',')})`,
                format: 'JSONEachRow',
              })
              .then((r) => r.json<{ id: string }>())
              .then((rows) => rows.map((row) => row.id))
          : [],
      ]);
      const now = Date.now();
      for (const id of rs) {
        outstanding.get(id)!.inCassandra = true;
        cassandraMs.push(now - outstanding.get(id)!.sent);
      }
      for (const id of chRows) {
        outstanding.get(id)!.inClickHouse = true;
        clickhouseMs.push(now - outstanding.get(id)!.sent);
      }
      for (const id of ids) {
        const s = outstanding.get(id)!;
        if (s.inCassandra && s.inClickHouse) {
          latencies.push(now - s.sent);
          outstanding.delete(id);
        } else if (!publishing && now - s.sent > 30_000) {
          outstanding.delete(id);
        }
      }
    }
  })();
  const total = o.rate * o.seconds;
  const tickMs = 10;
  const perTick = o.rate / (1000 / tickMs);
  const start = Date.now();
  let sent = 0;
  const pending: Promise<unknown>[] = [];
  // The first failed publish. Each publish is caught as it is made, so one that fails while the
  // loop waits for its next tick is not an unhandled rejection that ends the process.
  let publishError: { err: unknown } | undefined;
  try {
    await publishAll();
  } catch (err) {
    failed = true;
    await poller.catch(() => undefined);
    throw err;
  }
  publishing = false;
  const expectedSamples = Math.ceil(total / o.sampleEvery);
  await poller;
  return {
    latenciesMs: latencies,
    cassandraMs,
    clickhouseMs,
    published: total,
    missing: expectedSamples - latencies.length,
  };

  async function publishAll(): Promise<void> {
    while (sent < total) {
      const due = Math.min(total, Math.floor(((Date.now() - start) / tickMs + 1) * perTick));
      for (; sent < due; sent++) {
        const now = Date.now();
        const e = shopEvent(o.run, sent, now);
        const m = toNatsMessage(e, o.prefix);
        const h = natsHeaders();
        for (const [k, v] of Object.entries(m.headers)) h.set(k, v);
        pending.push(
          // A loaded machine may take seconds to confirm a publish; the default 5 s ended runs.
          js
            .publish(m.subject, m.body, { headers: h, msgID: m.msgId, timeout: 30_000 })
            .catch((err: unknown) => {
              publishError ??= { err };
            }),
        );
        if (sent % o.sampleEvery === 0) outstanding.set(e.id, { sent: now });
      }
      if (pending.length > 2000) await Promise.all(pending.splice(0));
      if (publishError) throw publishError.err;
      await new Promise((r) => setTimeout(r, tickMs));
    }
    await Promise.all(pending);
    if (publishError) throw publishError.err;
  }
}
