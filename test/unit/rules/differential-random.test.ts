// Randomised differential test: generated rule sets in the part of GRL where Grule's behaviour is
// defined (distinct saliences, fields that exist, comparisons of like types, rules that retract
// themselves) run through eventrunner and through Grule (hack/grule); results must be identical.
// The generator is seeded, so a failure names a reproducible rule set.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileRules, type CloudEventLike, type RuleMode } from '../../../runtime/rules/index.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const harness = join(
  process.env.EVENTRUNNER_CACHE ?? join(homedir(), '.cache', 'eventrunner'),
  'bin',
  'grule-harness',
);
const OUTPUTS = ['analytics', 'audit', 'store'];
const dir = mkdtempSync(join(tmpdir(), 'er-grule-random-'));

const intField = fc.constantFrom('event.data.f0', 'event.data.f1', 'event.data.f2');
const small = fc.integer({ min: 0, max: 4 });
const test = fc.oneof(
  fc
    .tuple(intField, fc.constantFrom('==', '!=', '<', '<=', '>', '>='), small)
    .map(([f, op, k]) => `${f} ${op} ${k}`),
  fc
    .tuple(fc.constantFrom('==', '!='), fc.constantFrom('"x"', '"y"'))
    .map(([op, s]) => `event.data.s ${op} ${s}`),
  fc.constantFrom(
    'event.data.s.HasPrefix("x")',
    'event.data.s.Len() == 1',
    'event.data.f0 + event.data.f1 > 3',
  ),
);
const condition = fc
  .array(test, { minLength: 1, maxLength: 3 })
  .chain((ts) => fc.constantFrom(' && ', ' || ').map((op) => ts.join(op)));
const statement = fc.oneof(
  fc.tuple(intField, small).map(([f, k]) => `${f} = ${k};`),
  fc.tuple(intField, intField).map(([f, g]) => `${f} = ${g} + 1;`),
  fc.constantFrom('event.data.s = "y";', 'event.data.s = event.data.s + "z";', 'event.data.tag = "t";'),
  fc.constantFrom(...OUTPUTS.map((o) => `Route("${o}");`)),
  fc.constantFrom('Drop();', 'Complete();'),
);
const ruleSet = fc
  .array(fc.tuple(condition, fc.array(statement, { minLength: 1, maxLength: 3 })), {
    minLength: 1,
    maxLength: 8,
  })
  .chain((rules) =>
    // Distinct saliences: Grule breaks ties in random order.
    fc
      .shuffledSubarray([...Array(20).keys()], { minLength: rules.length, maxLength: rules.length })
      .map((sal) =>
        rules
          .map(
            ([when, then], i) =>
              `rule R${i} salience ${sal[i]} {\n  when ${when}\n  then ${then.join(' ')} Retract("R${i}");\n}`,
          )
          .join('\n'),
      ),
  );
const events = fc
  .sample(fc.record({ f0: small, f1: small, f2: small, s: fc.constantFrom('x', 'y', 'xy') }), {
    seed: 11,
    numRuns: 12,
  })
  .map((data, i): CloudEventLike => ({
    specversion: '1.0',
    id: `r-${i}`,
    type: 't',
    source: '/random',
    data,
  }));
const cases = fc.sample(ruleSet, { seed: 4242, numRuns: 150 });

beforeAll(() => {
  execFileSync('bash', [join(root, 'hack/tools/extra-grule.sh')], { stdio: ['ignore', 'ignore', 'pipe'] });
}, 600_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('randomised differential: eventrunner vs Grule', { timeout: 120_000 }, () => {
  it(`${cases.length} generated rule sets over ${events.length} events give identical results`, () => {
    const input = events.map((e) => JSON.stringify(e)).join('\n') + '\n';
    const problems: string[] = [];
    let fired = 0;
    cases.forEach((source, n) => {
      const path = join(dir, `case-${n}.grl`);
      writeFileSync(path, source);
      const r = spawnSync(harness, ['run', '-rules', path], { input, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`Grule rejected case ${n}:\n${source}\n${r.stderr}`);
      const theirs = r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { outcome: string; routes: string[]; event: unknown });
      for (const mode of ['once', 'refire'] as RuleMode[]) {
        const rules = compileRules(source, { outputs: OUTPUTS, mode });
        events.forEach((event, i) => {
          const ours = rules.evaluate(structuredClone(event));
          const t = theirs[i]!;
          const theirRoutes = t.outcome === 'routed' ? (t.routes.length ? t.routes : OUTPUTS) : [];
          const ourEvent = JSON.parse(JSON.stringify(ours.event)) as unknown;
          const same =
            ours.outcome === t.outcome &&
            JSON.stringify(ours.routes) === JSON.stringify(theirRoutes) &&
            JSON.stringify(sortKeys(ourEvent)) === JSON.stringify(sortKeys(t.event));
          if (!same) {
            problems.push(
              `case ${n} [${mode}] event ${event.id}:\n${source}\n  ours  ${ours.outcome} ${JSON.stringify(ours.routes)} ${JSON.stringify(ourEvent)}\n  Grule ${t.outcome} ${JSON.stringify(theirRoutes)} ${JSON.stringify(t.event)}`,
            );
          }
          if (JSON.stringify(ourEvent) !== JSON.stringify(event)) fired++;
        });
      }
    });
    expect(problems.slice(0, 3)).toEqual([]);
    // The generated rules do something: most evaluations change the event.
    expect(fired).toBeGreaterThan(cases.length * events.length * 0.5);
  });
});

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
    );
  }
  return v;
}
