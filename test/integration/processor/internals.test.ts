// The library fast paths against the stack's real Cassandra and NATS: with every fast path on,
// switched off, written for another driver version, or with an internal file moved (injected
// through FastPaths' pins and loadContext), the sink and the pull loop write the same rows and
// settle every message; each path that falls back says so in one log line (read from a real
// stream) and counts its fallbacks in the metrics.
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import cassandra from 'cassandra-driver';
import { Registry } from 'prom-client';
import { jetstream, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { createLogger } from '../../../runtime/common/logger.js';
import type { CloudEvent } from '../../../runtime/events/index.js';
import { FastPaths, type FastPathOptions } from '../../../runtime/internals/fast-paths.js';
import { defaultLoadContext, type LoadContext } from '../../../runtime/internals/guard.js';
import { ENABLED_METRIC, FALLBACKS_METRIC } from '../../../runtime/internals/metrics.js';
import { murmur3String } from '../../../runtime/internals/murmur3.js';
import { SourceLoop } from '../../../runtime/process/consume.js';
import { DeadLetterPublisher } from '../../../runtime/process/deadletter.js';
import { InFlight } from '../../../runtime/process/inflight.js';
import { processorMetrics } from '../../../runtime/process/metrics.js';
import { Replies } from '../../../runtime/process/replies.js';
import { compileRules } from '../../../runtime/rules/index.js';
import type { CassandraSink } from '../../../runtime/sinks/cassandra.js';
import {
  Batcher,
  openSink,
  type ColumnSpec,
  type Sink,
  type SinkEvent,
  type SinkSpec,
} from '../../../runtime/sinks/index.js';
import { cassandraEnv, natsEnv } from '../../stack/context.js';
import { names, natsSetup, publish } from './support.js';

const columns: ColumnSpec[] = [
  { name: 'amount', type: 'decimal', from: '/data/amount' },
  { name: 'qty', type: 'int', from: '/data/qty' },
  { name: 'big', type: 'bigint', from: '/data/big' },
  { name: 'customer', type: 'uuid', from: '/data/customer' },
  { name: 'country', type: 'text', from: '/data/country' },
];

function shopEvents(n: number): (SinkEvent & CloudEvent)[] {
  return Array.from({ length: n }, (_, i) => ({
    specversion: '1.0',
    id: `order-${i}`,
    type: 'com.shop.order.created',
    source: '/shop',
    subject: `order/${i}`,
    time: `2024-03-0${(i % 9) + 1}T10:00:00.123Z`,
    data: {
      amount: `${i}.25`,
      qty: i,
      big: '9007199254740993',
      customer: '123e4567-e89b-12d3-a456-426614174000',
      country: i % 2 ? 'DE' : 'FR',
    },
  }));
}

/** A pino logger on a real stream, and the JSON lines it wrote. */
function captureLog() {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      text += chunk.toString('utf8');
      done();
    },
  });
  return {
    log: createLogger({ name: 'internals-test', destination: stream }),
    lines: () =>
      text
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

async function metricValues(registry: Registry, name: string): Promise<Record<string, number>> {
  const metric = await registry.getSingleMetric(name)?.get();
  return Object.fromEntries((metric?.values ?? []).map((v) => [String(v.labels.path), v.value]));
}

/** Library files the driver or client no longer has where the fast paths look for them. */
function moved(...suffixes: string[]): LoadContext {
  return {
    ...defaultLoadContext,
    require: (id) => {
      if (suffixes.some((s) => id.endsWith(s)))
        throw Object.assign(new Error(`Cannot find module '${id}'`), { code: 'MODULE_NOT_FOUND' });
      return defaultLoadContext.require(id);
    },
  };
}

interface Variant {
  name: string;
  options: Omit<FastPathOptions, 'log' | 'registry'>;
}

const variants: Variant[] = [
  { name: 'on', options: {} },
  { name: 'off', options: { enabled: false } },
  { name: 'bumped', options: { pins: { 'cassandra-driver': '4.9.0', '@nats-io/jetstream': '3.3.0' } } },
  {
    name: 'moved',
    options: { loadContext: moved('lib/request-handler.js', '@nats-io/nats-core/internal') },
  },
];

/** Every row of a table, as comparable text, by id. */
async function tableRows(cql: cassandra.Client, table: string): Promise<string[]> {
  const rs = await cql.execute(`SELECT * FROM ${table}`);
  return rs.rows
    .map((r) =>
      JSON.stringify(
        Object.fromEntries(
          rs.columns.map((c) => {
            const v = r.get(c.name) as unknown;
            return [c.name, v instanceof Date ? v.toISOString() : v === null ? null : String(v)];
          }),
        ),
      ),
    )
    .sort();
}

describe('library fast paths, on and falling back', () => {
  const keyspace = `internals_${randomUUID().slice(0, 8)}`;
  const creds = () => ({ username: cassandraEnv().username, password: cassandraEnv().password });
  const spec = (table: string): SinkSpec => ({
    scylla: {
      contactPoints: [cassandraEnv().contactPoint],
      localDataCenter: cassandraEnv().localDataCenter,
      keyspace,
      table,
      consistency: 'LOCAL_QUORUM',
      manageSchema: true,
      replicationFactor: 1,
      ttl: '1h',
    },
    columns,
  });
  let cql: cassandra.Client;
  let nc: NatsConnection | undefined;
  let jsm: JetStreamManager | undefined;
  const streams: string[] = [];

  beforeAll(async () => {
    cql = new cassandra.Client({
      contactPoints: [cassandraEnv().contactPoint],
      localDataCenter: cassandraEnv().localDataCenter,
      credentials: creds(),
    });
    await cql.connect();
  });
  afterAll(async () => {
    for (const s of streams) await jsm?.streams.delete(s).catch(() => undefined);
    await nc?.close();
    await cql?.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`).catch(() => undefined);
    await cql?.shutdown();
  });

  it('the Cassandra sink writes the same rows on the direct path and on every fallback', async () => {
    const events = shopEvents(60);
    const seen: Record<string, { direct: number; lines: Record<string, unknown>[]; registry: Registry }> = {};
    for (const v of variants) {
      const { log, lines } = captureLog();
      const registry = new Registry();
      const fastPaths = new FastPaths({ ...v.options, log, registry });
      const sink = (await openSink(spec(`sink_${v.name}`), creds(), {
        concurrency: 8,
        fastPaths,
      })) as CassandraSink;
      try {
        expect(await sink.write(events)).toEqual(new Array(events.length).fill(undefined));
        // A redelivery writes the same rows again.
        expect(await sink.write(events.slice(0, 10))).toEqual(new Array(10).fill(undefined));
      } finally {
        await sink.close();
      }
      seen[v.name] = { direct: sink.execute.direct, lines: lines(), registry };
    }

    const want = await tableRows(cql, `${keyspace}.sink_on`);
    expect(want).toHaveLength(60);
    for (const v of variants) expect(await tableRows(cql, `${keyspace}.sink_${v.name}`)).toEqual(want);
    const tokens = await cql.execute(`SELECT id, token(id) AS t FROM ${keyspace}.sink_off`);
    for (const row of tokens.rows)
      expect(murmur3String(Buffer.from(row.get('id') as string))).toBe(row.get('t').toString());

    // On: the writes after the first (which prepares) go direct; nothing is logged or counted.
    expect(seen.on!.direct).toBeGreaterThanOrEqual(70 - 8);
    expect(seen.on!.lines).toEqual([]);
    expect(await metricValues(seen.on!.registry, ENABLED_METRIC)).toEqual({
      'cassandra-direct-execute': 1,
      'cassandra-murmur3-token': 1,
    });
    expect(await metricValues(seen.on!.registry, FALLBACKS_METRIC)).toEqual({});

    // Off: one line for all paths; every write and the tokenizer counted.
    expect(seen.off!.direct).toBe(0);
    expect(seen.off!.lines).toEqual([
      expect.objectContaining({
        level: 'info',
        msg: 'Library fast paths are turned off; using the libraries’ public APIs',
      }),
    ]);
    expect(await metricValues(seen.off!.registry, ENABLED_METRIC)).toEqual({
      'cassandra-direct-execute': 0,
      'cassandra-murmur3-token': 0,
    });
    expect(await metricValues(seen.off!.registry, FALLBACKS_METRIC)).toEqual({
      'cassandra-direct-execute': 70,
      'cassandra-murmur3-token': 1,
    });

    // Written for another driver version: one warning per path that touches the driver.
    expect(seen.bumped!.direct).toBe(0);
    expect(seen.bumped!.lines).toEqual([
      expect.objectContaining({ level: 'warn', path: 'cassandra-murmur3-token', reason: 'version' }),
      expect.objectContaining({
        level: 'warn',
        path: 'cassandra-direct-execute',
        reason: 'version',
        libraries: ['cassandra-driver@4.10.0 (written for 4.9.0)'],
      }),
    ]);
    expect(await metricValues(seen.bumped!.registry, FALLBACKS_METRIC)).toEqual({
      'cassandra-direct-execute': 70,
      'cassandra-murmur3-token': 1,
    });

    // The request handler's file moved: that path alone falls back; the token path stays on.
    expect(seen.moved!.direct).toBe(0);
    expect(seen.moved!.lines).toEqual([
      expect.objectContaining({
        level: 'warn',
        path: 'cassandra-direct-execute',
        reason: 'missing',
        detail: 'MODULE_NOT_FOUND',
      }),
    ]);
    expect(await metricValues(seen.moved!.registry, ENABLED_METRIC)).toEqual({
      'cassandra-direct-execute': 0,
      'cassandra-murmur3-token': 1,
    });
    expect(await metricValues(seen.moved!.registry, FALLBACKS_METRIC)).toEqual({
      'cassandra-direct-execute': 70,
    });
  });

  it('the pull loop decodes, writes and settles every message the same way on every fallback', async () => {
    const n = 120;
    const events = shopEvents(n);
    nc = undefined;
    for (const v of variants) {
      const names_ = names(`fp${v.name}`);
      const setup = await natsSetup(natsEnv().url, names_, { maxDeliver: 5, maxAckPending: 1000 });
      nc ??= setup.nc;
      jsm ??= setup.jsm;
      if (setup.nc !== nc) await setup.nc.close();
      streams.push(names_.stream, names_.dlqStream);
      await publish(nc, names_.prefix, events);

      const { log, lines } = captureLog();
      const registry = new Registry();
      const fastPaths = new FastPaths({ ...v.options, log, registry });
      const sink: Sink = await openSink(spec(`loop_${v.name}`), creds(), { concurrency: 16, fastPaths });
      const batcher = new Batcher((rows: unknown[]) => sink.writeRows(rows), {
        prepare: (e) => sink.prepare(e),
        maxRows: 50,
        maxDelayMs: 20,
        maxConcurrent: 4,
      });
      const js = jetstream(nc);
      const inFlight = new InFlight(500, () => batcher.flush());
      const loop = new SourceLoop({
        source: {
          stream: names_.stream,
          consumer: names_.consumer,
          conversion: { defaultType: 'com.shop.raw' },
        },
        consumer: await js.consumers.get(names_.stream, names_.consumer),
        rules: compileRules('', { outputs: ['store'] }),
        outputs: new Map([['store', batcher as Batcher<unknown>]]),
        deadLetter: new DeadLetterPublisher(js, names_.dlqSubject, names_.dlqStream, 'test/internals'),
        replies: new Replies(nc),
        readBack: (seq) => jsm!.streams.getMessage(names_.stream, { seq }),
        inFlight,
        delivery: { maxDeliver: 5, backoffMs: [200] },
        pullBatch: 100,
        metrics: processorMetrics(new Registry()),
        log,
        fastPaths,
      });
      const stop = new AbortController();
      const running = loop.run(stop.signal);
      try {
        // Settled: nothing left to deliver and nothing waiting for an ack.
        const deadline = Date.now() + 60_000;
        for (;;) {
          const info = await jsm!.consumers.info(names_.stream, names_.consumer);
          if (info.num_pending === 0 && info.num_ack_pending === 0 && info.delivered.stream_seq >= n) break;
          if (Date.now() > deadline)
            throw new Error(`${v.name}: consumer not settled: ${JSON.stringify(info)}`);
          await new Promise((r) => setTimeout(r, 100));
        }
      } finally {
        stop.abort();
        await running;
        await batcher.drain();
        await sink.close();
      }
      const info = await jsm!.consumers.info(names_.stream, names_.consumer);
      expect(info.ack_floor.stream_seq, v.name).toBe(n);
      expect(info.num_redelivered, v.name).toBe(0);
      expect((await jsm!.streams.info(names_.dlqStream)).state.messages, v.name).toBe(0);

      const logged = lines().filter((l) => l.level !== 'debug');
      const fallbacks = await metricValues(registry, FALLBACKS_METRIC);
      if (v.name === 'on') {
        expect(logged).toEqual([]);
        expect(fallbacks).toEqual({});
      } else if (v.name === 'off') {
        expect(logged).toEqual([expect.objectContaining({ level: 'info' })]);
        expect(fallbacks).toMatchObject({ 'nats-reply-subject': n, 'nats-raw-headers': n });
      } else {
        // Both NATS paths fall back with one warning each, whatever the reason.
        const nats = logged.filter((l) => String(l.path).startsWith('nats-'));
        expect(nats.map((l) => [l.level, l.path]).sort()).toEqual([
          ['warn', 'nats-raw-headers'],
          ['warn', 'nats-reply-subject'],
        ]);
        expect(fallbacks).toMatchObject({ 'nats-reply-subject': n, 'nats-raw-headers': n });
      }
    }
    const want = await tableRows(cql, `${keyspace}.loop_on`);
    expect(want).toHaveLength(n);
    for (const v of variants)
      expect(await tableRows(cql, `${keyspace}.loop_${v.name}`), v.name).toEqual(want);
  });
});
