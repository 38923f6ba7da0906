// `eventrunner test`, run as a real subprocess on real files.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'er-test-cmd-'));

function cli(args: string[], stdin = ''): { code: number | null; stdout: string; stderr: string } {
  const script = `const { main } = await import(${JSON.stringify(join(root, 'cli/main.ts'))}); process.exitCode = await main(${JSON.stringify(args)});`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: root,
    input: stdin,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

const pipeline = file(
  'pipeline.yaml',
  `apiVersion: v1
kind: ConfigMap
metadata: {name: unrelated}
---
apiVersion: eventrunner.io/v1alpha1
kind: Pipeline
metadata: {name: orders}
spec:
  sources: [{eventSource: shop}]
  rules: |
    rule Big salience 10 {
      when event.data.amount >= 1000
      then event.data.tier = "gold"; Route("store");
    }
    rule Junk { when event.data.junk == true then Drop(); }
  outputs:
    - {name: store, sink: s}
    - {name: analytics, sink: a}
  defaultOutputs: [analytics]
`,
);

describe('eventrunner test', { timeout: 60_000 }, () => {
  it('prints one result per event, in order, wrapping raw JSON lines', () => {
    const events = file(
      'events.jsonl',
      [
        '{"specversion":"1.0","id":"o-1","type":"t","source":"/s","data":{"amount":1500}}',
        '',
        '{"amount": 5}',
        '{"junk": true}',
      ].join('\n'),
    );
    const r = cli(['test', '-f', pipeline, '--events', events, '--type', 'com.raw']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.trimEnd().split('\n')).toEqual([
      '{"id":"o-1","outcome":"routed","routes":["store"],"event":{"specversion":"1.0","id":"o-1","type":"t","source":"/s","data":{"amount":1500,"tier":"gold"}}}',
      '{"id":"line-3","outcome":"routed","routes":["analytics"],"event":{"specversion":"1.0","id":"line-3","type":"com.raw","source":"eventrunner-test","datacontenttype":"application/json","data":{"amount":5}}}',
      '{"id":"line-4","outcome":"dropped","routes":[],"event":{"specversion":"1.0","id":"line-4","type":"com.raw","source":"eventrunner-test","datacontenttype":"application/json","data":{"junk":true}}}',
    ]);
  });

  it('reports an event whose type no source takes as filtered, as the consumer would never deliver it', () => {
    const typed = file(
      'typed.yaml',
      `apiVersion: eventrunner.io/v1alpha1
kind: Pipeline
metadata: {name: orders}
spec:
  sources: [{eventSource: shop, types: [com.shop.order.*]}, {eventSource: crm, types: [com.crm.>]}]
  rules: 'rule All { when true then Route("store"); }'
  outputs: [{name: store, sink: s}]
`,
    );
    const events = file(
      'typed.jsonl',
      [
        '{"specversion":"1.0","id":"a","type":"com.shop.order.created","source":"/s","data":{}}',
        '{"specversion":"1.0","id":"b","type":"com.shop.refund","source":"/s","data":{}}',
        '{"specversion":"1.0","id":"c","type":"com.crm.customer.updated","source":"/s","data":{}}',
      ].join('\n'),
    );
    const r = cli(['test', '-f', typed, '--events', events]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { id: string; outcome: string; reason?: string });
    expect(lines.map((l) => [l.id, l.outcome])).toEqual([
      ['a', 'routed'],
      ['b', 'filtered'],
      ['c', 'routed'],
    ]);
    expect(lines[1]!.reason).toBe(
      "type com.shop.refund matches no types of the Pipeline's sources (shop: com.shop.order.*; crm: com.crm.>): the Pipeline never receives it",
    );
  });

  it('checks expectations and reports mismatches readably with exit 1', () => {
    const events = file('e2.jsonl', '{"amount": 1500}\n{"amount": 3}\n');
    const good = file(
      'good.jsonl',
      '{"id":"line-1","outcome":"routed","routes":["store"],"event":{"data":{"tier":"gold"}}}\n{"id":"line-2","routes":["analytics"]}\n',
    );
    const ok = cli(['test', '-f', pipeline, '--events', events, '--expect', good, '-q']);
    expect(ok.stdout).toBe('');
    expect(ok.stderr).toBe('ok: 2 expectations met (2 events, 0 without expectation)\n');
    expect(ok.code).toBe(0);

    const bad = file(
      'bad.jsonl',
      '{"id":"line-1","outcome":"dropped","event":{"data":{"tier":"silver","extra":1}}}\n{"id":"line-9"}\n',
    );
    const r = cli(['test', '-f', pipeline, '--events', events, '--expect', bad]);
    expect(r.code).toBe(1);
    expect(r.stdout.trimEnd().split('\n')).toHaveLength(2);
    expect(r.stderr).toBe(
      [
        `${events}:1 (id line-1, expected at ${bad}:1):`,
        '  outcome: expected "dropped", got "routed"',
        '  event.data.tier: expected "silver", got "gold"',
        '  event.data.extra: expected 1, got (missing)',
        `${bad}:2: no event with id line-9 in ${events}`,
        'FAIL: 2 of 2 expectations not met (2 events)',
        '',
      ].join('\n'),
    );
  });

  it('reports rule errors at their line and column in the manifest', () => {
    const broken = file(
      'broken.yaml',
      `apiVersion: eventrunner.io/v1alpha1
kind: Pipeline
metadata: {name: p}
spec:
  outputs: [{name: a, sink: s}]
  rules: |
    rule A { when true then Route("a"); }
    rule B { when event.x > then Route("nope"); }
`,
    );
    const events = file('e3.jsonl', '{}\n');
    const r = cli(['test', '-f', broken, '--events', events]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `${broken}:8:29: expected an expression (a literal, a variable, a function call or a parenthesis), found keyword 'then'\n`,
    );
  });

  it('needs --pipeline when the file holds several Pipelines, and reads events from stdin', () => {
    const two = file(
      'two.yaml',
      ['a', 'b']
        .map(
          (n) =>
            `apiVersion: eventrunner.io/v1alpha1\nkind: Pipeline\nmetadata: {name: ${n}}\nspec:\n  outputs: [{name: out${n}, sink: s}]\n`,
        )
        .join('---\n'),
    );
    const r = cli(['test', '-f', two, '--events', '-']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/holds 2 Pipelines \(a, b\); choose one with --pipeline/);
    const ok = cli(['test', '-f', two, '--events', '-', '--pipeline', 'b'], '{"x":1}\n');
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ id: 'line-1', outcome: 'routed', routes: ['outb'] });
  });

  it('exits 1 on manifest problems and 2 on bad flags', () => {
    const events = file('e5.jsonl', '{}\n');
    const none = file('none.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n');
    expect(cli(['test', '-f', none, '--events', events])).toMatchObject({
      code: 1,
      stderr: `${none} holds no eventrunner.io Pipeline\n`,
    });
    const badDefault = file(
      'bad-default.yaml',
      'apiVersion: eventrunner.io/v1alpha1\nkind: Pipeline\nmetadata: {name: p}\nspec:\n  outputs: [{name: a, sink: s}]\n  defaultOutputs: [b]\n',
    );
    expect(cli(['test', '-f', badDefault, '--events', events])).toMatchObject({
      code: 1,
      stderr: `${badDefault}: spec.defaultOutputs names b, not in spec.outputs\n`,
    });
    const r = cli(['test', '-f', pipeline, '--events', events, '--bogus']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown argument "--bogus"/);
  });

  it('rejects an invalid event line with its line number', () => {
    const events = file('e4.jsonl', '{"a":1}\n{nope\n');
    const r = cli(['test', '-f', pipeline, '--events', events]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^${events.replace(/[.]/g, '\\.')}:2: not valid JSON`));
  });
});
