// Proof that the test stack's ClickHouse works with @clickhouse/client: a table is created, rows
// inserted as JSONEachRow and read back, and ReplacingMergeTree collapses a duplicate id.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { clickhouseEnv } from '../../stack/context.js';

describe('ClickHouse from the test stack', () => {
  let ch: ClickHouseClient;
  beforeAll(() => {
    ch = createClient({ url: clickhouseEnv().url });
  });
  afterAll(async () => {
    await ch?.close();
  });

  it('reports its version', async () => {
    const rs = await ch.query({ query: 'SELECT version() AS v', format: 'JSONEachRow' });
    const [row] = await rs.json<{ v: string }>();
    expect(row?.v).toBe(clickhouseEnv().version);
    expect(row?.v).toMatch(/^\d+\.\d+/);
  });

  it('creates a table, inserts JSONEachRow and selects, collapsing duplicates by id', async () => {
    await ch.command({ query: 'CREATE DATABASE IF NOT EXISTS proof' });
    await ch.command({
      query:
        'CREATE TABLE IF NOT EXISTS proof.events (id String, type String, amount Float64, ' +
        'ts DateTime DEFAULT now()) ENGINE = ReplacingMergeTree() ORDER BY id',
    });
    const rows = Array.from({ length: 5 }, (_, i) => ({ id: `e-${i}`, type: 'order', amount: i * 1.5 }));
    await ch.insert({ table: 'proof.events', values: rows, format: 'JSONEachRow' });
    await ch.insert({ table: 'proof.events', values: [rows[0]], format: 'JSONEachRow' });
    const rs = await ch.query({
      query: 'SELECT id, amount FROM proof.events FINAL ORDER BY id',
      format: 'JSONEachRow',
    });
    const got = await rs.json<{ id: string; amount: number }>();
    expect(got.map((r) => r.id)).toEqual(['e-0', 'e-1', 'e-2', 'e-3', 'e-4']);
    expect(got[4]?.amount).toBe(6);
  });
});
