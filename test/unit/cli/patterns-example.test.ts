// examples/patterns through the real CLI: `eventrunner test` gives the example's worked-out
// results (expected.jsonl: the fraud match and the unpaid orders), also after a crash and restore
// at various events; enrichment/ with the customers table gives its enriched orders, and without
// the table the lookup join finds no rows and the expectation names what differs.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const entry = join(root, 'test/unit/cli/entry.ts');
const example = join(root, 'examples/patterns');
const events = join(example, 'events.jsonl');
const args = [
  'test',
  '-f',
  join(example, 'pipeline.yaml'),
  '--events',
  events,
  '--expect',
  join(example, 'expected.jsonl'),
];
const enrichment = [
  'test',
  '-f',
  join(example, 'enrichment/pipeline.yaml'),
  '--events',
  events,
  '--expect',
  join(example, 'enrichment/expected.jsonl'),
];
const table = ['--table', `customers=${join(example, 'customers.jsonl')}`];

function eventrunner(...argv: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', entry, ...argv], {
    cwd: root,
    encoding: 'utf8',
    timeout: 9_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const lines = (file: string) => readFileSync(join(example, file), 'utf8').trim().split('\n');
const expectations = lines('expected.jsonl');
const enriched = lines('enrichment/expected.jsonl');

describe('examples/patterns with eventrunner test', () => {
  it('meets every expectation: the fraud match and the unpaid orders', () => {
    const r = eventrunner(...args);
    expect(r.stderr).toBe(
      `ok: ${expectations.length} expectations met (16 events, 16 without expectation, ${expectations.length} query lines)\n`,
    );
    expect(r.status).toBe(0);
    const printed = r.stdout
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('{"query"'))
      .map((l) => JSON.parse(l) as unknown);
    expect(printed).toEqual(expectations.map((l) => JSON.parse(l) as unknown));
  });

  it.each([0, 5, 9, 12, 16])('gives the same results after a crash at event %i', (n) => {
    const r = eventrunner(...args, '--crash-at', String(n), '-q');
    expect(r.stderr).toMatch(/^ok: \d+ expectations met/);
    expect(r.status).toBe(0);
  });

  it('enriches the orders from the customers table, also after a crash', () => {
    for (const crash of [[], ['--crash-at', '8']]) {
      const r = eventrunner(...enrichment, ...table, ...crash, '-q');
      expect(r.stderr).toBe(
        `ok: ${enriched.length} expectations met (16 events, 16 without expectation, ${enriched.length} query lines)\n`,
      );
      expect(r.status).toBe(0);
    }
  });

  it('without the table rows, the enriched orders have NULLs and the mismatch is named', () => {
    const r = eventrunner(...enrichment, '-q');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('query orders-enriched');
    expect(r.stderr).toContain('data.customer');
  });

  it('refuses a --table that the Pipeline does not declare', () => {
    const r = eventrunner(...enrichment, '--table', `suppliers=${join(example, 'customers.jsonl')}`);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(
      '--table suppliers: the Pipeline declares no table suppliers in spec.tables (customers)',
    );
  });
});
