// The Flink SQL oracle (hack/flink, provisioned by `npm run tools`) on hand-computed cases: a
// tumbling window with an out-of-order event within grace and a late one, a hopping window's
// average, and session windows per key. All cases run in one harness process, as the differential
// tests run theirs. With CI=true a missing harness fails the run; elsewhere it skips with a note.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cacheDir } from '../../stack/paths.js';
import { FLINK_HARNESS, runFlinkCases, type FlinkCase, type FlinkResult } from './oracle.js';

const T0 = 1_700_000_000_000; // a multiple of 10 s, so windows start at T0
const s = (seconds: number) => T0 + seconds * 1000;
const provisioned = existsSync(join(cacheDir(), 'bin', FLINK_HARNESS));
if (!provisioned && !process.env.CI) {
  console.warn(`${FLINK_HARNESS} is not provisioned; run \`npm run tools\` to run the Flink oracle tests`);
}

const cases: FlinkCase[] = [
  {
    id: 'tumbling',
    graceMs: 2000,
    events: [
      { key: 'a', ts: s(1), value: 1 },
      { key: 'b', ts: s(2), value: 10 },
      { key: 'a', ts: s(9), value: 2 },
      { key: 'a', ts: s(11), value: 4 }, // watermark s(9): [s(0), s(10)) stays open
      { key: 'a', ts: s(9.5), value: 8 }, // out of order, within grace: counted
      { key: 'b', ts: s(15), value: 20 },
      { key: 'a', ts: s(25), value: 16 }, // watermark s(23) closes [s(0), s(10)) and [s(10), s(20))
      { key: 'a', ts: s(3), value: 32 }, // late: dropped
    ],
    sql:
      'SELECT key, window_start, window_end, COUNT(*) AS n, SUM(`value`) AS total ' +
      "FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(ts), INTERVAL '10' SECOND)) " +
      'GROUP BY window_start, window_end, key',
  },
  {
    id: 'hopping',
    graceMs: 0,
    events: [
      { key: 'a', ts: s(1), value: 1 },
      { key: 'a', ts: s(6), value: 2 },
      { key: 'b', ts: s(7), value: 10 },
      { key: 'a', ts: s(12), value: 4 },
    ],
    // HOP takes the slide (ADVANCE BY) before the size.
    sql:
      'SELECT key, window_start, window_end, COUNT(*) AS n, AVG(`value`) AS mean ' +
      "FROM TABLE(HOP(TABLE events, DESCRIPTOR(ts), INTERVAL '5' SECOND, INTERVAL '10' SECOND)) " +
      'GROUP BY window_start, window_end, key',
  },
  {
    id: 'session',
    graceMs: 0,
    events: [
      { key: 'a', ts: s(1) },
      { key: 'b', ts: s(2) },
      { key: 'a', ts: s(3) },
      { key: 'a', ts: s(7.5) }, // 4.5 s after the last: same session
      { key: 'b', ts: s(9) }, // 7 s after the last: a new session
      { key: 'a', ts: s(20) },
    ],
    sql:
      'SELECT key, window_start, window_end, COUNT(*) AS n ' +
      "FROM TABLE(SESSION(TABLE events PARTITION BY key, DESCRIPTOR(ts), INTERVAL '5' SECOND)) " +
      'GROUP BY window_start, window_end, key',
  },
  {
    id: 'invalid',
    graceMs: 0,
    events: [{ key: 'a', ts: s(1), value: 1 }],
    sql: 'SELECT no_such_column FROM events',
  },
];

const byKeyAndStart = (a: unknown[], b: unknown[]) =>
  String(a[0]).localeCompare(String(b[0])) || Number(a[1]) - Number(b[1]);

describe.skipIf(!provisioned && !process.env.CI)(
  'Flink SQL oracle (flink-sql-harness)',
  { timeout: 300_000 },
  () => {
    // One harness run for all cases, started by the first test that needs it; with CI=true and no
    // harness, every test fails with the MissingToolError naming `npm run tools`.
    let pending: Promise<Map<string, FlinkResult>> | undefined;
    const all = () => (pending ??= runFlinkCases(cases));

    async function result(id: string): Promise<FlinkResult> {
      const r = (await all()).get(id);
      if (!r) throw new Error(`no result for ${id}`);
      expect(r.error).toBeUndefined();
      return r;
    }

    it('tumbling: count and sum per key, an out-of-order event within grace counted, a late one dropped', async () => {
      const r = await result('tumbling');
      expect(r.columns).toEqual(['key', 'window_start', 'window_end', 'n', 'total']);
      expect(r.rows.sort(byKeyAndStart)).toEqual([
        ['a', s(0), s(10), 3, 11],
        ['a', s(10), s(20), 1, 4],
        ['a', s(20), s(30), 1, 16],
        ['b', s(0), s(10), 1, 10],
        ['b', s(10), s(20), 1, 20],
      ]);
    });

    it('hopping: average per key over 10 s windows every 5 s', async () => {
      const r = await result('hopping');
      expect(r.columns).toEqual(['key', 'window_start', 'window_end', 'n', 'mean']);
      expect(r.rows.sort(byKeyAndStart)).toEqual([
        ['a', s(-5), s(5), 1, 1],
        ['a', s(0), s(10), 2, 1.5],
        ['a', s(5), s(15), 2, 3],
        ['a', s(10), s(20), 1, 4],
        ['b', s(0), s(10), 1, 10],
        ['b', s(5), s(15), 1, 10],
      ]);
    });

    it('session: count per key, a session is [first, last + gap)', async () => {
      const r = await result('session');
      expect(r.columns).toEqual(['key', 'window_start', 'window_end', 'n']);
      expect(r.rows.sort(byKeyAndStart)).toEqual([
        ['a', s(1), s(12.5), 3],
        ['a', s(20), s(25), 1],
        ['b', s(2), s(7), 1],
        ['b', s(9), s(14), 1],
      ]);
    });

    it('reports an invalid query as that case’s error, without failing the others', async () => {
      const r = (await all()).get('invalid');
      expect(r?.error).toMatch(/no_such_column/);
      expect(r?.rows).toEqual([]);
    });
  },
);
