// The ClickHouse sink sends rows as TabSeparated when its columns allow it, JSONEachRow otherwise.
// Against the stack's real ClickHouse: the same events written both ways give the same rows, value
// for value (escapes, nulls, every typed column but decimal), and the same rejections; a Sink
// with a decimal column stays on JSONEachRow.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { openClickHouseSink, type ClickHouseSink } from '../../../runtime/sinks/clickhouse.js';
import { isRowRejectedError, type ColumnSpec, type SinkEvent } from '../../../runtime/sinks/index.js';
import { clickhouseEnv } from '../../stack/context.js';

const columns: ColumnSpec[] = [
  { name: 'qty', type: 'int', from: '/data/qty' },
  { name: 'price', type: 'double', from: '/data/price' },
  { name: 'big', type: 'bigint', from: '/data/big' },
  { name: 'paid', type: 'boolean', from: '/data/paid' },
  { name: 'placed', type: 'timestamp', from: '/data/placed' },
  { name: 'day', type: 'date', from: '/data/day' },
  { name: 'customer', type: 'uuid', from: '/data/customer' },
  { name: 'tags', type: 'json', from: '/data/tags' },
  { name: 'note', type: 'text', from: '/data/note' },
];

/** Text that needs escaping in one format or the other, and text that needs none. */
const texts = [
  'plain',
  'tab\there',
  'line\nbreak',
  'carriage\rreturn',
  'back\\slash \\t \\N',
  'nul\0byte',
  'quote " and \' apostrophe',
  'ünïcödé 漢字 😀',
  '\\',
  '',
];

function events(prefix: string): SinkEvent[] {
  return texts.map((text, i) => ({
    specversion: '1.0',
    id: `${prefix}-${i}-${text.slice(0, 3)}`,
    type: `com.shop.${text}`,
    source: `/shop/${text}`,
    ...(i % 3 === 0 ? {} : { subject: text }),
    ...(i % 4 === 1
      ? {}
      : { time: i % 2 ? '2024-03-01T12:00:00+02:00' : `2024-03-0${(i % 9) + 1}T10:00:00.123Z` }),
    ...(i === 5
      ? {}
      : {
          data: {
            qty: i % 2 ? -i : 2147483647,
            price: [0.1, 1e21, -2.5e-7, 3][i % 4],
            big: i % 2 ? '-9223372036854775808' : '9007199254740993',
            paid: i % 2 === 0,
            placed: i % 3 ? '2024-03-01T10:00:00.5Z' : 1709287200000,
            day: '2024-02-29',
            customer: i % 2 ? '123E4567-E89B-12D3-A456-426614174000' : null,
            tags: ['a', text, { n: i }],
            note: i === 7 ? undefined : text,
          },
        }),
  }));
}

describe('ClickHouse sink rows as TabSeparated', () => {
  const s = {} as { ch: ClickHouseClient; database: string; tsv: ClickHouseSink; json: ClickHouseSink };
  const spec = (table: string) => ({
    url: clickhouseEnv().url,
    database: s.database,
    table,
    manageSchema: true,
  });

  beforeAll(async () => {
    s.ch = createClient({ url: clickhouseEnv().url });
    s.database = `tsv_${randomUUID().slice(0, 8)}`;
    s.tsv = await openClickHouseSink(spec('tsv'), columns, undefined);
    s.json = await openClickHouseSink(spec('json'), columns, undefined, { tabSeparated: false });
  });

  afterAll(async () => {
    await s.tsv?.close();
    await s.json?.close();
    await s.ch?.command({ query: `DROP DATABASE IF EXISTS ${s.database}` });
    await s.ch?.close();
  });

  const rows = async (table: string) =>
    (
      await s.ch.query({
        query:
          `SELECT id, type, source, subject, toString(time) AS time, time_text, data, qty, price, ` +
          `toString(big) AS big, paid, toString(placed) AS placed, toString(day) AS day, ` +
          `toString(customer) AS customer, tags, note FROM ${s.database}.${table} ORDER BY id`,
        format: 'JSONEachRow',
      })
    ).json<Record<string, unknown>>();

  it('stores the same rows as JSONEachRow', async () => {
    expect(s.tsv.format).toBe('TabSeparated');
    expect(s.json.format).toBe('JSONEachRow');
    const batch = events('e');
    expect(await s.tsv.write(batch)).toEqual(batch.map(() => undefined));
    expect(await s.json.write(batch)).toEqual(batch.map(() => undefined));
    const [tsv, json] = [await rows('tsv'), await rows('json')];
    expect(tsv).toHaveLength(batch.length);
    expect(tsv).toEqual(json);
    // Spot checks that the values are the events', not merely equal between the two tables.
    const tab = tsv.find((r) => String(r.id).startsWith('e-1-'))!;
    expect(tab).toMatchObject({ type: 'com.shop.tab\there', subject: 'tab\there', note: 'tab\there' });
    expect(tsv.find((r) => String(r.id).startsWith('e-5-'))).toMatchObject({ data: null, qty: null });
    expect(tsv.find((r) => String(r.id).startsWith('e-0-'))).toMatchObject({
      subject: null,
      big: '9007199254740993',
    });
  });

  it('rejects only the rows JSONEachRow rejects', async () => {
    const lone = 'lone \ud800 surrogate';
    const batch: SinkEvent[] = [
      { specversion: '1.0', id: 'r-ok', type: 't', source: 's', data: { note: 'fine' } },
      { specversion: '1.0', id: 'r-bad', type: 't', source: 's', data: { note: lone } },
      { specversion: '1.0', id: 'r-qty', type: 't', source: 's', data: { qty: 2 ** 31 } },
    ];
    const [tsv, json] = [await s.tsv.write(batch), await s.json.write(batch)];
    expect(tsv.map((r) => (r === undefined ? 'ok' : isRowRejectedError(r)))).toEqual(['ok', true, true]);
    expect(json.map((r) => (r === undefined ? 'ok' : isRowRejectedError(r)))).toEqual(['ok', true, true]);
    const written = async (table: string) =>
      (
        await (
          await s.ch.query({
            query: `SELECT id FROM ${s.database}.${table} WHERE id LIKE 'r-%' ORDER BY id`,
            format: 'JSONEachRow',
          })
        ).json<{ id: string }>()
      ).map((r) => r.id);
    expect(await written('tsv')).toEqual(['r-ok']);
    expect(await written('json')).toEqual(['r-ok']);
  });

  it('keeps a Sink with a decimal column on JSONEachRow', async () => {
    const sink = await openClickHouseSink(
      spec('dec'),
      [{ name: 'amount', type: 'decimal', from: '/data/amount' }],
      undefined,
    );
    try {
      expect(sink.format).toBe('JSONEachRow');
      const batch = [{ specversion: '1.0', id: 'd-1', type: 't', source: 's', data: { amount: '12.345' } }];
      expect(await sink.write(batch)).toEqual([undefined]);
      const [row] = await (
        await s.ch.query({
          query: `SELECT toString(amount) AS a FROM ${s.database}.dec`,
          format: 'JSONEachRow',
        })
      ).json<{ a: string }>();
      expect(row?.a).toBe('12.345000000');
    } finally {
      await sink.close();
    }
  });
});
