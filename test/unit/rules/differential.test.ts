// Differential test: every rule set in corpus/ runs over corpus/events.jsonl through eventrunner's
// engine and through the Grule engine itself (hack/grule, built by hack/tools/extra-grule.sh), and
// both must produce the same outcome, routes and resulting event fields. The corpus avoids only
// the documented deliberate differences (docs/rules.md, "Differences from Grule").
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { compileRules, type CloudEventLike, type RuleMode } from '../../../runtime/rules/index.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const corpus = fileURLToPath(new URL('./corpus', import.meta.url));
const harness = join(
  process.env.EVENTRUNNER_CACHE ?? join(homedir(), '.cache', 'eventrunner'),
  'bin',
  'grule-harness',
);
const OUTPUTS = ['analytics', 'audit', 'store'];
const eventLines = readFileSync(join(corpus, 'events.jsonl'), 'utf8').trim().split('\n');
const ruleFiles = readdirSync(corpus)
  .filter((f) => f.endsWith('.grl'))
  .sort();

interface GruleResult {
  outcome: 'routed' | 'dropped' | 'deadletter';
  routes: string[];
  reason?: string;
  error?: string;
  event: unknown;
}

function header(source: string, key: string): string | undefined {
  return new RegExp(`^// ${key}: (.+)$`, 'm').exec(source)?.[1]?.trim();
}

function runGrule(file: string, maxCycles: number): GruleResult[] {
  const r = spawnSync(harness, ['run', '-rules', join(corpus, file), '-max-cycles', String(maxCycles)], {
    input: eventLines.join('\n') + '\n',
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`grule-harness failed on ${file}: ${r.stderr}`);
  return r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as GruleResult);
}

beforeAll(() => {
  // Idempotent and quick when the harness is already built (npm run tools builds it).
  execFileSync('bash', [join(root, 'hack/tools/extra-grule.sh')], { stdio: ['ignore', 'ignore', 'pipe'] });
  if (!existsSync(harness)) throw new Error(`${harness} missing after hack/tools/extra-grule.sh`);
}, 600_000);

describe('differential: eventrunner vs Grule', { timeout: 60_000 }, () => {
  const seen = { outcomes: new Set<string>(), changedEvents: 0, comparisons: 0 };

  it.each(ruleFiles)('%s gives the same results as Grule', (file) => {
    const source = readFileSync(join(corpus, file), 'utf8');
    const modes = (header(source, 'modes') ?? 'once refire').split(/\s+/) as RuleMode[];
    const maxCycles = Number(header(source, 'max-cycles') ?? 5000);
    const grule = runGrule(file, maxCycles);
    expect(grule).toHaveLength(eventLines.length);
    const problems: string[] = [];
    for (const mode of modes) {
      const rules = compileRules(source, { outputs: OUTPUTS, mode, maxCycles });
      eventLines.forEach((line, i) => {
        const input = JSON.parse(line) as CloudEventLike;
        const ours = rules.evaluate(JSON.parse(line) as CloudEventLike);
        const theirs = grule[i]!;
        // Grule has no default outputs: "routed nowhere" there is our defaultOutputs (all outputs).
        const theirRoutes =
          theirs.outcome === 'routed' ? (theirs.routes.length ? theirs.routes : OUTPUTS) : [];
        const where = `${file} [${mode}] event ${input.id}`;
        if (ours.outcome !== theirs.outcome) {
          problems.push(
            `${where}: outcome ${ours.outcome} (${ours.reason ?? ''}), Grule ${theirs.outcome} (${theirs.error ?? theirs.reason ?? ''})`,
          );
        }
        if (JSON.stringify(ours.routes) !== JSON.stringify(theirRoutes)) {
          problems.push(
            `${where}: routes ${JSON.stringify(ours.routes)}, Grule ${JSON.stringify(theirRoutes)}`,
          );
        }
        if (theirs.reason !== undefined && ours.reason !== theirs.reason) {
          problems.push(
            `${where}: reason ${JSON.stringify(ours.reason)}, Grule ${JSON.stringify(theirs.reason)}`,
          );
        }
        const ourEvent = JSON.parse(JSON.stringify(ours.event)) as unknown;
        try {
          expect(ourEvent).toEqual(theirs.event);
        } catch {
          problems.push(
            `${where}: event\n  ours  ${JSON.stringify(ourEvent)}\n  Grule ${JSON.stringify(theirs.event)}`,
          );
        }
        seen.outcomes.add(ours.outcome);
        if (JSON.stringify(ourEvent) !== JSON.stringify(input)) seen.changedEvents++;
        seen.comparisons++;
      });
    }
    expect(problems).toEqual([]);
  });

  it('exercises every outcome and changes events (the comparison is not vacuous)', () => {
    expect(ruleFiles.length).toBeGreaterThanOrEqual(10);
    expect([...seen.outcomes].sort()).toEqual(['deadletter', 'dropped', 'routed']);
    expect(seen.changedEvents).toBeGreaterThan(seen.comparisons / 2);
  });
});

