// `eventrunner validate`: positions of problems in the YAML, rule errors mapped into the file,
// directories, exit codes and output format (the last through a real child process).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateFiles } from '../../../cli/commands/validate.js';
import { repoRoot } from '../../../hack/gen-api.js';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'eventrunner-validate-'));
}

function write(dir: string, name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

const pipelineYaml = `# a comment line
apiVersion: v1
kind: ConfigMap
metadata: {name: unrelated}
data: {a: "1"}
---
apiVersion: eventrunner.io/v1alpha1
kind: Pipeline
metadata:
  name: orders
spec:
  sources:
    - eventSource: shop
  rules: |
    rule Big "big orders" salience 10 {
      when event.data.amount > 100
      then Route("archive");
    }
  outputs:
    - name: store
      sink: orders-scylla
  delivery:
    ackWait: 30 seconds
`;

describe('validateFiles', () => {
  it('reports schema errors at the offending node and rule errors at their place in the block scalar', () => {
    const file = write(tempDir(), 'pipeline.yaml', pipelineYaml);
    const report = validateFiles([file]);
    expect(report.checked).toBe(1);
    const lines = report.problems.map((p) => `${p.line}:${p.column}: ${p.message}`);
    expect(lines).toHaveLength(2);
    // rules line 3 is file line 14 (the `rules: |` header) + 3; columns shift by the block's indent, 4.
    expect(lines[0]).toMatch(/^17:\d+: Pipeline\/orders: spec\.rules:3:\d+: .*archive/);
    const ruleCol = /^17:(\d+): Pipeline\/orders: spec\.rules:3:(\d+):/.exec(lines[0]!)!;
    expect(Number(ruleCol[1])).toBe(Number(ruleCol[2]) + 4);
    expect(pipelineYaml.split('\n')[16]!.slice(Number(ruleCol[1]) - 1)).toMatch(/^(Route|"archive")/);
    expect(lines[1]).toBe(
      '23:5: Pipeline/orders: spec.delivery.ackWait: must be a duration such as 500ms, 30s, 2m or 72h',
    );
  });

  it('points at the key of an unknown field and at the parent of a missing one', () => {
    const file = write(
      tempDir(),
      'sink.yaml',
      [
        'apiVersion: eventrunner.io/v1alpha1',
        'kind: Sink',
        'metadata: {name: s}',
        'spec:',
        '  clickhouse:',
        '    url: http://ch:8123',
        '    tabel: orders',
        '',
      ].join('\n'),
    );
    const messages = validateFiles([file]).problems.map((p) => `${p.line}:${p.column}: ${p.message}`);
    expect(messages).toEqual([
      '5:3: Sink/s: spec.clickhouse.table: required field is missing',
      '7:5: Sink/s: spec.clickhouse.tabel: unknown field',
    ]);
  });

  it('reports YAML syntax errors with their position and keeps going', () => {
    const dir = tempDir();
    write(dir, 'a-broken.yaml', 'apiVersion: eventrunner.io/v1alpha1\nkind: Sink\nspec: {scylla: [\n');
    write(
      dir,
      'b-ok.yml',
      'apiVersion: eventrunner.io/v1alpha1\nkind: Sink\nmetadata: {name: x}\nspec: {}\n',
    );
    write(dir, 'notes.txt', 'not a manifest');
    const report = validateFiles([dir]);
    expect(report.files.map((f) => f.slice(dir.length + 1))).toEqual(['a-broken.yaml', 'b-ok.yml']);
    expect(report.problems[0]!.message).toMatch(/^YAML: /);
    expect(report.problems[0]!.file).toBe(join(dir, 'a-broken.yaml'));
    expect(report.problems.at(-1)).toMatchObject({
      file: join(dir, 'b-ok.yml'),
      line: 4,
      column: 1,
      message: 'Sink/x: spec: exactly one of scylla, clickhouse, http or eventSource must be set',
    });
  });

  it('descends into subdirectories only with recursive', () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'nested'));
    write(
      join(dir, 'nested'),
      'bad.yaml',
      'apiVersion: eventrunner.io/v1alpha1\nkind: Sink\nmetadata: {name: x}\nspec: {}\n',
    );
    expect(validateFiles([dir]).files).toEqual([]);
    expect(validateFiles([dir], true).problems).toHaveLength(1);
  });

  it('reports a path that does not exist', () => {
    const report = validateFiles([join(tempDir(), 'missing.yaml')]);
    expect(report.problems).toHaveLength(1);
    expect(report.problems[0]!.message).toMatch(/^cannot read: /);
  });
});

