// The chart ships the same CRDs as crds/ (generated from api/schema/ by `npm run gen`); Helm
// installs them from charts/eventrunner/crds/ before the templates.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { chartCrdDir, chartCrdDrift, syncChartCrds } from '../../../hack/sync-chart-crds.js';

describe('chart CRDs', () => {
  it('equal the generated crds/ byte for byte (run `npm run chart:crds` when this fails)', () => {
    expect(chartCrdDrift()).toEqual({ missing: [], extra: [], changed: [] });
  });

  it('are the three eventrunner.io CRDs', () => {
    const names = ['eventsources', 'pipelines', 'sinks'].map((plural) => {
      const docs = parseAllDocuments(readFileSync(join(chartCrdDir, `eventrunner.io_${plural}.yaml`), 'utf8'))
        .map((d) => d.toJS() as { kind: string; metadata: { name: string } } | null)
        .filter((d) => d !== null);
      expect(docs.map((d) => d.kind)).toEqual(['CustomResourceDefinition']);
      return docs[0]!.metadata.name;
    });
    expect(names).toEqual([
      'eventsources.eventrunner.io',
      'pipelines.eventrunner.io',
      'sinks.eventrunner.io',
    ]);
  });

  describe('drift check and sync', () => {
    let dir: string;
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it('reports missing, extra and changed files, and a sync clears all three', () => {
      dir = mkdtempSync(join(tmpdir(), 'er-crds-'));
      const from = join(dir, 'crds');
      const to = join(dir, 'chart-crds');
      mkdirSync(from);
      mkdirSync(to);
      writeFileSync(join(from, 'a.yaml'), 'kind: A\n');
      writeFileSync(join(from, 'b.yaml'), 'kind: B\n');
      writeFileSync(join(to, 'b.yaml'), 'kind: B-old\n');
      writeFileSync(join(to, 'gone.yaml'), 'kind: Gone\n');
      writeFileSync(join(to, 'README.md'), 'not a CRD; left alone\n');
      expect(chartCrdDrift(from, to)).toEqual({
        missing: ['a.yaml'],
        extra: ['gone.yaml'],
        changed: ['b.yaml'],
      });

      expect(syncChartCrds(from, to)).toEqual(['a.yaml', 'b.yaml']);
      expect(chartCrdDrift(from, to)).toEqual({ missing: [], extra: [], changed: [] });
      expect(readFileSync(join(to, 'b.yaml'), 'utf8')).toBe('kind: B\n');
      expect(readFileSync(join(to, 'README.md'), 'utf8')).toBe('not a CRD; left alone\n');
    });

    it('refuses to sync from an empty crds/ rather than emptying the chart', () => {
      dir = mkdtempSync(join(tmpdir(), 'er-crds-'));
      mkdirSync(join(dir, 'crds'));
      expect(() => syncChartCrds(join(dir, 'crds'), join(dir, 'chart'))).toThrow(/npm run gen/);
    });
  });
});
