// End-to-end latency at a fixed offered rate: events are published at `rate`/s and every k-th one
// is followed until its row is visible in Cassandra and in ClickHouse, each sink timed on its own
// (publish → row visible there) and both together. Each sink has its own poller, so a slow query
// to one does not delay the other's timestamps: Cassandra is asked every `cassandraPollMs` for the
// followed rows it has not shown, ClickHouse every `clickhousePollMs`. A row's latency is taken
// when the read that found it answered (an upper bound); the row was not visible yet when the
// last read that missed it was sent, and the gap between the two — the resolution of that
// sample — is reported next to the latencies, so a coarse poll shows instead of inflating them.
// For Cassandra the row also carries when its write was issued: the driver stamps each write with
// a client-side timestamp as the processor builds it (`writetime`, µs, the same machine's clock),
// so publish → write issued is exact per row, and the row became visible between that (or the
// last miss, whichever is later) and the read that found it.
import type { NatsConnection } from '@nats-io/transport-node';
import type cassandra from 'cassandra-driver';
import type { ClickHouseClient } from '@clickhouse/client';
import { toNatsMessage } from '../../runtime/events/index.js';
import { JetStreamAsyncPublisher } from '../../runtime/ingest/jetstream-async.js';
import { eventHeaders } from '../../runtime/ingest/publish-headers.js';
import { shopEvent } from './events.js';

export interface LatencyOptions {
  rate: number;
  seconds: number;
  sampleEvery: number;
  cassandraPollMs: number;
  clickhousePollMs: number;
  prefix: string;
  /** The stream the events go to (Nats-Expected-Stream). */
  stream: string;
  run: string;
  cassandraTable: string;
  clickhouseTable: string;
}

export interface LatencyResult {
  /** Publish → visible in both sinks, ms (the later of the two upper bounds). */
  latenciesMs: number[];
  /** Publish → visible in each sink, ms: when the read that found the row answered. */
  cassandraMs: number[];
  clickhouseMs: number[];
  /** Publish → the processor issued the row's Cassandra write (its writetime), ms: exact. */
  cassandraIssuedMs: number[];
  /** Publish → visible in Cassandra, lower bound: the later of write issued and the last miss. */
  cassandraLowerMs: number[];
  /** Per sample, found-read answered minus last missing read sent: how coarse each figure is. */
  cassandraResolutionMs: number[];
  clickhouseResolutionMs: number[];
  /** Reads of the check that failed (and were retried). */
  cassandraReadErrors: string[];
  clickhouseReadErrors: string[];
  /** Publish → JetStream acknowledged the publish, ms (the followed events). */
  publishAckMs: number[];
  published: number;
  missing: number;
}

interface Followed {
  sent: number;
  /** When the last read that did not find the row was sent, per sink. */
  missedCassandra: number;
  missedClickHouse: number;
  cassandraAt?: number;
  clickhouseAt?: number;
}

/** At most this many ids per visibility query. */
const MAX_IDS = 500;

