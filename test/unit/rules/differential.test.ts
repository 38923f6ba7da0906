// Differential test: every rule set in corpus/ runs over corpus/events.jsonl through eventrunner's
// engine and through the Grule engine itself (hack/grule, built by hack/tools/extra-grule.sh), and
// both must produce the same outcome, routes and resulting event fields. The corpus avoids only
// the documented deliberate differences (docs/rules.md, "Differences from Grule").
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
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
