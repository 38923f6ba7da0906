import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  compileQuery,
  fnv1a32,
  resultEvent,
  runOffline,
  type QueryInput,
} from '../../../runtime/queries/index.js';
import { jsonString, msText } from '../../../runtime/queries/ids.js';
import { BASE, CTX, at, compile } from './helpers.js';

const sha = (parts: unknown[]): string =>
  createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 32);

function kv(seq: number, s: number, k: string, id = `e${seq}`): QueryInput {
  return { source: 'orders', seq, event: { id, time: at(s), data: { k } } };
}

describe('result ids', () => {
  it('hash (namespace, pipeline, query, window bounds, key) for windows', () => {
    const out = runOffline(
      compile('SELECT count(*) AS n FROM orders WINDOW TUMBLING (SIZE 10 SECONDS) GROUP BY data.k'),
      [kv(1, 1, 'a')],
    );
    expect(out.results[0]!.id).toBe('4d00670d007a7c3f34dfafb959b3f2f3');
    expect(out.results[0]!.id).toBe(sha(['team-a', 'shop', 'q', 'window', BASE, BASE + 10_000, '["a"]']));
  });

  it('hash (namespace, pipeline, query, key, ordinal) for COUNT windows', () => {
    const out = runOffline(
      compile('SELECT count(*) AS n FROM orders WINDOW COUNT (SIZE 1) GROUP BY data.k'),
      [kv(1, 1, 'a'), kv(2, 2, 'a')],
    );
    expect(out.results.map((r) => r.id)).toEqual([
      sha(['team-a', 'shop', 'q', 'count', '["a"]', 0]),
      sha(['team-a', 'shop', 'q', 'count', '["a"]', 1]),
    ]);
  });

  it('hash (namespace, pipeline, query, event id) for rows per event', () => {
    const stateless = runOffline(compile('SELECT id FROM orders'), [kv(1, 1, 'a', 'e1')]);
    expect(stateless.results[0]!.id).toBe('a6e812bfec073537b3d7ebf4122b3c9a');
    const sliding = runOffline(compile('SELECT count(*) AS n FROM orders WINDOW SLIDING (SIZE 1 MINUTE)'), [
      kv(1, 1, 'a', 'e1'),
    ]);
    expect(sliding.results[0]!.id).toBe(sha(['team-a', 'shop', 'q', 'event', 'e1']));
  });

  it('are the documented hash for every window kind, whatever the key and event id hold', () => {
    // Quotes, backslashes, non-ASCII and astral characters, which the id text escapes as JSON does.
    const key = 'a"b\\c é 😀';
    const id = 'e"1\\ ü';
    const grouped = (w: string): string[] =>
      runOffline(compile(`SELECT count(*) AS n FROM orders WINDOW ${w} GROUP BY data.k`), [kv(1, 1, key, id)])
        .results.map((r) => r.id)
        .sort();
    const keyText = JSON.stringify([key]);
    const window = (start: number, end: number): string =>
      sha(['team-a', 'shop', 'q', 'window', BASE + start, BASE + end, keyText]);
    expect(grouped('HOPPING (SIZE 10 SECONDS, ADVANCE BY 5 SECONDS)')).toEqual(
      [window(-5000, 5000), window(0, 10_000)].sort(),
    );
    expect(grouped('SESSION (GAP 3 SECONDS)')).toEqual([window(1000, 4000)]);
    expect(grouped('SLIDING (SIZE 1 MINUTE)')).toEqual([sha(['team-a', 'shop', 'q', 'event', id])]);
    const stateless = runOffline(compile('SELECT id FROM orders'), [kv(1, 1, key, id)]);
    expect(stateless.results[0]!.id).toBe(sha(['team-a', 'shop', 'q', 'event', id]));
  });

  it('quote ids and keys in their text exactly as JSON.stringify does', () => {
    const samples = ['e1', '["k1"]', '', '"', '\\', 'a"b', 'x\u0001', '\u007f', '~', 'é', '\ud800', '😀'];
    for (const s of samples) expect(jsonString(s)).toBe(JSON.stringify(s));
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => jsonString(s) === JSON.stringify(s)),
      { numRuns: 2000 },
    );
  });

  it('write (finite) times in their text exactly as JSON.stringify does', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.integer({ min: -1e15, max: 8.64e15 }),
          fc.constantFrom(0, 99_999_999, 100_000_000, 100_000_001, 1_767_225_600_000, 2 ** 53 - 1, 2 ** 53),
          fc.integer({ min: 1, max: 90_071_992 }).map((n) => n * 1e8 + (n % 3) - 1),
          fc.double({ noNaN: true, noDefaultInfinity: true }),
        ),
        (ms) => {
          expect(msText(ms)).toBe(JSON.stringify(ms));
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('are hash-shaped: 32 lower-case hex digits', () => {
    const out = runOffline(compile('SELECT id FROM orders'), [kv(1, 1, 'a')]);
    expect(out.results[0]!.id).toMatch(/^[0-9a-f]{32}$/);
  });

  it('differ between windows, keys, queries, pipelines and namespaces, and not between runs', () => {
    const sql =
      'SELECT count(*) AS n FROM orders WINDOW HOPPING (SIZE 10 SECONDS, ADVANCE BY 5 SECONDS) GROUP BY data.k';
    const inputs = [kv(1, 1, 'a'), kv(2, 7, 'a'), kv(3, 7, 'b'), kv(4, 7, 'ab')];
    const ids = (ns: string, pipeline: string, name: string) =>
      runOffline(
        compileQuery({ name, sql }, { namespace: ns, pipeline, sources: ['orders'] }),
        inputs,
      ).results.map((r) => r.id);
    const base = ids('n', 'p', 'q');
    expect(new Set(base).size).toBe(base.length);
    expect(ids('n', 'p', 'q')).toEqual(base);
    const others = [...ids('n', 'p', 'q2'), ...ids('n', 'p2', 'q'), ...ids('n2', 'p', 'q')];
    expect(new Set([...base, ...others]).size).toBe(base.length * 4);
  });
});

