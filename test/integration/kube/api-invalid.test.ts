// The table of invalid manifests against the real API server: each is rejected with a message
// naming the field. Cases no schema can express (the GRL rules) are accepted by the API server
// and rejected by `eventrunner validate`; both halves are asserted.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { installCrds } from '../../../operator/install-crds.js';
import { validateFiles } from '../../../cli/commands/validate.js';
import { kubeEnv } from '../../stack/context.js';
import {
  clickhouseSink,
  eventSource,
  invalidCases,
  pipeline,
  scyllaSink,
  type Manifest,
} from '../../unit/api/invalid-cases.js';

const group = 'eventrunner.io';
const version = 'v1alpha1';
const namespace = `api-invalid-${process.pid}`;
const plurals: Record<string, string> = { EventSource: 'eventsources', Pipeline: 'pipelines', Sink: 'sinks' };

let custom: CustomObjectsApi;

interface Rejection {
  code: number;
  message: string;
  /** Fields of the individual errors (details.causes); empty for strict-decoding errors. */
  fields: string[];
}

function plural(m: Manifest): string {
  return plurals[String(m.kind)]!;
}

/** Creates like `kubectl apply` does by default: unknown fields are errors (fieldValidation=Strict). */
async function create(m: Manifest): Promise<Manifest> {
  return (await custom.createNamespacedCustomObject({
    group,
    version,
    namespace,
    plural: plural(m),
    body: m,
    fieldValidation: 'Strict',
  })) as Manifest;
}

async function replace(m: Manifest): Promise<Manifest> {
  const name = (m.metadata as { name: string }).name;
  return (await custom.replaceNamespacedCustomObject({
    group,
    version,
    namespace,
    plural: plural(m),
    name,
    body: m,
    fieldValidation: 'Strict',
  })) as Manifest;
}

async function rejection(write: Promise<unknown>): Promise<Rejection> {
  try {
    await write;
  } catch (err) {
    const e = err as { code?: number; body?: unknown };
    type Status = { message?: string; details?: { causes?: { field?: string }[] } };
    const body = (typeof e.body === 'string' ? JSON.parse(e.body) : e.body) as Status | undefined;
    return {
      code: e.code ?? 0,
      message: body?.message ?? String(err),
      fields: (body?.details?.causes ?? []).map((c) => c.field ?? ''),
    };
  }
  throw new Error('the API server accepted the object');
}

beforeAll(async () => {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeEnv().kubeconfig);
  custom = kc.makeApiClient(CustomObjectsApi);
  await installCrds(kc);
  await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: namespace } } });
});

describe('valid minimal objects', () => {
  it('are accepted, so each invalid case fails for its own change only', async () => {
    for (const m of [
      eventSource('base-es'),
      pipeline('base-pl'),
      scyllaSink('base-scylla'),
      clickhouseSink('base-ch'),
    ]) {
      await create(m);
    }
  });
});

describe('invalid manifests on the API server', () => {
  const serverCases = invalidCases.filter((c) => c.server);
  const offlineOnly = invalidCases.filter((c) => !c.server);

  it('covers at least 25 cases the API server rejects', () => {
    expect(serverCases.length).toBeGreaterThanOrEqual(25);
  });

  for (const c of serverCases) {
    it(`rejects: ${c.name}`, async () => {
      let result: Rejection;
      if (c.update) {
        const created = await create(structuredClone(c.manifest));
        const changed = structuredClone(created);
        c.update(changed);
        result = await rejection(replace(changed));
      } else {
        result = await rejection(create(structuredClone(c.manifest)));
      }
      expect([400, 422]).toContain(result.code);
      const { field, message } = c.server!;
      // The API server names the field either as the error's path or inside the rule's message.
      expect(result.message).toContain(field);
      expect(result.message).toContain(message);
      // Only this problem: every error with a path is about the field (root-level ones have none).
      // (The scale subresource repeats a replicas error as `.spec.replicas`.)
      const unrelated = result.fields.filter(
        (f) => f && f !== '<nil>' && !f.replace(/^\./, '').startsWith(field),
      );
      expect(unrelated).toEqual([]);
    });
  }

  for (const c of offlineOnly) {
    it(`accepts on the server but eventrunner validate rejects: ${c.name}`, async () => {
      const m = structuredClone(c.manifest);
      (m.metadata as { name: string }).name = `offline-${offlineOnly.indexOf(c)}`;
      await create(m);
      const file = join(mkdtempSync(join(tmpdir(), 'eventrunner-api-')), 'pipeline.yaml');
      writeFileSync(file, YAML.stringify(m, { blockQuote: 'literal' }));
      const problems = validateFiles([file]).problems.map((p) => p.message);
      expect(problems.length).toBeGreaterThan(0);
      expect(
        problems.every((p) => p.includes(`${c.offline!.field}:`)),
        problems.join('\n'),
      ).toBe(true);
      expect(problems.join('\n')).toContain(c.offline!.message);
    });
  }
});
