// Properties of the schemas themselves that the API server would not tell us about until apply
// time, or at all: descriptions for kubectl explain, structural types, names of CEL rules.
import { describe, expect, it } from 'vitest';
import { crdFor } from '../../../api/gen/crd.js';
import { kinds } from '../../../api/schema/index.js';
import { walk, type Schema } from '../../../api/schema/dsl.js';

describe('schemas', () => {
  for (const def of kinds) {
    it(`${def.kind}: every field has a description and a structural type`, () => {
      const missing: string[] = [];
      const untyped: string[] = [];
      for (const [root, schema] of [
        ['spec', def.spec],
        ['status', def.status],
      ] as const) {
        walk(schema, (s: Schema, path) => {
          const name = [root, ...path].join('.');
          const isItem = path.at(-1) === '[]' || path.at(-1) === '{}';
          if (!isItem && !s.description?.trim()) missing.push(name);
          if (!s.type && !s['x-kubernetes-int-or-string']) untyped.push(name);
        });
      }
      expect(missing).toEqual([]);
      expect(untyped).toEqual([]);
    });

    it(`${def.kind}: CEL rules have unique ids and a message`, () => {
      const rules = [...(def.rootValidations ?? [])];
      walk(def.spec, (s) => rules.push(...(s['x-kubernetes-validations'] ?? [])));
      for (const r of rules) expect(r.message ?? r.messageExpression, r.$id).toBeTruthy();
      expect(new Set(rules.map((r) => r.$id)).size).toBe(rules.length);
    });
  }

  it('names the CRDs as the kubectl experience needs them', () => {
    const names = kinds.map((k) => {
      const crd = crdFor(k) as {
        spec: { names: Record<string, unknown>; scope: string; versions: unknown[] };
      };
      return { ...crd.spec.names, scope: crd.spec.scope };
    });
    expect(names).toEqual([
      expect.objectContaining({
        kind: 'EventSource',
        plural: 'eventsources',
        shortNames: ['es'],
        categories: ['eventrunner'],
        scope: 'Namespaced',
      }),
      expect.objectContaining({
        kind: 'Pipeline',
        plural: 'pipelines',
        shortNames: ['pl'],
        categories: ['eventrunner'],
        scope: 'Namespaced',
      }),
      expect.objectContaining({
        kind: 'Sink',
        plural: 'sinks',
        shortNames: ['sk'],
        categories: ['eventrunner'],
        scope: 'Namespaced',
      }),
      expect.objectContaining({
        kind: 'Replay',
        plural: 'replays',
        shortNames: ['rp'],
        categories: ['eventrunner'],
        scope: 'Namespaced',
      }),
    ]);
  });

  it('declares the printer columns of the design', () => {
    const columns = Object.fromEntries(
      kinds.map((k) => [
        k.kind,
        k.printerColumns.map((c) => `${c.name.toUpperCase()}${c.priority ? '*' : ''}`),
      ]),
    );
    expect(columns).toEqual({
      EventSource: ['READY', 'STREAM', 'ENDPOINT', 'AGE'],
      Pipeline: [
        'READY',
        'REPLICAS',
        'LAG',
        'DLQ',
        'AGE',
        'SOURCES*',
        'OUTPUTS*',
        'QUERIES*',
        'OWNED*',
        'WORKERS*',
        'WATERMARK*',
      ],
      Sink: ['READY', 'KIND', 'TARGET', 'AGE'],
      Replay: ['PIPELINE', 'PHASE', 'DONE', 'TOTAL', 'FAILED', 'AGE'],
    });
  });

  it('keeps the field names other components read', () => {
    const pl = kinds.find((k) => k.kind === 'Pipeline')!;
    const engine = pl.spec.properties!.ruleEngine!;
    expect(engine.properties!.mode!.enum).toEqual(['once', 'refire']);
    expect(engine.properties!.mode!.default).toBe('once');
    expect(engine.properties!.maxCycles).toMatchObject({ default: 5000, minimum: 1 });
  });
});
