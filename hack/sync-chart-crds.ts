// Copies the generated CRDs (crds/*.yaml, written by `npm run gen`) into the Helm chart's crds/
// directory, which Helm installs before the chart's templates. `npm run chart:crds` writes them;
// `npm run chart:crds -- --check` and test/unit/chart/crds.test.ts fail when the copies drift.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
export const sourceDir = join(repoRoot, 'crds');
export const chartCrdDir = join(repoRoot, 'charts', 'eventrunner', 'crds');

function yamlFiles(dir: string): string[] {
  return existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => f.endsWith('.yaml'))
        .sort()
    : [];
}

/** What the chart's crds/ lacks, holds in excess, or holds with other content than crds/. */
export function chartCrdDrift(
  from = sourceDir,
  to = chartCrdDir,
): { missing: string[]; extra: string[]; changed: string[] } {
  const source = yamlFiles(from);
  const chart = yamlFiles(to);
  return {
    missing: source.filter((f) => !chart.includes(f)),
    extra: chart.filter((f) => !source.includes(f)),
    changed: source.filter(
      (f) => chart.includes(f) && readFileSync(join(from, f), 'utf8') !== readFileSync(join(to, f), 'utf8'),
    ),
  };
}

export function syncChartCrds(from = sourceDir, to = chartCrdDir): string[] {
  const source = yamlFiles(from);
  if (source.length === 0) throw new Error(`no CRDs in ${from}; run \`npm run gen\` first`);
  mkdirSync(to, { recursive: true });
  for (const f of yamlFiles(to)) {
    if (!source.includes(f)) rmSync(join(to, f));
  }
  for (const f of source) writeFileSync(join(to, f), readFileSync(join(from, f)));
  return source;
}

function main(argv: string[]): number {
  if (argv.includes('--check')) {
    const { missing, extra, changed } = chartCrdDrift();
    const problems = [
      ...missing.map((f) => `missing ${f}`),
      ...extra.map((f) => `not in crds/: ${f}`),
      ...changed.map((f) => `differs from crds/${f}: ${f}`),
    ];
    for (const p of problems) process.stderr.write(`charts/eventrunner/crds: ${p}\n`);
    if (problems.length) process.stderr.write('run `npm run chart:crds` to copy them\n');
    return problems.length ? 1 : 0;
  }
  for (const f of syncChartCrds()) process.stdout.write(`wrote charts/eventrunner/crds/${f}\n`);
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = main(process.argv.slice(2));
}
