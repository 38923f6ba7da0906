import { describe, expect, it } from 'vitest';
import {
  createKeyspaceCql,
  createTableCql,
  insertCql,
  compareColumns,
  cqlColumns,
} from '../../../runtime/sinks/cql.js';
import fc from 'fast-check';
import {
  chDateTime,
  createTableSql,
  encodeRow,
  encodeTsvRow,
  parseVersion,
  timeType,
  tsvEncodable,
} from '../../../runtime/sinks/clickhouse-sql.js';
import { compileColumns } from '../../../runtime/sinks/columns.js';
import type { ColumnSpec } from '../../../runtime/sinks/types.js';

const columns: ColumnSpec[] = [
  { name: 'Amount', type: 'decimal', from: '/data/amount' },
  { name: 'order', type: 'int', from: '/data/order' },
];

describe('CQL', () => {
  const spec = { keyspace: 'Shop', table: 'orders', localDataCenter: "dc'1", replicationFactor: 2 };
  it('partitions by id alone and quotes folded identifiers', () => {
    expect(createTableCql(spec, columns)).toBe(
      'CREATE TABLE IF NOT EXISTS "shop"."orders" ("id" text, "type" text, "source" text, "subject" text, ' +
        '"time" timestamp, "data" text, "amount" decimal, "order" int, PRIMARY KEY ("id"))',
    );
    expect(createKeyspaceCql(spec)).toBe(
      `CREATE KEYSPACE IF NOT EXISTS "shop" WITH replication = {'class': 'NetworkTopologyStrategy', 'dc''1': 2}`,
    );
  });
  it('adds the TTL only when set', () => {
    expect(insertCql(spec, [], 0)).toBe(
      'INSERT INTO "shop"."orders" ("id", "type", "source", "subject", "time", "data") VALUES (?, ?, ?, ?, ?, ?)',
    );
    expect(insertCql(spec, [], 3600)).toMatch(/\) USING TTL 3600$/);
  });
  it('reports missing and mismatched columns', () => {
    const live = new Map([...cqlColumns([]), ['amount', 'double']]);
    expect(compareColumns(cqlColumns(columns), live)).toEqual({
      missing: [['order', 'int']],
      mismatched: [{ name: 'amount', want: 'decimal', have: 'double' }],
    });
  });
});

describe('ClickHouse SQL', () => {
  it('chooses DateTime64 only where the server has it', () => {
    expect(timeType(parseVersion('18.16.1'))).toBe("DateTime('UTC')");
    expect(timeType(parseVersion('24.8.4.13'))).toBe("DateTime64(3, 'UTC')");
    expect(() => parseVersion('x')).toThrow();
  });
  it('creates a ReplacingMergeTree ordered by id without newer-only features', () => {
    const sql = createTableSql(
      { database: 'an', table: 'ev', url: 'http://x' },
      columns,
      parseVersion('18.16.1'),
    );
    expect(sql).toContain('ENGINE = ReplacingMergeTree() PARTITION BY toYYYYMM(time) ORDER BY id');
    expect(sql).toContain('`Amount` Nullable(Decimal(38, 9))');
    expect(sql).not.toMatch(/TTL|CODEC|LowCardinality|JSON\(/);
  });
  it('encodes rows as JSONEachRow lines with exact decimals and clamped times', () => {
    const row = compileColumns(columns).convert({
      id: 'a"b',
      type: 't',
      source: 's',
      time: '1960-01-01T00:00:00Z',
      data: { amount: '12345678901234567890.123456789', order: 3 },
    });
    const line = encodeRow(row, columns, ['Amount', 'order'], false);
    expect(line.endsWith('}\n')).toBe(true);
    expect(line).toContain('"Amount":12345678901234567890.123456789');
    expect(line).toContain('"time":"1970-01-01 00:00:00","time_text":"1960-01-01T00:00:00Z"');
    expect(JSON.parse(line)).toMatchObject({ id: 'a"b', order: 3, subject: null });
    expect(chDateTime(new Date('2024-05-06T07:08:09.010Z'), true)).toBe('2024-05-06 07:08:09.010');
    expect(chDateTime(new Date('2024-05-06T07:08:09.010Z'), false)).toBe('2024-05-06 07:08:09');
    // Beyond the four-digit years of toISOString: still the server's layout.
    expect(chDateTime(new Date(Date.UTC(10000, 0, 2, 3, 4, 5)), false)).toBe('10000-01-02 03:04:05');
  });

  it('writes the same time whether it cuts the event’s time text or formats the clamped Date', () => {
    const min = Date.UTC(1969, 0, 1);
    const max = Date.UTC(2107, 0, 1);
    const convert = compileColumns([]).convert;
    fc.assert(
      fc.property(fc.integer({ min, max }), fc.boolean(), fc.boolean(), (ms, millis, canonical) => {
        const d = new Date(ms);
        // toISOString's form takes the cut; an offset form of the same instant takes the Date.
        const text = canonical ? d.toISOString() : d.toISOString().replace('Z', '+00:00');
        const line = encodeRow(convert({ id: 'x', type: 't', source: 's', time: text }), [], [], millis);
        const clamped = new Date(Math.min(Math.max(ms, 0), Date.UTC(2105, 11, 31)));
        expect((JSON.parse(line) as { time: string }).time).toBe(chDateTime(clamped, millis));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('TabSeparated rows', () => {
  it('escape what TabSeparated reads specially and nothing else', () => {
    const specs = [
      { name: 'n', type: 'int' as const, from: '/data/n' },
      { name: 'ok', type: 'boolean' as const, from: '/data/ok' },
      { name: 't', type: 'text' as const, from: '/data/t' },
    ];
    const row = compileColumns(specs).convert({
      specversion: '1.0',
      id: 'a\tb',
      type: 'x\\y',
      source: 'l1\nl2\r\0"q"',
      time: '2024-03-01T10:00:00.123Z',
      data: { n: 7, ok: true },
    });
    expect(encodeTsvRow(row, specs, false)).toBe(
      'a\\tb\tx\\\\y\tl1\\nl2\\r\\0"q"\t\\N\t2024-03-01 10:00:00\t2024-03-01T10:00:00.123Z\t' +
        '{"n":7,"ok":true}\t7\t1\t\\N\n',
    );
    expect(tsvEncodable(specs)).toBe(true);
    expect(tsvEncodable([...specs, { name: 'd', type: 'decimal', from: '/data/d' }])).toBe(false);
  });
});
