// docs/security.md documents the operator's RBAC rule by rule: every rule of operator/rbac.ts has a
// row of its table naming its resources with exactly its verbs, so the page cannot drift from what
// the chart grants.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  operatorClusterRules,
  operatorLeaderElectionRules,
  operatorNatsUserRules,
} from '../../../operator/rbac.js';
import { repoRoot } from '../../stack/paths.js';

/** The rows of the table headed `| Resources | Verbs | Why |`: resources and verbs per row. */
function documentedRows(): { resources: string[]; verbs: string[] }[] {
  const lines = readFileSync(join(repoRoot, 'docs', 'security.md'), 'utf8').split('\n');
  const start = lines.findIndex((l) => /^\| Resources \| Verbs \| Why \|/.test(l));
  expect(start, 'docs/security.md has the RBAC table').toBeGreaterThanOrEqual(0);
  const rows = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    const [resources = '', verbs = ''] = line.split('|').slice(1, 3);
    rows.push({
      resources: resources
        .replace(/\([^)]*\)/g, '')
        .split(',')
        .map((r) => r.trim()),
      verbs: verbs.split(',').map((v) => v.trim()),
    });
  }
  return rows;
}

describe('docs/security.md RBAC table', () => {
  it('has, for every rule the operator declares, a row with its resources and exactly its verbs', () => {
    const rows = documentedRows();
    for (const rule of [...operatorClusterRules, ...operatorNatsUserRules, ...operatorLeaderElectionRules])
      for (const resource of rule.resources ?? []) {
        const sub = resource.includes('/') ? `…/${resource.split('/')[1]}` : undefined;
        const named = rows.filter(
          (r) => r.resources.includes(resource) || (sub && r.resources.includes(sub)),
        );
        expect(
          named.map((r) => [...r.verbs].sort()),
          `a row for ${resource} with verbs ${rule.verbs.join(', ')}`,
        ).toContainEqual([...rule.verbs].sort());
      }
  });
});