const queriesYaml = `apiVersion: eventrunner.io/v1alpha1
kind: Pipeline
metadata:
  name: shop
spec:
  sources:
    - {eventSource: storefront, as: orders}
  outputs:
    - {name: minutely, sink: revenue-clickhouse}
  queries:
    - name: revenue
      outputs: [minutely]
      sql: |
        SELECT data.country AS country,
               sum(payload.amount) AS revenue
        FROM orders
        WINDOW HOPPING (SIZE 1 MINUTE, ADVANCE BY 2 MINUTES)
        GROUP BY data.country
    - name: per-order
      outputs: [minutely, nowhere]
      partitions: 0
      sql: "SELECT id FROM order"
`;

const queryProblemLines = [
  // sql line 2 is file line 13 (the `sql: |` header) + 2; columns shift by the block's indent, 8.
  '15:20: Pipeline/shop: spec.queries[0].sql:2:12: query revenue: unknown field payload: use a CloudEvents attribute (id, type, source, subject, time), an extension (lower-case letters and digits), data.<path>',
  '17:51: Pipeline/shop: spec.queries[0].sql:4:43: query revenue: ADVANCE BY (120000 ms) must not be larger than SIZE (60000 ms): windows would leave gaps',
  // An undeclared output and a bad partitions are the schema's findings, reported once.
  '20:27: Pipeline/shop: spec.queries[1].outputs[1]: query outputs must name outputs declared in spec.outputs; "nowhere" is not declared',
  '21:7: Pipeline/shop: spec.queries[1].partitions: must be >= 1',
  // In a quoted one-line string, columns count from the character after the quote.
  "22:28: Pipeline/shop: spec.queries[1].sql:1:16: query per-order: unknown source order: the pipeline's sources are orders",
];

describe('validateFiles on queries', () => {
  it('compiles each query and reports its problems at their place in the sql string', () => {
    const file = write(tempDir(), 'queries.yaml', queriesYaml);
    const report = validateFiles([file]);
    expect(report.checked).toBe(1);
    expect(report.problems.map((p) => `${p.line}:${p.column}: ${p.message}`)).toEqual(queryProblemLines);
    const lines = queriesYaml.split('\n');
    expect(lines[14]!.slice(19)).toMatch(/^payload\.amount/);
    expect(lines[16]!.slice(50)).toMatch(/^2 MINUTES/);
    expect(lines[21]!.slice(27)).toMatch(/^order"/);
  });

  it('finds nothing in queries that compile', () => {
    const fixed = queriesYaml
      .replace('payload.amount', 'data.amount')
      .replace('ADVANCE BY 2 MINUTES', 'ADVANCE BY 30 SECONDS')
      .replace('minutely, nowhere', 'minutely')
      .replace('partitions: 0', 'partitions: 2')
      .replace('FROM order"', 'FROM orders"');
    expect(validateFiles([write(tempDir(), 'queries.yaml', fixed)]).problems).toEqual([]);
  });
});

describe('eventrunner validate (child process)', () => {
  const script = write(
    tempDir(),
    'cli.mts',
    `import { main } from ${JSON.stringify(join(repoRoot, 'cli/main.ts'))};\nprocess.exitCode = await main(process.argv.slice(2));\n`,
  );
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', script, 'validate', ...args], {
      cwd: repoRoot,
      encoding: 'utf8',
      timeout: 30_000,
    });

  it('prints file:line:column: message and exits 1 on problems, 0 when clean, 2 on bad flags', () => {
    const dir = tempDir();
    const bad = write(dir, 'bad.yaml', pipelineYaml);
    const failed = cli('-f', bad);
    expect(failed.status).toBe(1);
    const out = failed.stdout.trim().split('\n');
    expect(out).toHaveLength(2);
    expect(out[1]).toBe(
      `${bad}:23:5: Pipeline/orders: spec.delivery.ackWait: must be a duration such as 500ms, 30s, 2m or 72h`,
    );
    expect(failed.stderr).toMatch(/2 problems \(1 eventrunner resource in 1 file\)/);

    const ok = cli('-f', 'examples', '-R');
    expect(ok.stdout).toBe('');
    const yamlFiles = readdirSync(join(repoRoot, 'examples'), { recursive: true }).filter((f) =>
      /\.ya?ml$/.test(String(f)),
    ).length;
    expect(ok.stderr).toMatch(new RegExp(`ok: 28 eventrunner resources in ${yamlFiles} files`));
    expect(ok.status).toBe(0);

    const usage = cli('--bogus');
    expect(usage.status).toBe(2);
    expect(usage.stderr).toMatch(/unknown argument "--bogus"/);
    expect(cli().status).toBe(2);
  }, 60_000);

  it('positions query problems in the file it names and exits 1', () => {
    const file = write(tempDir(), 'queries.yaml', queriesYaml);
    const r = cli('-f', file);
    expect(r.status).toBe(1);
    expect(r.stdout.trim().split('\n')).toEqual(queryProblemLines.map((l) => `${file}:${l}`));
    expect(r.stderr).toBe('5 problems (1 eventrunner resource in 1 file)\n');
  }, 30_000);
});
