// A fraud pattern and an interval join in the query workers over EVENTRUNNER_QUERY_EVENTS events
// (20,000 by default, 100,000 in a full-size run; harness.ts) of two streams
// (orders and payments) against the stack's NATS and ClickHouse, every processor and worker a
// real process, with query workers SIGKILLed at five random points of their progress (restarted
// under the same identity or replaced by a new one). The rows in the results table (ids and
// values) must be exactly what the offline engine computes over the same events, and no event
// may be late: the processor reads the two streams at whatever speeds it does, and the join's
// watermark is the smaller of its two sources' (docs/queries.md, Time and lateness).
import { afterAll, describe, expect, it } from 'vitest';
import { jetstreamManager } from '@nats-io/jetstream';
import type { CompiledQuery } from '../../../runtime/queries/index.js';
import type { CloudEvent } from '../../../runtime/events/index.js';
import { useStackTargets } from '../processor/stack-targets.js';
import { readDeadLetters, stopProcess, waitFor, type ProcessHandle } from '../processor/support.js';
import { QUERY_EVENTS, type QuerySpec } from './harness.js';
import { compiledQueries, joinSetup, offlineRows, resultRows, type Published } from './joins-harness.js';
import { startCli } from './support.js';

const s = useStackTargets('qpj');
const running: ProcessHandle[] = [];
afterAll(() => {
  if (process.env.QUERIES_TEST_LOGS)
    for (const p of running)
      console.log(
        p.logs
          .filter((l) => Number(l.level) >= 40 || /partition|Query worker/i.test(String(l.msg)))
          .slice(-30)
          .map((l) => JSON.stringify(l))
          .join('\n'),
        p.stderr.join('').slice(-1500),
      );
  for (const p of running)
    if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
});

async function start(command: 'process' | 'query-worker', file: string): Promise<ProcessHandle> {
  const p = await startCli(command, file);
  running.push(p);
  return p;
}

/** A seeded generator, so that a failing run's events and kill points can be replayed from its seed. */
function random(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 4294967296;
}

// Within a stream, payments are up to 20 s out of time order; the grace period covers that (and
// any reordering a retried shuffle publish brings), so that no event is late and the contract
// promises identical rows.
const QUERIES: QuerySpec[] = [
  {
    name: 'fraud',
    sql: `SELECT data.customer AS customer, f[0].time AS first_failure, count(f) AS failures,
                 sum(f.data.amount) AS failed_amount, ok.data.country AS country, ok.id AS payment
          FROM PATTERN (EVERY f=payments[type = 'com.shop.payment.failed']{3}
                        -> ok=payments[type = 'com.shop.payment.succeeded' AND data.country <> f[0].data.country])
            WITHIN 10 MINUTES GRACE PERIOD 5 MINUTES
            PARTITION BY data.customer`,
    outputs: ['results'],
    partitions: 4,
    idleTimeout: '1h',
  },
  {
    name: 'paid',
    sql: `SELECT o.id AS order_id, p.id AS payment, p.data.amount AS paid
          FROM orders o JOIN payments p WITHIN 15 SECONDS GRACE PERIOD 5 MINUTES
            ON o.subject = p.data.orderId AND p.type = 'com.shop.payment.succeeded'`,
    outputs: ['results'],
    partitions: 4,
    idleTimeout: '1h',
  },
];

const COUNTRIES = ['DE', 'FR', 'BR'];

/**
 * n orders and n payments, `step` ms apart from `base`; each payment up to 20 s after its order.
 */