export async function measureLatency(
  nc: NatsConnection,
  cql: cassandra.Client,
  ch: ClickHouseClient,
  o: LatencyOptions,
): Promise<LatencyResult> {
  // The publishing side shares a core with NATS, ClickHouse and the processor: it publishes the way
  // ingest does (async publisher, ingest's headers), not through JetStreamClient.publish, whose
  // per-message timers and promises cost several times more.
  // A loaded machine may take seconds to confirm a publish; the default 5 s ended runs.
  const publisher = new JetStreamAsyncPublisher(nc, 30_000);
  const outstanding = new Map<string, Followed>();
  const r: LatencyResult = {
    latenciesMs: [],
    cassandraMs: [],
    cassandraIssuedMs: [],
    cassandraLowerMs: [],
    clickhouseMs: [],
    cassandraResolutionMs: [],
    clickhouseResolutionMs: [],
    publishAckMs: [],
    cassandraReadErrors: [],
    clickhouseReadErrors: [],
    published: 0,
    missing: 0,
  };
  let publishing = true;
  // Set when publishing failed: the pollers stop, so the error that ended the run is the one
  // reported (and not a query on a client the caller has shut down since).
  let failed = false;
  const done = (id: string, s: Followed, now: number) => {
    if (s.cassandraAt !== undefined && s.clickhouseAt !== undefined) {
      r.latenciesMs.push(Math.max(s.cassandraAt, s.clickhouseAt) - s.sent);
      outstanding.delete(id);
    } else if (!publishing && now - s.sent > 30_000) {
      outstanding.delete(id);
    }
  };
  // One poller per sink: asks for the followed rows that sink has not shown yet, every `everyMs`.
  const poll = async (
    everyMs: number,
    sink: {
      unseen: (s: Followed) => boolean;
      /** The ids found, each with what the sink says about its row (Cassandra: its writetime). */
      query: (ids: string[]) => Promise<Map<string, number>>;
      missed: (s: Followed, sentAt: number) => void;
      found: (s: Followed, answeredAt: number, extra: number) => void;
      /** Reads that failed (timed out): retried at the next poll, counted in the result. */
      errors: string[];
    },
  ) => {
    while (!failed && (publishing || outstanding.size)) {
      await new Promise((res) => setTimeout(res, everyMs));
      const ids: string[] = [];
      for (const [id, s] of outstanding) {
        if (sink.unseen(s)) ids.push(id);
        if (ids.length === MAX_IDS) break;
      }
      if (!ids.length) continue;
      const sentAt = Date.now();
      let seen: Map<string, number>;
      try {
        seen = await sink.query(ids);
      } catch (err) {
        // A read the loaded server did not answer in time says nothing about the rows: ask again.
        sink.errors.push(err instanceof Error ? err.message : String(err));
        continue;
      }
      const answeredAt = Date.now();
      for (const id of ids) {
        const s = outstanding.get(id);
        if (s === undefined) continue;
        const extra = seen.get(id);
        if (extra !== undefined) sink.found(s, answeredAt, extra);
        else sink.missed(s, sentAt);
        done(id, s, answeredAt);
      }
    }
  };
  const cassandraQuery = `SELECT id, writetime(type) AS wt FROM ${o.cassandraTable} WHERE id IN ?`;
  const pollers = Promise.all([
    poll(o.cassandraPollMs, {
      errors: r.cassandraReadErrors,
      unseen: (s) => s.cassandraAt === undefined,
      query: (ids) =>
        cql
          .execute(cassandraQuery, [ids], { prepare: true })
          .then(
            (rs) => new Map(rs.rows.map((row) => [row.get('id') as string, Number(row.get('wt')) / 1000])),
          ),
      missed: (s, sentAt) => {
        s.missedCassandra = sentAt;
      },
      found: (s, answeredAt, issuedAt) => {
        s.cassandraAt = answeredAt;
        r.cassandraMs.push(answeredAt - s.sent);
        r.cassandraIssuedMs.push(issuedAt - s.sent);
        r.cassandraLowerMs.push(Math.max(issuedAt, s.missedCassandra) - s.sent);
        r.cassandraResolutionMs.push(answeredAt - s.missedCassandra);
      },
    }),
    poll(o.clickhousePollMs, {
      errors: r.clickhouseReadErrors,
      unseen: (s) => s.clickhouseAt === undefined,
      query: (ids) =>
        ch
          .query({
            query: `SELECT id FROM ${o.clickhouseTable} WHERE id IN (${ids.map((i) => `'${i}'`).join(',')})`,
            format: 'JSONEachRow',
          })
          .then((res) => res.json<{ id: string }>())
          .then((rows) => new Map(rows.map((row) => [row.id, 0]))),
      missed: (s, sentAt) => {
        s.missedClickHouse = sentAt;
      },
      found: (s, answeredAt) => {
        s.clickhouseAt = answeredAt;
        r.clickhouseMs.push(answeredAt - s.sent);
        r.clickhouseResolutionMs.push(answeredAt - s.missedClickHouse);
      },
    }),
  ]);
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
    await pollers.catch(() => undefined);
    throw err;
  } finally {
    publisher.close();
  }
  publishing = false;
  await pollers;
  r.published = total;
  r.missing = Math.ceil(total / o.sampleEvery) - r.latenciesMs.length;
  return r;

  async function publishAll(): Promise<void> {
    while (sent < total) {
      const due = Math.min(total, Math.floor(((Date.now() - start) / tickMs + 1) * perTick));
      for (; sent < due; sent++) {
        const now = Date.now();
        const e = shopEvent(o.run, sent, now);
        const m = toNatsMessage(e, o.prefix);
        const followed = sent % o.sampleEvery === 0;
        pending.push(
          publisher.publish(m.subject, m.body, eventHeaders(m.msgId, o.stream)).then(
            () => {
              if (followed) r.publishAckMs.push(Date.now() - now);
            },
            (err: unknown) => {
              publishError ??= { err };
            },
          ),
        );
        if (followed) outstanding.set(e.id, { sent: now, missedCassandra: now, missedClickHouse: now });
      }
      if (pending.length > 2000) await Promise.all(pending.splice(0));
      if (publishError) throw publishError.err;
      await new Promise((res) => setTimeout(res, tickMs));
    }
    await Promise.all(pending);
    if (publishError) throw publishError.err;
  }
}
