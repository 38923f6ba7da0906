// Test helpers around the operator: install the generated CRDs, run the operator in-process
// against the test stack, create namespaces, and wait for conditions.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  ApiextensionsV1Api,
  CoreV1Api,
  KubernetesObjectApi,
  PatchStrategy,
  type KubeConfig,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { createLogger } from '../../runtime/common/logger.js';
import type { Operator } from '../../operator/manager.js';
import type { OperatorOptions } from '../../operator/options.js';
import { runOperator } from '../../operator/run.js';
import { repoRoot } from '../stack/paths.js';

export async function installCrds(kc: KubeConfig): Promise<void> {
  const api = KubernetesObjectApi.makeApiClient(kc);
  const ext = kc.makeApiClient(ApiextensionsV1Api);
  const dir = join(repoRoot, 'crds');
  const names: string[] = [];
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.yaml'))) {
    for (const doc of parseAllDocuments(readFileSync(join(dir, f), 'utf8'))) {
      const crd = doc.toJS() as KubernetesObject;
      if (!crd) continue;
      await api.patch(crd, undefined, undefined, 'eventrunner-tests', true, PatchStrategy.ServerSideApply);
      names.push(crd.metadata!.name!);
    }
  }
  for (const name of names) {
    for (let i = 0; ; i++) {
      const got = await ext.readCustomResourceDefinition({ name });
      if (got.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) break;
      if (i > 100) throw new Error(`CRD ${name} never became Established`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

export async function createNamespace(kc: KubeConfig, name: string): Promise<void> {
  await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name } } });
}

export function testOptions(natsUrl: string, overrides: Partial<OperatorOptions> = {}): OperatorOptions {
  return {
    image: 'eventrunner:test',
    imagePullPolicy: 'IfNotPresent',
    natsUrl,
    watchNamespace: '',
    leaderElection: { enabled: false, namespace: 'default', name: 'eventrunner-test', identity: 'test' },
    opsPort: 0,
    resyncMs: 60_000,
    concurrency: 4,
    logLevel: 'warn',
    ...overrides,
  };
}

export function startTestOperator(kc: KubeConfig, options: OperatorOptions): Promise<Operator> {
  return runOperator(kc, options, createLogger({ name: 'operator-test', level: options.logLevel }));
}

/** Polls `probe` until it returns a value (not undefined); fails with `what` after the timeout. */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}