function traffic(tag: string, n: number, step: number, base: number, rnd: () => number) {
  const orders: CloudEvent[] = [];
  const payments: CloudEvent[] = [];
  for (let i = 0; i < n; i++) {
    const customer = `u${Math.floor(rnd() * 400)}`;
    orders.push({
      specversion: '1.0',
      id: `${tag}-o${i}`,
      source: '/shop/web',
      type: 'com.shop.order.created',
      subject: `o${i}`,
      time: new Date(base + i * step).toISOString(),
      datacontenttype: 'application/json',
      data: { customer, amount: i % 89 },
    });
    payments.push({
      specversion: '1.0',
      id: `${tag}-p${i}`,
      source: '/pay',
      type: rnd() < 0.55 ? 'com.shop.payment.failed' : 'com.shop.payment.succeeded',
      time: new Date(base + i * step + Math.floor(rnd() * 20_000)).toISOString(),
      datacontenttype: 'application/json',
      // Every fifth payment is for an order that does not exist.
      data: {
        orderId: i % 5 === 4 ? `x${i}` : `o${i}`,
        customer,
        country: COUNTRIES[Math.floor(rnd() * 3)],
        amount: 1 + (i % 17),
      },
    });
  }
  return { orders, payments };
}

/** A day later, per customer and for some orders: every partition's watermark passes the run. */
function terminal(tag: string, time: number): { payments: CloudEvent[]; orders: CloudEvent[] } {
  const at = new Date(time).toISOString();
  return {
    payments: Array.from({ length: 400 }, (_, i) => ({
      specversion: '1.0',
      id: `${tag}-tp${i}`,
      source: '/pay',
      type: 'com.shop.payment.refunded',
      time: at,
      datacontenttype: 'application/json',
      data: { orderId: `t${i}`, customer: `u${i}` },
    })),
    orders: Array.from({ length: 64 }, (_, i) => ({
      specversion: '1.0',
      id: `${tag}-to${i}`,
      source: '/shop/web',
      type: 'com.shop.order.created',
      subject: `t-order-${i}`,
      time: at,
      datacontenttype: 'application/json',
      data: { customer: 'u0', amount: 0 },
    })),
  };
}

/** Events as inputs before they have a stream sequence (keys and partitions do not depend on it). */
const unpublished = (source: string, evs: CloudEvent[]): Published[] =>
  evs.map((event) => ({ source, event, seq: 0 }));

/** Shuffle messages the processor publishes for these inputs: one per query that keys the input. */
function shuffleCount(queries: readonly CompiledQuery[], inputs: readonly Published[]): number {
  let n = 0;
  for (const p of inputs) {
    const input = { source: p.source, seq: p.seq, event: p.event as unknown as Record<string, unknown> };
    for (const q of queries) if (q.sources.includes(p.source) && q.keyOf(input) !== undefined) n++;
  }
  return n;
}

/** Every partition of every query gets a terminal event of each source it reads. */
function coversEveryPartition(queries: readonly CompiledQuery[], inputs: readonly Published[]): string[] {
  const missing: string[] = [];
  for (const q of queries)
    for (const source of q.sources)
      for (let part = 0; part < q.partitions; part++) {
        const hit = inputs.some((p) => {
          if (p.source !== source) return false;
          const key = q.keyOf({ source, seq: p.seq, event: p.event as unknown as Record<string, unknown> });
          return key !== undefined && q.partitionOf(key, q.partitions) === part;
        });
        if (!hit) missing.push(`${q.name}/${part} ${source}`);
      }
  return missing;
}

