// `npm run bench -- queries lookup [--rows N] [--events N] [--hit-rate 0.95] [--runs N] [--concurrency N]`:
// a lookup join as the query workers run it (runtime/query-worker/lookup.ts) against a Cassandra
// table of --rows rows, in the same run as raw prepared reads of the same table. Both read the
// same key sequence, in batches of 1,000 (a worker's fetch):
//   - raw: one prepared single-partition SELECT per event, --concurrency in flight (the worker's
//     reader with no cache);
//   - lookup join: the worker's LookupTable (cache TTL 10 minutes, --rows entries) filling each
//     batch's rows, then the compiled LEFT JOIN query's partition state pushing the batch.
// The key sequence gives the cache --hit-rate: each event names a key never named before with
// probability 1 − hit rate, else one already named. Cassandra: the stack's when
// EVENTRUNNER_STACK_ENV names its env.json, else one started here. Medians of --runs; progress on
// stderr, one JSON line last on stdout.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import cassandra from 'cassandra-driver';
import { Registry } from 'prom-client';
import { compileQuery, type QueryInput } from '../../runtime/queries/index.js';
import { LookupTable, lookupMetrics } from '../../runtime/query-worker/lookup.js';
import { openTableReader } from '../../runtime/query-worker/table-readers.js';
import { cassandraCredentials, startCassandra, type CassandraServer } from '../../test/stack/cassandra.js';
import { median } from '../pipeline/measure.js';

const log = (m: string) => process.stderr.write(`[bench queries lookup] ${m}\n`);
const BATCH = 1000;
const KEYSPACE = 'bench_lookup';
const TABLE = 'customers';

interface Target {
  contactPoint: string;
  localDataCenter: string;
  username: string;
  password: string;
  stop?: () => Promise<void>;
}

async function cassandraTarget(): Promise<Target> {
  const envFile = process.env.EVENTRUNNER_STACK_ENV;
  if (envFile) {
    const env = JSON.parse(readFileSync(envFile, 'utf8')) as { cassandra?: Omit<Target, 'stop'> };
    if (env.cassandra) return env.cassandra;
  }
  log('starting Cassandra');
  const server: CassandraServer = await startCassandra('cassandra-bench-lookup');
  return { ...server, ...cassandraCredentials, stop: () => server.stop() };
}

/** Keys for `events` events: a new key with probability 1 − hitRate, else one named before. */
function keySequence(events: number, rows: number, hitRate: number): string[] {
  let seed = 7;
  const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296;
  const named: string[] = [];
  const out: string[] = [];
  for (let i = 0; i < events; i++) {
    if (named.length === 0 || (rnd() >= hitRate && named.length < rows)) {
      named.push(`c${named.length}`);
      out.push(named.at(-1)!);
    } else out.push(named[Math.floor(rnd() * named.length)]!);
  }
  return out;
}

function inputs(keys: string[], run: number): QueryInput[] {
  return keys.map((k, i) => ({
    source: 'orders',
    seq: i + 1,
    event: {
      specversion: '1.0',
      id: `r${run}-${i}`,
      source: '/shop',
      type: 'order',
      time: new Date(Date.UTC(2026, 0, 1) + i).toISOString(),
      data: { customer: k, amount: i % 100 },
    },
  }));
}

const QUERY = compileQuery(
  {
    name: 'enriched',
    sql: `SELECT o.id AS order_id, o.data.amount AS amount, c.name AS name, c.tier AS tier
          FROM orders o LEFT JOIN customers AS c ON o.data.customer = c.customer_id`,
  },
  {
    namespace: 'bench',
    pipeline: 'lookup',
    sources: ['orders'],
    tables: [{ name: 'customers', key: 'customer_id' }],
  },
);

