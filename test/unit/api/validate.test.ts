// The offline validator: examples pass with defaults applied, each invalid case is caught with a
// message naming the field, and every CEL rule has a TypeScript twin.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checks } from '../../../api/crossfield.js';
import { parseManifests } from '../../../api/manifests.js';
import { kinds } from '../../../api/schema/index.js';
import { celRuleIds, formatPath, validatePipeline, validateResource } from '../../../api/validate.js';
import { validateFiles } from '../../../cli/commands/validate.js';
import { repoRoot } from '../../../hack/gen-api.js';
import { clickhouseSink, eventSource, invalidCases, pipeline, scyllaSink } from './invalid-cases.js';

function exampleObjects(): { file: string; object: Record<string, unknown> }[] {
  const dir = join(repoRoot, 'examples');
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((f) =>
      parseManifests(readFileSync(join(dir, f), 'utf8')).documents.map((d) => ({
        file: f,
        object: d.object as Record<string, unknown>,
      })),
    )
    .filter((d) => String(d.object.apiVersion).startsWith('eventrunner.io/'));
}

describe('validateResource', () => {
  it('accepts labels and annotations, such as kubectl last-applied-configuration', () => {
    const es = eventSource() as unknown as { metadata: Record<string, unknown> };
    es.metadata.labels = { team: 'shop' };
    es.metadata.annotations = { 'kubectl.kubernetes.io/last-applied-configuration': '{}' };
    expect(validateResource(es).issues).toEqual([]);
    es.metadata.labels = { team: 1 };
    expect(validateResource(es).issues.map((i) => formatPath(i.path))).toEqual(['metadata.labels.team']);
  });

  it('accepts every example and the minimal objects of the invalid-case table', () => {
    const objects = [
      ...exampleObjects().map((e) => e.object),
      eventSource(),
      pipeline(),
      scyllaSink(),
      clickhouseSink(),
    ];
    expect(objects.length).toBeGreaterThanOrEqual(12);
    for (const o of objects) expect(validateResource(o).issues, JSON.stringify(o.metadata)).toEqual([]);
  });

  it('has a quickstart with one EventSource, a Scylla and two ClickHouse Sinks and one Pipeline with a query', () => {
    const quick = exampleObjects().filter((e) => e.file.startsWith('quickstart'));
    const kindsFound = quick.map((e) => e.object.kind).sort();
    expect(kindsFound).toEqual(['EventSource', 'Pipeline', 'Sink', 'Sink', 'Sink']);
    const sinks = quick
      .filter((e) => e.object.kind === 'Sink')
      .map((e) => Object.keys(e.object.spec as object).filter((k) => k !== 'columns'));
    expect(sinks.flat().sort()).toEqual(['clickhouse', 'clickhouse', 'scylla']);
    const pl = quick.find((e) => e.object.kind === 'Pipeline')!.object as {
      spec: { queries: { name: string }[] };
    };
    expect(pl.spec.queries.map((q) => q.name)).toEqual(['orders-per-minute']);
  });

  it('applies schema defaults to a copy and leaves the input alone', () => {
    const input = pipeline();
    const { value, issues } = validatePipeline(input);
    expect(issues).toEqual([]);
    expect(value.spec.ruleEngine).toEqual({ mode: 'once', maxCycles: 5000 });
    expect(value.spec.delivery).toEqual({ maxDeliver: 5, ackWait: '30s', maxAckPending: 1000 });
    expect(value.spec.deadLetter).toEqual({ maxAge: '168h', maxBytes: '1Gi', deletionPolicy: 'Delete' });
    expect(value.spec.replicas).toBe(1);
    expect(value.spec.suspend).toBe(false);
    expect(input.spec.ruleEngine).toBeUndefined();
    const es = validateResource(eventSource()).value;
    expect(es.spec).toMatchObject({
      ingest: {
        http: { enabled: true, port: 8080 },
        grpc: { enabled: true, port: 9090 },
        maxBodyBytes: '1Mi',
      },
      stream: { maxAge: '72h', maxBytes: '1Gi', replicas: 1, storage: 'file', duplicateWindow: '2m' },
      deletionPolicy: 'Delete',
    });
  });

  it('rejects an unknown kind and a foreign apiVersion', () => {
    expect(validateResource({ ...pipeline(), kind: 'Pipe' }).issues).toEqual([
      { path: ['kind'], message: 'must be one of EventSource, Pipeline, Sink, Replay' },
    ]);
    const issues = validateResource({ ...pipeline(), apiVersion: 'eventrunner.io/v1' }).issues;
    expect(issues.map((i) => formatPath(i.path))).toContain('apiVersion');
  });

  it('requires metadata.name', () => {
    const issues = validateResource({ ...pipeline(), metadata: {} }).issues;
    expect(issues).toContainEqual({ path: ['metadata', 'name'], message: 'required field is missing' });
  });
});

describe('invalid manifests, offline', () => {
  const offline = invalidCases.filter((c) => c.offline && !c.update);
  it('has a table of at least 25 cases', () => {
    expect(invalidCases.length).toBeGreaterThanOrEqual(25);
  });

  for (const c of offline) {
    it(`rejects: ${c.name}`, () => {
      const { field, message } = c.offline!;
      if (field === 'spec.rules') {
        // Rules are compiled by `eventrunner validate`, not by the schema validator.
        expect(validateResource(c.manifest).issues).toEqual([]);
        return;
      }
      const issues = validateResource(c.manifest).issues.map((i) => `${formatPath(i.path)}: ${i.message}`);
      expect(
        issues.some((i) => i.startsWith(`${field}: `) && i.includes(message)),
        issues.join('\n'),
      ).toBe(true);
    });
  }
});

describe('CEL rules and their offline twins', () => {
  it('gives every CEL rule that can run offline a TypeScript twin, and no twin without a rule', () => {
    const ids = kinds.flatMap((k) => celRuleIds(k));
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(Object.keys(checks).sort());
  });
});

describe('validateFiles on the examples', () => {
  it('finds no problems in examples/', () => {
    const report = validateFiles([join(repoRoot, 'examples')], true);
    expect(report.problems).toEqual([]);
    expect(report.checked).toBe(28);
  });
});