describe('patterns and interval joins under faults', () => {
  it(`lands the offline rows of ${2 * Math.floor(QUERY_EVENTS / 2)} events while workers are SIGKILLed at five random points`, async () => {
    const seed = Date.now() % 1_000_000;
    const rnd = random(seed);
    const tag = `j${Math.random().toString(36).slice(2, 7)}`;
    const t0 = Date.now();
    const phase = (what: string) => {
      if (process.env.QUERIES_TEST_LOGS) console.log(`${((Date.now() - t0) / 1000).toFixed(1)} s ${what}`);
    };
    const st = await joinSetup(s, tag, ['orders', 'payments'], QUERIES, { lease: '5s' });
    const pipeline = st.streams.get('orders')!.consumer;
    const compiled = compiledQueries(pipeline, ['orders', 'payments'], QUERIES);
    // Half the events are orders, half payments, spread over at least 1,000 s of event time
    // whatever their number, so that each of the two chunks below spans more than the grace period.
    const N = Math.floor(QUERY_EVENTS / 2);
    const step = Math.max(20, Math.round(1_000_000 / N));
    const base = Date.now() - 7_200_000;
    const { orders, payments } = traffic(tag, N, step, base, rnd);
    const ids = ['w1', 'w2'];
    const [processor, ...workers] = await Promise.all([
      start('process', st.processorFile),
      start('query-worker', st.workerFile('w1')),
      start('query-worker', st.workerFile('w2')),
    ]);
    phase('processes ready');
    const published: Published[] = [];
    const send = async (source: 'orders' | 'payments', evs: CloudEvent[]) => {
      const seqs = await st.publish(source, evs);
      evs.forEach((event, i) => published.push({ source, event, seq: seqs[i]! }));
    };
    // Both streams in two large chunks, the orders ahead of the payments by up to a chunk, 500 s of
    // event time or more: more than the grace period, so one watermark over both streams would make
    // payments late whenever the processor reads the orders that far ahead. Each source has its
    // own: the skew delays results, only each stream's own order counts.
    const expected = shuffleCount(compiled, [
      ...unpublished('orders', orders),
      ...unpublished('payments', payments),
    ]);
    const publishing = (async () => {
      const chunks = 2;
      for (let c = 0; c < chunks; c++) {
        const part = (evs: CloudEvent[]) => evs.slice((c * N) / chunks, ((c + 1) * N) / chunks);
        await send('orders', part(orders));
        await send('payments', part(payments));
      }
      phase('traffic published');
    })();
    // Kill points by progress, not by time: when the workers have acked a random share of the
    // shuffle messages (a work-queue stream: what is acked is gone).
    const jsm = await jetstreamManager(s.nc);
    const acked = async () => {
      const { state } = await jsm.streams.info(st.shuffle.stream);
      return state.last_seq - state.messages;
    };
    const killAt = Array.from({ length: 5 }, () => Math.floor((0.05 + rnd() * 0.85) * expected)).sort(
      (a, b) => a - b,
    );
    for (const [k, at] of killAt.entries()) {
      await waitFor(async () => (await acked()) >= at, 300_000, `${at} shuffle messages acked`);
      const i = Math.floor(rnd() * workers.length);
      workers[i]!.child.kill('SIGKILL');
      await workers[i]!.exited;
      // Every other kill brings a new identity, which takes the partitions over once the leases expire.
      if (k % 2 === 1) ids[i] = `${ids[i]}x`;
      workers[i] = await start('query-worker', st.workerFile(ids[i]!));
      phase(`kill ${k + 1} at ${at} of ${expected} acked`);
    }
    await publishing;
    const last = terminal(tag, base + 86_400_000);
    expect(
      coversEveryPartition(compiled, [
        ...unpublished('orders', last.orders),
        ...unpublished('payments', last.payments),
      ]),
    ).toEqual([]);
    await send('orders', last.orders);
    await send('payments', last.payments);

    const want = offlineRows(pipeline, ['orders', 'payments'], QUERIES, published);
    for (const q of QUERIES) {
      const rows = want.get(q.name)!;
      expect(rows.size, q.name).toBeGreaterThan(q.name === 'paid' ? N / 10 : 50);
      const read = () => resultRows(s, st.resultTable, `${pipeline}.${q.name}`);
      await waitFor(async () => (await read()).size >= rows.size, 300_000, `${q.name} rows`).catch(
        async (err: Error) => {
          const late = (await readDeadLetters(s.nc, st.dlqStream)).filter((d) => d.reason === 'late');
          throw new Error(
            `${err.message}: ${(await read()).size} of ${rows.size}, ${late.length} late ` +
              `(events and kill points from seed ${seed})`,
            { cause: err },
          );
        },
      );
      expect(Object.fromEntries(await read()), `${q.name}, seed ${seed}`).toEqual(Object.fromEntries(rows));
      phase(`${q.name}: ${rows.size} rows`);
    }
    expect((await readDeadLetters(s.nc, st.dlqStream)).filter((d) => d.reason === 'late')).toEqual([]);
    for (const p of [processor!, ...workers]) expect((await stopProcess(p)).code).toBe(0);
    phase('stopped');
  }, 540_000);
});
