// examples/queries through the real CLI: `eventrunner test` reproduces the example's hand-computed
// results (expected.jsonl) exactly, with or without a crash and restore at various events, and
// names the query and result id when an expectation does not hold.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const entry = join(root, 'test/unit/cli/entry.ts');
const example = join(root, 'examples/queries');
const pipeline = join(example, 'pipeline.yaml');
const events = join(example, 'events.jsonl');
const expected = join(example, 'expected.jsonl');

interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

function eventrunner(...args: string[]): Result {
  const r = spawnSync(process.execPath, ['--import', 'tsx', entry, ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 9_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const expectations = readFileSync(expected, 'utf8').trim().split('\n');
const queryLines = expectations.filter((l) => l.includes('"query"'));

describe('examples/queries with eventrunner test', () => {
  it('meets every expectation: the rules outcome, each query result and late event', () => {
    const r = eventrunner('test', '-f', pipeline, '--events', events, '--expect', expected);
    expect(r.stderr).toBe(
      `ok: ${expectations.length} expectations met (40 events, 39 without expectation, ${queryLines.length} query lines)\n`,
    );
    expect(r.status).toBe(0);
    const printed = r.stdout
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('{"query"'))
      .map((l) => JSON.parse(l) as unknown);
    expect(printed).toEqual(queryLines.map((l) => JSON.parse(l) as unknown));
  });

  // Before anything, between the out-of-order events, inside the burst, around the late event, at the end.
  it.each([0, 10, 16, 23, 24, 40])('gives the same results after a crash at event %i', (n) => {
    const r = eventrunner(
      'test',
      '-f',
      pipeline,
      '--events',
      events,
      '--expect',
      expected,
      '--crash-at',
      String(n),
      '-q',
    );
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^ok: \d+ expectations met/);
    expect(r.status).toBe(0);
  });

  it('feeds the queries events that no output receives, but not events a rule dropped', () => {
    // The same Pipeline, kept only for its queries: events go to no output.
    const dir = mkdtempSync(join(tmpdir(), 'er-queries-example-'));
    const queriesOnly = join(dir, 'pipeline.yaml');
    const yaml = readFileSync(pipeline, 'utf8');
    expect(yaml).toContain('defaultOutputs: [store]');
    writeFileSync(queriesOnly, yaml.replace('defaultOutputs: [store]', 'defaultOutputs: []'));
    const r = eventrunner('test', '-f', queriesOnly, '--events', events);
    expect(r.status).toBe(0);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { query?: string; outcome?: string; routes?: string[] });
    const queries = lines.filter((l) => l.query !== undefined);
    expect(queries).toEqual(queryLines.map((l) => JSON.parse(l) as unknown));
    // Every event is a drop for the outputs; the load-test events, dropped by a rule, stay out of
    // the results (they would add to revenue-per-minute otherwise).
    expect(lines.filter((l) => l.query === undefined && l.outcome === 'routed')).toEqual([]);
  });

  it('names the query, the result id and the field when a result differs', () => {
    const dir = mkdtempSync(join(tmpdir(), 'er-queries-example-'));
    const wrong = join(dir, 'expected.jsonl');
    const line = expectations.findIndex((l) => l.includes('"revenue": 58,'));
    expect(line).toBeGreaterThan(0);
    const { id } = JSON.parse(expectations[line]!) as { id: string };
    writeFileSync(
      wrong,
      expectations.map((l, i) => (i === line ? l.replace('"revenue": 58,', '"revenue": 57,') : l)).join('\n'),
    );
    const r = eventrunner('test', '-f', pipeline, '--events', events, '--expect', wrong, '-q');
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      [
        `query revenue-per-minute (id ${id}, expected at ${wrong}:${line + 1}):`,
        '  data.revenue: expected 57, got 58',
        `FAIL: 1 of ${expectations.length} expectations not met (40 events)`,
        '',
      ].join('\n'),
    );
  });

  it('reports a result that no expectation lists, since a query with expectations is compared as a set', () => {
    const dir = mkdtempSync(join(tmpdir(), 'er-queries-example-'));
    const partial = join(dir, 'expected.jsonl');
    const dropped = expectations.find((l) => l.includes('"order_id": "o-22"'))!;
    writeFileSync(partial, expectations.filter((l) => l !== dropped).join('\n'));
    const r = eventrunner('test', '-f', pipeline, '--events', events, '--expect', partial, '-q');
    expect(r.status).toBe(1);
    const { id } = JSON.parse(dropped) as { id: string };
    expect(r.stderr).toMatch(
      new RegExp(`^query order-bursts: unexpected result \\{"query":"order-bursts","id":"${id}"`),
    );
  });
});
