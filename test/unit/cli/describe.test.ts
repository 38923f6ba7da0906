// `eventrunner describe eventsource` as a real child process: the quickstart's documents pass the
// OpenAPI 3.1 and AsyncAPI 3.0 validators, ConfigMap schemas are read from the files given, and
// mistakes exit 1 (manifest) or 2 (usage) naming what to fix.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Parser } from '@asyncapi/parser';
import { parseAllDocuments } from 'yaml';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const entry = join(root, 'test/unit/cli/entry.ts');

function eventrunner(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', entry, ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 9_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('eventrunner describe eventsource', () => {
  it('prints the quickstart documents, which their validators accept', async () => {
    const r = eventrunner('describe', 'eventsource', '-f', 'examples/quickstart/');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const { openapi, asyncapi } = JSON.parse(r.stdout) as {
      openapi: Record<string, never>;
      asyncapi: unknown;
    };
    const validator = new Validator();
    const res = await validator.validate(openapi);
    expect(res.errors).toBeUndefined();
    expect(validator.version).toBe('3.1');
    validator.resolveRefs();
    expect(openapi).toMatchObject({
      servers: [{ url: 'http://shop-ingest.default.svc:8080' }],
      components: { schemas: { 'com.shop.order.any-type': { required: ['amount', 'currency', 'country'] } } },
    });
    const { document, diagnostics } = await new Parser().parse(asyncapi as never);
    expect(diagnostics.filter((d) => d.severity === 0)).toEqual([]);
    expect(
      document
        ?.channels()
        .all()
        .map((c) => c.address()),
    ).toEqual(['/events', 'er.default.shop.{type}']);
  }, 20_000);

  it('prints YAML documents, and one document on its own', () => {
    const yaml = eventrunner(
      'describe',
      'es',
      '-f',
      'examples/quickstart/eventsource.yaml',
      '-o',
      'yaml',
      '-n',
      'shop',
    );
    expect(yaml.status).toBe(0);
    const docs = parseAllDocuments(yaml.stdout).map((d) => d.toJS() as Record<string, unknown>);
    expect(docs.map((d) => d.openapi ?? d.asyncapi)).toEqual(['3.1.0', '3.0.0']);
    expect(docs[0]).toMatchObject({ servers: [{ url: 'http://shop-ingest.shop.svc:8080' }] });
    const one = eventrunner(
      'describe',
      'eventsource',
      '-f',
      'examples/quickstart/',
      '--document',
      'asyncapi',
    );
    expect(Object.keys(JSON.parse(one.stdout) as object)).toContain('asyncapi');
    expect((JSON.parse(one.stdout) as { asyncapi: string }).asyncapi).toBe('3.0.0');
  });

  it('reads ConfigMap schemas from the files, and exits 1 naming a missing one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'eventrunner-describe-'));
    const es = `apiVersion: eventrunner.io/v1alpha1
kind: EventSource
metadata: {name: orders, namespace: shop}
spec:
  ingest: {auth: {enabled: false}}
  schemas:
    - type: com.shop.refund
      configMapKeyRef: {name: refund-schema, key: refund.yaml}
`;
    writeFileSync(join(dir, 'es.yaml'), es);
    const missing = eventrunner('describe', 'eventsource', '-f', join(dir, 'es.yaml'));
    expect(missing.status).toBe(1);
    expect(missing.stderr).toBe(
      'EventSource/orders: spec.schemas[0].configMapKeyRef: ConfigMap refund-schema is not among the files: add its manifest with -f\n',
    );
    writeFileSync(
      join(dir, 'cm.yaml'),
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: refund-schema}\ndata:\n  refund.yaml: |\n    type: object\n    required: [orderId]\n',
    );
    const ok = eventrunner('describe', 'eventsource', '-f', dir, '--document', 'openapi');
    expect(ok.status).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({
      components: { schemas: { 'com.shop.refund': { type: 'object', required: ['orderId'] } } },
    });
  });

  it('lets eventrunner test refuse events as ingest would, with --schemas', () => {
    const dir = mkdtempSync(join(tmpdir(), 'eventrunner-test-schemas-'));
    writeFileSync(
      join(dir, 'events.jsonl'),
      [
        '{"specversion":"1.0","id":"ok","type":"com.shop.order.created","source":"/c","data":{"amount":1,"currency":"EUR","country":"DE"}}',
        '{"specversion":"1.0","id":"bad","type":"com.shop.order.created","source":"/c","data":{"amount":1,"currency":"euro","country":"DE"}}',
      ].join('\n'),
    );
    const r = eventrunner(
      'test',
      '-f',
      'examples/quickstart/pipeline.yaml',
      '--events',
      join(dir, 'events.jsonl'),
      '--schemas',
      'examples/quickstart/eventsource.yaml',
    );
    expect(r.status).toBe(0);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines[0]).toMatchObject({ id: 'ok', outcome: 'routed' });
    expect(lines[1]).toEqual({
      id: 'bad',
      outcome: 'refused',
      reason:
        'event "bad" does not match the schema for type com.shop.order.created: data/currency must match pattern "^[A-Z]{3}$"',
      pointer: '/currency',
      keyword: 'pattern',
    });
  });

  it('exits 2 for anything but an EventSource to describe', () => {
    const r = eventrunner('describe', 'pipeline', '-f', 'examples/quickstart/');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^eventrunner describe: describe what\? Only eventsource is described/);
    const help = eventrunner('describe', 'eventsource', '--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^Usage: eventrunner describe eventsource -f <file> \[options\]/);
  });
});
