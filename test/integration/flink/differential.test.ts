// The query engine against Apache Flink SQL (a real engine, hack/flink): 120 generated cases —
// tumbling, hopping, session and sliding windows with count, count(x), count(DISTINCT x), sum,
// avg, min, max and stddev, NULLs among the values, and events out of order within the grace
// period — must give the same rows in both. Floating results agree to 1e-9 relative.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileQuery, runOffline, type QueryInput } from '../../../runtime/queries/index.js';
import { cacheDir } from '../../stack/paths.js';
import { differentialCase, type DifferentialCase } from './cases.js';
import { FLINK_HARNESS, runFlinkCases, type FlinkResult } from './oracle.js';

const CASES = 120;
const provisioned = existsSync(join(cacheDir(), 'bin', FLINK_HARNESS));

/** Our rows for a case, as arrays in column order, window bounds in epoch ms. */
function ourRows(c: DifferentialCase): { columns: string[]; rows: unknown[][] } {
  const q = compileQuery({ name: 'q', sql: c.sql }, { namespace: 'ns', pipeline: 'p', sources: ['ev'] });
  const inputs: QueryInput[] = c.events.map((e) => ({
    source: 'ev',
    seq: e.seq!,
    event: {
      specversion: '1.0',
      id: `e${e.seq}`,
      type: 'generated',
      source: '/differential',
      time: new Date(e.ts).toISOString(),
      data: { key: e.key, value: e.value ?? null, s: e.s ?? null, seq: e.seq },
    },
  }));
  const out = runOffline(q, inputs, { partitions: 3 });
  expect(out.late).toEqual([]);
  const columns = [...q.columns];
  const rows = out.results.map((r) =>
    columns.map((name) => {
      const v = r.data[name];
      return name === 'window_start' || name === 'window_end' ? Date.parse(String(v)) : v;
    }),
  );
  return { columns, rows };
}

function same(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' && typeof b === 'number')
    return a === b || Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
  return a === b;
}

/** Rows as multisets: each of ours must match one of Flink's, none left over. */
function unmatched(ours: unknown[][], theirs: unknown[][]): { ours: unknown[][]; theirs: unknown[][] } {
  const left = [...theirs];
  const extra: unknown[][] = [];
  for (const row of ours) {
    const i = left.findIndex((t) => t.length === row.length && t.every((v, j) => same(row[j], v)));
    if (i < 0) extra.push(row);
    else left.splice(i, 1);
  }
  return { ours: extra, theirs: left };
}

describe.skipIf(!provisioned && !process.env.CI)(
  'query engine against Flink SQL',
  { timeout: 900_000 },
  () => {
    const cases = Array.from({ length: CASES }, (_, i) => differentialCase(i + 1));
    let flink: Promise<Map<string, FlinkResult>> | undefined;
    const results = () => (flink ??= runFlinkCases(cases.map((c) => c.flink)));

    it(`generates ${CASES} cases over every window kind, out of order within grace`, () => {
      const kinds = new Map<string, number>();
      for (const c of cases) kinds.set(c.kind, (kinds.get(c.kind) ?? 0) + 1);
      expect([...kinds.keys()].sort()).toEqual(['hopping', 'session', 'sliding', 'tumbling']);
      const outOfOrder = cases.filter((c) => c.events.some((e, i) => i > 0 && e.ts < c.events[i - 1]!.ts));
      expect(outOfOrder.length).toBeGreaterThan(CASES / 4);
    });

    for (const kind of ['tumbling', 'hopping', 'session', 'sliding'] as const) {
      it(`gives Flink's rows for every ${kind} case`, async () => {
        const all = await results();
        const problems: string[] = [];
        let rows = 0;
        for (const c of cases.filter((x) => x.kind === kind)) {
          const theirs = all.get(c.flink.id)!;
          if (theirs.error) {
            problems.push(`${c.flink.id}: Flink failed: ${theirs.error}`);
            continue;
          }
          const ours = ourRows(c);
          expect(ours.columns).toEqual(theirs.columns);
          rows += ours.rows.length;
          const diff = unmatched(ours.rows, theirs.rows);
          if (diff.ours.length || diff.theirs.length)
            problems.push(
              `${c.flink.id}: ${c.sql}\n  only ours: ${JSON.stringify(diff.ours)}\n  only Flink's: ${JSON.stringify(diff.theirs)}`,
            );
        }
        expect(problems).toEqual([]);
        expect(rows).toBeGreaterThan(0);
      });
    }
  },
);
