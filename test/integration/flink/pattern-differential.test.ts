// Patterns and interval joins against Apache Flink SQL (a real engine, hack/flink): generated
// SEQUENCE and PATTERN queries with quantifiers {n} and {n,m}, conditions on earlier variables and
// measures, against MATCH_RECOGNIZE; inner and LEFT interval joins against Flink's interval joins.
// Events arrive out of order within the grace period and go through three partitions; both engines
// must give the same rows. All cases run in one harness process, batched like the window cases.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileQuery, runOffline, type QueryInput } from '../../../runtime/queries/index.js';
import { cacheDir } from '../../stack/paths.js';
import { FLINK_HARNESS, runFlinkCases, type FlinkResult } from './oracle.js';
import { patternCase, type PatternCase, type PatternKind } from './pattern-cases.js';

const CASES = 60;
const provisioned = existsSync(join(cacheDir(), 'bin', FLINK_HARNESS));

function ourRows(c: PatternCase): { columns: string[]; rows: unknown[][] } {
  const isJoin = c.kind.endsWith('join');
  const sources = isJoin ? ['orders', 'payments'] : ['ev'];
  const q = compileQuery({ name: 'q', sql: c.sql }, { namespace: 'ns', pipeline: 'p', sources });
  const seqs = new Map<string, number>();
  const inputs: QueryInput[] = c.events.map((e) => {
    const source = isJoin ? (e.s === 'L' ? 'orders' : 'payments') : 'ev';
    const seq = (seqs.get(source) ?? 0) + 1;
    seqs.set(source, seq);
    return {
      source,
      seq,
      event: {
        specversion: '1.0',
        id: `e${e.seq}`,
        type: 'generated',
        source: '/differential',
        time: new Date(e.ts).toISOString(),
        data: { key: e.key, value: e.value ?? null, s: e.s ?? null, seq: e.seq },
      },
    };
  });
  const out = runOffline(q, inputs, { partitions: 3 });
  expect(out.late).toEqual([]);
  const again = runOffline(q, inputs, { partitions: 2, crashAt: Math.floor(inputs.length / 2) });
  expect(again.results.map((r) => r.id).sort()).toEqual(out.results.map((r) => r.id).sort());
  const columns = [...q.columns];
  return { columns, rows: out.results.map((r) => columns.map((name) => r.data[name])) };
}

/** Rows as multisets: each of ours must match one of Flink's, none left over. */
function unmatched(ours: unknown[][], theirs: unknown[][]): { ours: unknown[][]; theirs: unknown[][] } {
  const left = [...theirs];
  const extra: unknown[][] = [];
  for (const row of ours) {
    const i = left.findIndex((t) => t.length === row.length && t.every((v, j) => v === row[j]));
    if (i < 0) extra.push(row);
    else left.splice(i, 1);
  }
  return { ours: extra, theirs: left };
}

describe.skipIf(!provisioned && !process.env.CI)(
  'patterns and interval joins against Flink SQL',
  { timeout: 900_000 },
  () => {
    const cases = Array.from({ length: CASES }, (_, i) => patternCase(i + 1));
    let flink: Promise<Map<string, FlinkResult>> | undefined;
    const results = () => (flink ??= runFlinkCases(cases.map((c) => c.flink)));

    it(`generates ${CASES} cases of every kind, out of order within grace`, () => {
      const kinds = new Set(cases.map((c) => c.kind));
      expect(kinds.size).toBe(5);
      const outOfOrder = cases.filter((c) => c.events.some((e, i) => i > 0 && e.ts < c.events[i - 1]!.ts));
      expect(outOfOrder.length).toBeGreaterThan(CASES / 4);
    });

    const groups: [string, PatternKind[]][] = [
      ['SEQUENCE with {n} and {n,m} against MATCH_RECOGNIZE', ['sequence', 'sequence-range']],
      ['PATTERN (followed by) against MATCH_RECOGNIZE', ['followed-by']],
      [
        'interval joins, inner and LEFT, against Flink interval joins',
        ['interval-join', 'left-interval-join'],
      ],
    ];
    for (const [name, kinds] of groups) {
      it(`gives Flink's rows: ${name}`, async () => {
        const all = await results();
        const problems: string[] = [];
        let rows = 0;
        for (const c of cases.filter((x) => kinds.includes(x.kind))) {
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
        expect(rows).toBeGreaterThan(kinds.length * 5);
      });
    }
  },
);
