// `helm lint --strict` passes on the chart as shipped and fails on values the schema rejects.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chartDir, helm } from './helm.js';

const lint = (extra: string[] = []) =>
  helm(['lint', '--strict', '--kube-version', '1.36.0', chartDir, ...extra]);

describe('helm lint', () => {
  it('passes with no warnings or errors', () => {
    const r = lint();
    expect(r.stdout + r.stderr).not.toMatch(/\[(WARNING|ERROR)\]/);
    expect(r.stdout).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
    expect(r.status).toBe(0);
  });

  it('fails on bad values', () => {
    const dir = mkdtempSync(join(tmpdir(), 'er-lint-'));
    try {
      const file = join(dir, 'bad.yaml');
      writeFileSync(file, 'nats:\n  url: localhost:4222\nreplicaCount: two\n');
      const r = lint(['--values', file]);
      expect(r.status).not.toBe(0);
      expect(r.stdout + r.stderr).toMatch(/\/nats\/url/);
      expect(r.stdout + r.stderr).toMatch(/\/replicaCount/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
