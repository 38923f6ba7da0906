// Runs the provisioned helm binary on charts/eventrunner and parses what it renders.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubernetesObject } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { repoRoot, toolPath } from '../../stack/paths.js';

export const chartDir = join(repoRoot, 'charts', 'eventrunner');
// The helm built by `npm run tools` has no Kubernetes version linked in and would assume 1.20,
// which the chart's kubeVersion (>= 1.30) refuses; say which cluster the render is for.
const kubeVersion = '1.36.0';

export interface HelmResult {
  status: number;
  stdout: string;
  stderr: string;
}

export function helm(args: string[]): HelmResult {
  const r = spawnSync(toolPath('helm'), args, { encoding: 'utf8', timeout: 20_000 });
  if (r.error) throw r.error;
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** `helm template` with `values` in a values file; the raw result, for tests that expect failure. */
export function tryTemplate(values: object = {}, extra: string[] = []): HelmResult {
  const dir = mkdtempSync(join(tmpdir(), 'er-chart-'));
  try {
    const file = join(dir, 'values.yaml');
    writeFileSync(file, JSON.stringify(values));
    return helm([
      'template',
      'er',
      chartDir,
      '--namespace',
      'eventrunner-system',
      '--kube-version',
      kubeVersion,
      '--values',
      file,
      ...extra,
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The objects the chart renders with `values`; throws with helm's message when it fails. */
export function render(values: object = {}, extra: string[] = []): KubernetesObject[] {
  const r = tryTemplate(values, extra);
  if (r.status !== 0) throw new Error(`helm template failed: ${r.stderr}`);
  return parseAllDocuments(r.stdout)
    .map((d) => d.toJS() as KubernetesObject | null)
    .filter((o): o is KubernetesObject => o !== null);
}

export function find<T = KubernetesObject>(objects: KubernetesObject[], kind: string, name?: string): T {
  const found = objects.find((o) => o.kind === kind && (name === undefined || o.metadata?.name === name));
  if (!found) throw new Error(`no ${kind}${name ? ` ${name}` : ''} rendered`);
  return found as T;
}