// Each documented difference (docs/rules.md, "Differences from Grule") checked against Grule itself,
// so the table cannot claim something about Grule that is not so.
describe('documented differences from Grule', { timeout: 60_000 }, () => {
  const event = (data: unknown) =>
    JSON.stringify({ specversion: '1.0', id: 'd-1', type: 't', source: '/s', data });

  function grule(rules: string, data: unknown): { built: boolean; result?: GruleResult; stderr: string } {
    const dir = mkdtempSync(join(tmpdir(), 'er-grule-diff-'));
    const path = join(dir, 'rules.grl');
    writeFileSync(path, rules);
    const r = spawnSync(harness, ['run', '-rules', path], { input: event(data) + '\n', encoding: 'utf8' });
    rmSync(dir, { recursive: true, force: true });
    if (r.status !== 0) return { built: false, stderr: r.stderr };
    return { built: true, result: JSON.parse(r.stdout.trim()) as GruleResult, stderr: r.stderr };
  }

  function ours(rules: string, data: unknown) {
    return compileRules(rules, { outputs: OUTPUTS }).evaluate(JSON.parse(event(data)) as CloudEventLike);
  }

  const dataOf = (e: unknown) => (e as { data: Record<string, unknown> }).data;

  it('x == nil: never true in Grule, true for a missing field here', () => {
    const rules = 'rule N { when event.data.missing == nil then event.data.hit = true; Retract("N"); }';
    expect(dataOf(grule(rules, {}).result!.event).hit).toBeUndefined();
    expect(dataOf(ours(rules, {}).event).hit).toBe(true);
  });

  it('"x" != 1: false in Grule, true here', () => {
    const rules = 'rule N { when "x" != 1 then event.data.hit = true; Retract("N"); }';
    expect(dataOf(grule(rules, {}).result!.event).hit).toBeUndefined();
    expect(dataOf(ours(rules, {}).event).hit).toBe(true);
  });

  it('a path through a missing field: an error (no match) in Grule, nil here', () => {
    const rules = 'rule N { when IsNil(event.data.a.b) then event.data.hit = true; Retract("N"); }';
    expect(dataOf(grule(rules, {}).result!.event).hit).toBeUndefined();
    expect(dataOf(ours(rules, {}).event).hit).toBe(true);
  });

  it('strings joined with numbers: %f in Grule, JavaScript printing here', () => {
    const rules = 'rule N { when true then event.data.s = "a" + event.data.n; Retract("N"); }';
    expect(dataOf(grule(rules, { n: 5 }).result!.event).s).toBe('a5.000000');
    expect(dataOf(ours(rules, { n: 5 }).event).s).toBe('a5');
  });

  it('% and & on JSON numbers: errors in Grule, integer arithmetic here', () => {
    for (const op of ['%', '&']) {
      const rules = `rule N { when true then event.data.r = event.data.n ${op} 3; Retract("N"); }`;
      expect(grule(rules, { n: 10 }).result!.error).toMatch(/float64/);
      expect(dataOf(ours(rules, { n: 10 }).event).r).toBe(op === '%' ? 1 : 2);
    }
  });

  it('math functions on integer literals: an error in Grule, fine here', () => {
    const rules = 'rule N { when true then event.data.r = Abs(-2); Retract("N"); }';
    expect(grule(rules, {}).result!.outcome).toBe('deadletter');
    expect(dataOf(ours(rules, {}).event).r).toBe(2);
  });

  it('Append on a JSON array: no change in Grule, appended here', () => {
    const rules = 'rule N { when true then event.data.l.Append(2); Retract("N"); }';
    expect(dataOf(grule(rules, { l: [1] }).result!.event).l).toEqual([1]);
    expect(dataOf(ours(rules, { l: [1] }).event).l).toEqual([1, 2]);
  });

  it('a method on a parenthesised expression: a syntax error in Grule, allowed here', () => {
    const rules = 'rule N { when true then event.data.r = ("a" + "b").Len(); Retract("N"); }';
    expect(grule(rules, {}).built).toBe(false);
    expect(dataOf(ours(rules, {}).event).r).toBe(2);
  });

  it('hitting MaxCycle: an error for Execute in Grule, a dead-lettered event here', () => {
    const rules = 'rule N { when true then event.data.n = 1; }';
    expect(grule(rules, {}).result!.error).toMatch(/5000 cycles/);
    const out = compileRules(rules, { outputs: OUTPUTS, mode: 'refire' }).evaluate(
      JSON.parse(event({})) as CloudEventLike,
    );
    expect(out).toMatchObject({
      outcome: 'deadletter',
      reason: 'rules did not settle within 5000 cycles (rule N keeps matching)',
    });
  });
});