export async function lookupBench(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      rows: { type: 'string', default: '100000' },
      events: { type: 'string', default: '100000' },
      'hit-rate': { type: 'string', default: '0.95' },
      runs: { type: 'string', default: '3' },
      concurrency: { type: 'string', default: '32' },
    },
  });
  const rows = Number(values.rows);
  const events = Number(values.events);
  const hitRate = Number(values['hit-rate']);
  const runs = Number(values.runs);
  const concurrency = Number(values.concurrency);
  const target = await cassandraTarget();
  const admin = new cassandra.Client({
    contactPoints: [target.contactPoint],
    localDataCenter: target.localDataCenter,
    credentials: { username: target.username, password: target.password },
  });
  try {
    await admin.connect();
    await admin.execute(
      `CREATE KEYSPACE IF NOT EXISTS ${KEYSPACE} WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}`,
    );
    await admin.execute(
      `CREATE TABLE IF NOT EXISTS ${KEYSPACE}.${TABLE} (customer_id text PRIMARY KEY, name text, tier int)`,
    );
    log(`writing ${rows} rows`);
    await cassandra.concurrent.executeConcurrent(
      admin,
      `INSERT INTO ${KEYSPACE}.${TABLE} (customer_id, name, tier) VALUES (?, ?, ?)`,
      Array.from({ length: rows }, (_, i) => [`c${i}`, `customer ${i}`, i % 5]),
      { concurrencyLevel: 256 },
    );
    const keys = keySequence(events, rows, hitRate);
    const sink = {
      scylla: {
        contactPoints: [target.contactPoint],
        localDataCenter: target.localDataCenter,
        keyspace: KEYSPACE,
        table: TABLE,
        consistency: 'LOCAL_ONE' as const,
        manageSchema: false,
        replicationFactor: 1,
      },
    };
    const credentials = { username: target.username, password: target.password };
    const open = () => openTableReader(sink, credentials, { key: 'customer_id', concurrency });
    const raw: number[] = [];
    const joined: number[] = [];
    const hitRates: number[] = [];
    let results = 0;
    for (let run = 0; run < runs; run++) {
      // Raw prepared reads: every event's key read, no cache.
      const reader = open();
      await reader.read(['c0']); // connect and prepare outside the clock
      let t = performance.now();
      for (let i = 0; i < keys.length; i += BATCH) await reader.read(keys.slice(i, i + BATCH));
      raw.push(events / ((performance.now() - t) / 1000));
      await reader.close();

      // The lookup join: cache, reads of the misses, and the engine.
      const registry = new Registry();
      const metrics = lookupMetrics(registry);
      const table = new LookupTable('customers', open(), { ttlMs: 600_000, maxEntries: rows }, metrics);
      const state = QUERY.createState();
      const all = inputs(keys, run);
      // Connect and prepare outside the clock, with the first event.
      await table.fill([all[0]!], QUERY.lookup!);
      results = state.push([all[0]!]).results.length;
      t = performance.now();
      for (let i = 1; i < all.length; i += BATCH) {
        const batch = all.slice(i, i + BATCH);
        await table.fill(batch, QUERY.lookup!);
        results += state.push(batch).results.length;
      }
      joined.push((events - 1) / ((performance.now() - t) / 1000));
      const hits = (await metrics.hits.get()).values[0]?.value ?? 0;
      const reads = (await metrics.reads.get()).values[0]?.value ?? 0;
      hitRates.push(hits / (hits + reads));
      await table.close();
      log(
        `run ${run + 1}: raw ${Math.round(raw.at(-1)!)} events/s, lookup join ${Math.round(joined.at(-1)!)} events/s, hit rate ${hitRates.at(-1)!.toFixed(3)}`,
      );
    }
    const summary = {
      bench: 'queries-lookup',
      rows,
      events,
      runs,
      concurrency,
      rawPreparedReadsPerSecond: Math.round(median(raw)),
      lookupJoinEventsPerSecond: Math.round(median(joined)),
      ratio: Math.round((median(joined) / median(raw)) * 100) / 100,
      cacheHitRate: Math.round(median(hitRates) * 1000) / 1000,
      resultRows: results,
    };
    process.stdout.write(`${JSON.stringify(summary)}\n`);
  } finally {
    await admin.execute(`DROP KEYSPACE IF EXISTS ${KEYSPACE}`).catch(() => undefined);
    await admin.shutdown();
    await target.stop?.();
  }
}