describe('results as CloudEvents', () => {
  it('carry the query type, a source naming the query, the result time, id and data', () => {
    const q = compile(
      'SELECT data.k AS k, count(*) AS n FROM orders WINDOW TUMBLING (SIZE 10 SECONDS) GROUP BY data.k',
      { name: 'per-key' },
    );
    const [r] = runOffline(q, [kv(1, 1, 'a')]).results;
    expect(resultEvent(q, r!)).toEqual({
      specversion: '1.0',
      id: r!.id,
      source: '/namespaces/team-a/pipelines/shop/queries/per-key',
      type: 'shop.per-key',
      time: at(10),
      datacontenttype: 'application/json',
      data: { k: 'a', n: 1 },
    });
    const typed = compileQuery({ name: 'x', sql: 'SELECT id FROM orders', type: 'com.shop.alert' }, CTX);
    expect(resultEvent(typed, runOffline(typed, [kv(1, 1, 'a')]).results[0]!).type).toBe('com.shop.alert');
  });
});

describe('partitioning', () => {
  const reference = (s: string): number => {
    let h = 0x811c9dc5;
    for (const b of Buffer.from(s, 'utf8')) h = Math.imul(h ^ b, 0x01000193);
    return h >>> 0;
  };

  it('hashes keys with FNV-1a over UTF-8', () => {
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
    for (const s of ['["DE"]', 'é', '日本', '😀', 'a\ud800b', '[1,null]'])
      expect(fnv1a32(s), s).toBe(reference(s));
  });

  it('gives key text and partition from the GROUP BY values, and nothing for events WHERE rejects', () => {
    const q = compile(
      "SELECT count(*) AS n FROM orders WHERE data.k <> 'skip' WINDOW TUMBLING (SIZE 1 MINUTE) GROUP BY data.k, data.n",
    );
    const input = (data: Record<string, unknown>): QueryInput => ({
      source: 'orders',
      seq: 1,
      event: { id: 'x', data },
    });
    expect(q.keyOf(input({ k: 'a', n: 1 }))).toBe('["a",1]');
    expect(q.keyOf(input({ k: 'a' }))).toBe('["a",null]');
    expect(q.keyOf(input({ k: 'skip', n: 1 }))).toBeUndefined();
    expect(q.partitionOf('["a",1]', 16)).toBe(fnv1a32('["a",1]') % 16);
    expect(q.partitionOf('anything', 1)).toBe(0);
    expect(() => q.partitionOf('x', 0)).toThrow(RangeError);
    expect(compile('SELECT count(*) AS n FROM orders WINDOW TUMBLING (SIZE 1 MINUTE)').keyOf(input({}))).toBe(
      '',
    );
    expect(compile('SELECT id FROM orders').keyOf(input({}))).toBe('');
  });
});
