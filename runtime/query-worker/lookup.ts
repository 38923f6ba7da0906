// A lookup table (spec.tables) as the query workers read it: before a fetched batch goes into a
// lookup-join query, each input gets the row of its key in `input.rows[table]`. Rows (and keys
// found missing) are cached for `cache.ttl`, at most `cache.maxEntries` of them, least recently
// used first out (lru-cache); the keys the cache lacks are read together, distinct, with at most
// `concurrency` reads in flight. A read that fails throws a LookupError: the caller naks the batch
// and tries again later — no input goes in without its row.
import { LRUCache } from 'lru-cache';
import { Counter, type Registry } from 'prom-client';
import { EventrunnerError } from '../common/errors.js';
import { errorMessage } from '../sinks/index.js';
import type { CompiledQuery, QueryInput } from '../queries/index.js';
import type { Row, TableReader } from './table-readers.js';

export const LookupErrorCode = 'QUERY_LOOKUP_FAILED';

/** Reading a batch's rows failed; transient: the batch is nak'ed and read again. */
export class LookupError extends EventrunnerError {
  constructor(
    readonly table: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(LookupErrorCode, `lookup in table ${table}: ${message}`, options);
    this.name = 'LookupError';
  }
}

export function isLookupError(err: unknown): err is LookupError {
  return err instanceof LookupError;
}

export interface LookupCacheOptions {
  ttlMs: number;
  /** 0: no cache, every key is read. */
  maxEntries: number;
  /** The clock TTLs are measured with (ms); default performance.now(). */
  now?: () => number;
}

/** What the lookups did, per table; counted into the worker's metrics. */
export interface LookupMetrics {
  hits: Counter<'table'>;
  reads: Counter<'table'>;
  failures: Counter<'table'>;
}

export function lookupMetrics(registry: Registry): LookupMetrics {
  return {
    hits: new Counter({
      name: 'eventrunner_query_lookup_cache_hits_total',
      help: 'Lookup-join keys answered from the table cache.',
      labelNames: ['table'],
      registers: [registry],
    }),
    reads: new Counter({
      name: 'eventrunner_query_lookup_reads_total',
      help: 'Lookup-join keys read from the table’s database (cache misses).',
      labelNames: ['table'],
      registers: [registry],
    }),
    failures: new Counter({
      name: 'eventrunner_query_lookup_failures_total',
      help: 'Batches whose lookups failed and were nak’ed for redelivery.',
      labelNames: ['table'],
      registers: [registry],
    }),
  };
}

/** A cached answer: the row, or null for a key the table does not hold. */
interface Cached {
  row: Row | null;
}

/** The cache key of a key value: its type and text, so that 42 and "42" stay apart. */
const cacheKey = (v: unknown) => (typeof v === 'string' ? `s${v}` : `j${JSON.stringify(v)}`);

export class LookupTable {
  private readonly cache: LRUCache<string, Cached> | undefined;

  constructor(
    readonly name: string,
    private readonly reader: TableReader,
    cache: LookupCacheOptions,
    private readonly metrics?: LookupMetrics,
  ) {
    this.cache =
      cache.maxEntries > 0
        ? new LRUCache<string, Cached>({
            max: cache.maxEntries,
            ttl: Math.max(1, cache.ttlMs),
            ...(cache.now ? { perf: { now: cache.now }, ttlResolution: 0 } : {}),
          })
        : undefined;
  }

  /** Cached entries now (expired ones may still count until touched). */
  get size(): number {
    return this.cache?.size ?? 0;
  }

  /**
   * Sets `input.rows[table]` on every input: the row of its key, or null (no row, or a NULL key).
   * Throws LookupError when the database cannot answer; then no input is changed.
   */
  async fill(inputs: readonly QueryInput[], lookup: NonNullable<CompiledQuery['lookup']>): Promise<void> {
    const keys = inputs.map((i) => lookup.keyOf(i));
    const answers = new Map<string, Row | null>();
    const missing = new Map<string, unknown>();
    let keyed = 0;
    for (const k of keys) {
      if (k === undefined || k === null) continue;
      keyed++;
      const ck = cacheKey(k);
      if (answers.has(ck) || missing.has(ck)) continue;
      const cached = this.cache?.get(ck);
      if (cached) answers.set(ck, cached.row);
      else missing.set(ck, k);
    }
    // Inputs answered without a read of their own: from the cache, or by another input's read.
    const hits = keyed - missing.size;
    if (missing.size) {
      let rows: (Row | null)[];
      try {
        rows = await this.reader.read([...missing.values()]);
      } catch (err) {
        this.metrics?.failures.inc({ table: this.name });
        throw new LookupError(this.name, errorMessage(err), { cause: err });
      }
      let i = 0;
      for (const ck of missing.keys()) {
        const row = rows[i++] ?? null;
        answers.set(ck, row);
        this.cache?.set(ck, { row });
      }
    }
    if (hits) this.metrics?.hits.inc({ table: this.name }, hits);
    if (missing.size) this.metrics?.reads.inc({ table: this.name }, missing.size);
    inputs.forEach((input, i) => {
      const k = keys[i];
      const row = k === undefined || k === null ? null : (answers.get(cacheKey(k)) ?? null);
      input.rows = { ...input.rows, [this.name]: row };
    });
  }

  close(): Promise<void> {
    return this.reader.close();
  }
}
