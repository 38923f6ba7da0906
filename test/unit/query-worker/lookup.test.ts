// The query workers' lookup tables without a database: a TableReader over rows held here (the
// database readers themselves are tested against the stack's Cassandra and ClickHouse). Rows and
// missing keys are cached for the TTL and up to maxEntries; a batch reads each missing key once;
// a failed read changes no input and throws a LookupError; LEFT and inner joins over what was
// filled in give NULLs and no row.
import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { compileQuery, type QueryInput } from '../../../runtime/queries/index.js';
import type { LookupError } from '../../../runtime/query-worker/lookup.js';
import { LookupTable, isLookupError, lookupMetrics } from '../../../runtime/query-worker/lookup.js';
import { jsonValue, type Row, type TableReader } from '../../../runtime/query-worker/table-readers.js';

/** Rows by key, and every read it was asked for. */
class HeldRows implements TableReader {
  reads: unknown[][] = [];
  failing = false;
  constructor(readonly rows: Map<unknown, Row>) {}
  read(keys: readonly unknown[]): Promise<(Row | null)[]> {
    this.reads.push([...keys]);
    if (this.failing) return Promise.reject(new Error('connection refused'));
    return Promise.resolve(keys.map((k) => this.rows.get(k) ?? null));
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

const ctx = {
  namespace: 'ns',
  pipeline: 'pl',
  sources: ['orders'],
  tables: [{ name: 'customers', key: 'id' }],
};
const query = (join: 'JOIN' | 'LEFT JOIN') =>
  compileQuery(
    {
      name: 'enriched',
      sql: `SELECT o.id AS order_id, c.name AS name FROM orders o ${join} customers AS c ON o.data.customer = c.id`,
    },
    ctx,
  );

let seq = 0;
const order = (customer: unknown): QueryInput => {
  seq++;
  return {
    source: 'orders',
    seq,
    event: {
      id: `o${seq}`,
      time: '2026-01-01T00:00:00.000Z',
      data: customer === undefined ? {} : { customer },
    },
  };
};

function table(rows: [unknown, string][], opts: { ttlMs?: number; maxEntries?: number } = {}) {
  let now = 1_000_000; // lru-cache reads a start time of 0 as "none"
  const reader = new HeldRows(new Map(rows.map(([k, name]) => [k, { id: k, name }])));
  const registry = new Registry();
  const t = new LookupTable(
    'customers',
    reader,
    { ttlMs: opts.ttlMs ?? 60_000, maxEntries: opts.maxEntries ?? 100, now: () => now },
    lookupMetrics(registry),
  );
  const metric = async (name: string) =>
    (await registry.getSingleMetric(name)!.get()).values.find((v) => v.labels.table === 'customers')?.value ??
    0;
  return { t, reader, metric, advance: (ms: number) => (now += ms) };
}

describe('lookup table', () => {
  const lookup = query('LEFT JOIN').lookup!;

  it('fills each input with its key’s row, reading each missing key once per batch', async () => {
    const { t, reader, metric } = table([
      ['c1', 'Ada'],
      ['c2', 'Ben'],
    ]);
    const batch = [order('c1'), order('c2'), order('c1'), order('c9'), order(undefined)];
    await t.fill(batch, lookup);
    expect(batch.map((i) => i.rows)).toEqual([
      { customers: { id: 'c1', name: 'Ada' } },
      { customers: { id: 'c2', name: 'Ben' } },
      { customers: { id: 'c1', name: 'Ada' } },
      { customers: null },
      { customers: null },
    ]);
    expect(reader.reads).toEqual([['c1', 'c2', 'c9']]);
    // Keys found and keys found missing are both cached.
    await t.fill([order('c1'), order('c9')], lookup);
    expect(reader.reads).toHaveLength(1);
    expect(await metric('eventrunner_query_lookup_reads_total')).toBe(3);
    expect(await metric('eventrunner_query_lookup_cache_hits_total')).toBe(1 + 2);
  });

  it('reads a key again once its TTL has passed, and sees the new row', async () => {
    const { t, reader, advance } = table([['c1', 'Ada']], { ttlMs: 1000 });
    await t.fill([order('c1')], lookup);
    reader.rows.set('c1', { id: 'c1', name: 'Ada Lovelace' });
    advance(999);
    const before = [order('c1')];
    await t.fill(before, lookup);
    expect(before[0]!.rows).toEqual({ customers: { id: 'c1', name: 'Ada' } });
    advance(2);
    const after = [order('c1')];
    await t.fill(after, lookup);
    expect(after[0]!.rows).toEqual({ customers: { id: 'c1', name: 'Ada Lovelace' } });
    expect(reader.reads).toEqual([['c1'], ['c1']]);
  });

  it('keeps at most maxEntries rows, the least recently used going first, and none with 0', async () => {
    const { t, reader } = table(
      [
        ['a', 'A'],
        ['b', 'B'],
        ['c', 'C'],
      ],
      { maxEntries: 2 },
    );
    await t.fill([order('a'), order('b')], lookup);
    await t.fill([order('a')], lookup); // a is now the most recent
    await t.fill([order('c')], lookup); // evicts b
    expect(t.size).toBe(2);
    await t.fill([order('a'), order('b')], lookup);
    expect(reader.reads).toEqual([['a', 'b'], ['c'], ['b']]);

    const none = table([['a', 'A']], { maxEntries: 0 });
    await none.t.fill([order('a')], lookup);
    await none.t.fill([order('a')], lookup);
    expect(none.reader.reads).toEqual([['a'], ['a']]);
  });

  it('keeps 42 and "42" apart', async () => {
    const { t } = table([
      [42, 'number'],
      ['42', 'text'],
    ]);
    const batch = [order(42), order('42')];
    await t.fill(batch, lookup);
    expect(batch.map((i) => (i.rows!.customers as Row).name)).toEqual(['number', 'text']);
  });

  it('throws a LookupError naming the table and changes no input when the database fails', async () => {
    const { t, reader, metric } = table([['c1', 'Ada']]);
    reader.failing = true;
    const batch = [order('c1')];
    const err = await t.fill(batch, lookup).catch((e: unknown) => e);
    expect(isLookupError(err)).toBe(true);
    expect((err as LookupError).message).toBe('lookup in table customers: connection refused');
    expect((err as LookupError).code).toBe('QUERY_LOOKUP_FAILED');
    expect(batch[0]!.rows).toBeUndefined();
    expect(await metric('eventrunner_query_lookup_failures_total')).toBe(1);
    // Nothing was cached from the failed read.
    reader.failing = false;
    await t.fill(batch, lookup);
    expect(batch[0]!.rows).toEqual({ customers: { id: 'c1', name: 'Ada' } });
  });
});

describe('lookup joins over filled inputs', () => {
  it('gives NULLs for a missing row in a LEFT JOIN and no row in an inner JOIN', async () => {
    for (const [join, want] of [
      ['LEFT JOIN', [['Ada'], [null], [null]]],
      ['JOIN', [['Ada']]],
    ] as const) {
      const q = query(join);
      const { t } = table([['c1', 'Ada']]);
      const batch = [order('c1'), order('c9'), order(undefined)];
      await t.fill(batch, q.lookup!);
      const out = q.createState().push(batch);
      expect(out.results.map((r) => [r.data.name])).toEqual(want);
    }
  });
});

describe('database values as JSON', () => {
  it('parses the data column of a Sink’s table and turns dates into RFC 3339', () => {
    expect(jsonValue('data', '{"tier":2}')).toEqual({ tier: 2 });
    expect(jsonValue('data', 'not json')).toBe('not json');
    expect(jsonValue('name', '{"a":1}')).toBe('{"a":1}');
    expect(jsonValue('at', new Date(Date.UTC(2026, 0, 2)))).toBe('2026-01-02T00:00:00.000Z');
    expect(jsonValue('x', undefined)).toBeNull();
  });
});
