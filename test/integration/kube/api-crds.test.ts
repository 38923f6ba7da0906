// The CRDs on a real kube-apiserver: examples apply cleanly and are defaulted exactly as the
// offline validator defaults them; kubectl explain, short names, the category, printer columns
// and the scale subresource work as users will use them.
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import {
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { crdManifests } from '../../../api/gen/crd.js';
import { parseManifests } from '../../../api/manifests.js';
import { validateResource } from '../../../api/validate.js';
import { repoRoot } from '../../../hack/gen-api.js';
import { toolPath } from '../../stack/paths.js';
import { kubeEnv } from '../../stack/context.js';

const group = 'eventrunner.io';
const version = 'v1alpha1';
const namespace = `api-crds-${process.pid}`;
const plurals: Record<string, string> = { EventSource: 'eventsources', Pipeline: 'pipelines', Sink: 'sinks' };

const crdNames = crdManifests().map((c) => (c.metadata as { name: string }).name);

let kc: KubeConfig;
let custom: CustomObjectsApi;

function kubectl(...args: string[]): { stdout: string; stderr: string } {
  try {
    const stdout = execFileSync(toolPath('kubectl'), args, {
      env: { ...process.env, KUBECONFIG: kubeEnv().kubeconfig },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return { stdout, stderr: '' };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    throw new Error(`kubectl ${args.join(' ')} failed: ${e.stderr ?? ''}${e.stdout ?? ''}`, { cause: err });
  }
}

/** GET with an Accept header the typed clients do not offer (Table, for printer columns). */
async function getRaw(path: string, accept: string): Promise<Record<string, unknown>> {
  const opts: https.RequestOptions & { headers: Record<string, string> } = { headers: {} };
  await kc.applyToHTTPSOptions(opts);
  const url = new URL(path, kc.getCurrentCluster()!.server);
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      { ...opts, method: 'GET', headers: { ...opts.headers, accept } },
      (res) => {
        let data = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (data += c));
        res.on('end', () =>
          res.statusCode === 200
            ? resolve(JSON.parse(data))
            : reject(new Error(`${res.statusCode}: ${data}`)),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

async function table(plural: string, name: string): Promise<Record<string, unknown>> {
  const t = await getRaw(
    `/apis/${group}/${version}/namespaces/${namespace}/${plural}?fieldSelector=metadata.name=${name}`,
    'application/json;as=Table;v=v1;g=meta.k8s.io',
  );
  const columns = (t.columnDefinitions as { name: string; priority: number }[]).map((c) => c.name);
  const rows = t.rows as { cells: unknown[] }[];
  expect(rows).toHaveLength(1);
  return Object.fromEntries(columns.map((c, i) => [c, rows[0]!.cells[i]]));
}

// The generated client sends JSON patch unless told otherwise.
const mergePatch = () => setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

async function patchStatus(plural: string, name: string, status: Record<string, unknown>): Promise<void> {
  await custom.patchNamespacedCustomObjectStatus(
    { group, version, namespace, plural, name, body: { status } },
    mergePatch(),
  );
}

const exampleFiles = readdirSync(join(repoRoot, 'examples'), { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.yaml'))
  .sort();
/** Example folders holding eventrunner resources (kind/ holds the servers of a kind cluster). */
const exampleDirs = [
  ...new Set(
    exampleFiles
      .filter((f) => readFileSync(join(repoRoot, 'examples', f), 'utf8').includes(`${group}/${version}`))
      .map((f) => f.split('/')[0]!),
  ),
];

beforeAll(async () => {
  kc = new KubeConfig();
  kc.loadFromFile(kubeEnv().kubeconfig);
  custom = kc.makeApiClient(CustomObjectsApi);
  // What users run: the committed YAML, not the TypeScript it is generated from.
  kubectl('apply', '--server-side', '--force-conflicts', '-f', join(repoRoot, 'crds'));
  kubectl('wait', '--for=condition=Established', '--timeout=60s', ...crdNames.map((n) => `crd/${n}`));
  for (const dir of exampleDirs)
    await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: namespaceOf(dir) } } });
});

/** Each example in a namespace of its own (they reuse names); the quickstart in the main one. */
function namespaceOf(dir: string): string {
  return dir === 'quickstart' ? namespace : `${namespace}-${dir}`;
}

describe('examples on the API server', () => {
  it('apply cleanly, without warnings, and are defaulted as the offline validator defaults them', async () => {
    expect(exampleDirs).toEqual(['iot-telemetry', 'outputs', 'patterns', 'queries', 'quickstart']);
    for (const dir of exampleDirs) {
      const res = spawnSync(
        toolPath('kubectl'),
        ['apply', '-n', namespaceOf(dir), '--recursive', '-f', join(repoRoot, 'examples', dir)],
        {
          env: { ...process.env, KUBECONFIG: kubeEnv().kubeconfig },
          encoding: 'utf8',
        },
      );
      expect(res.status, res.stderr).toBe(0);
      // Unknown or pruned fields would show up as warnings.
      expect(res.stderr).toBe('');
      expect(res.stdout).toMatch(/created|configured/);
    }
    let compared = 0;
    for (const file of exampleFiles) {
      const docs = parseManifests(readFileSync(join(repoRoot, 'examples', file), 'utf8')).documents;
      for (const doc of docs) {
        const object = doc.object as { kind: string; apiVersion: string; metadata: { name: string } };
        if (!object.apiVersion.startsWith(`${group}/`)) continue;
        const live = (await custom.getNamespacedCustomObject({
          group,
          version,
          namespace: namespaceOf(file.split('/')[0]!),
          plural: plurals[object.kind]!,
          name: object.metadata.name,
        })) as { spec: unknown };
        expect(live.spec, `${file}: ${object.kind}/${object.metadata.name}`).toEqual(
          (validateResource(object).value as { spec: unknown }).spec,
        );
        compared++;
      }
    }
    expect(compared).toBe(28);
  });

  it('lists all three kinds under the eventrunner category and by short name', () => {
    const byCategory = kubectl('get', 'eventrunner', '-n', namespace, '-o', 'name').stdout.trim().split('\n');
    expect(byCategory).toEqual(
      expect.arrayContaining([
        'eventsource.eventrunner.io/shop',
        'pipeline.eventrunner.io/orders',
        'sink.eventrunner.io/orders-scylla',
        'sink.eventrunner.io/orders-clickhouse',
      ]),
    );
    const short = kubectl('get', 'es,pl,sk', '-n', namespace, '-o', 'name').stdout.trim().split('\n');
    expect(short.sort()).toEqual([...byCategory].sort());
  });
});

describe('kubectl explain', () => {
  it('prints the descriptions of pipeline.spec.outputs', async () => {
    // The aggregated OpenAPI document catches up with a new CRD a moment after it is Established.
    let out = '';
    for (let i = 0; i < 50; i++) {
      try {
        out = kubectl('explain', 'pipeline.spec.outputs').stdout;
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    expect(out).toMatch(/GROUP:\s+eventrunner\.io/);
    expect(out).toContain('Destinations events can be routed to; names must be unique.');
    expect(out).toMatch(/name\s+<string> -required-\n\s+Name used by Route\(\) in the rules/);
    expect(out).toMatch(/sink\s+<string> -required-\n\s+Name of a Sink in the same namespace/);
    const storage = kubectl('explain', 'eventsource.spec.stream.storage').stdout;
    expect(storage).toContain('Immutable: JetStream cannot move a stream between storage types.');
    expect(storage).toMatch(/ENUM:\s+file\s+memory/);
  });
});

describe('status, printer columns and scale', () => {
  const ready = {
    type: 'Ready',
    status: 'True',
    reason: 'Ready',
    message: 'Ready',
    lastTransitionTime: '2026-01-01T00:00:00Z',
  };

  it('shows the Pipeline columns, the wide ones at priority 1', async () => {
    await patchStatus('pipelines', 'orders', {
      observedGeneration: 1,
      conditions: [ready],
      replicas: 2,
      readyReplicas: 2,
      selector: 'eventrunner.io/pipeline=orders',
      lag: 42,
      deadLetters: 3,
      summary: { sources: 'shop', outputs: 'store=orders-scylla,analytics=orders-clickhouse' },
      queries: { count: 1, errors: [], owned: '4/4', watermark: '2026-01-01T00:00:00Z' },
      queryWorkers: { replicas: 2, readyReplicas: 2 },
    });
    const row = await table('pipelines', 'orders');
    expect(row).toMatchObject({
      Name: 'orders',
      Ready: 'True',
      Replicas: 2,
      Lag: 42,
      DLQ: 3,
      Sources: 'shop',
      Outputs: 'store=orders-scylla,analytics=orders-clickhouse',
      Queries: 1,
      Owned: '4/4',
      Workers: 2,
      // A date column: the server shows its age, how far the slowest partition is behind the clock.
      Watermark: expect.stringMatching(/^\d+d$/),
    });
    expect(row.Age).toMatch(/^\d+[smh]/);
    const wide = kubectl('get', 'pl', 'orders', '-n', namespace, '-o', 'wide').stdout;
    expect(wide.split('\n')[0]).toMatch(
      /^NAME\s+READY\s+REPLICAS\s+LAG\s+DLQ\s+AGE\s+SOURCES\s+OUTPUTS\s+QUERIES\s+OWNED\s+WORKERS\s+WATERMARK$/,
    );
    expect(wide.split('\n')[1]).toMatch(/\s1\s+4\/4\s+2\s+\d+d$/);
    const narrow = kubectl('get', 'pl', 'orders', '-n', namespace).stdout;
    expect(narrow.split('\n')[0]).toMatch(/^NAME\s+READY\s+REPLICAS\s+LAG\s+DLQ\s+AGE$/);
  });

  it('shows the EventSource and Sink columns', async () => {
    await patchStatus('eventsources', 'shop', {
      conditions: [ready],
      stream: { name: 'ER_API-CRDS_SHOP', messages: 10, bytes: 2048 },
      endpoints: {
        http: `http://shop-ingest.${namespace}.svc:8080/events`,
        grpc: `shop-ingest.${namespace}.svc:9090`,
      },
    });
    expect(await table('eventsources', 'shop')).toMatchObject({
      Ready: 'True',
      Stream: 'ER_API-CRDS_SHOP',
      Endpoint: `http://shop-ingest.${namespace}.svc:8080/events`,
    });
    await patchStatus('sinks', 'orders-clickhouse', {
      conditions: [ready],
      kind: 'clickhouse',
      target: 'analytics.orders',
    });
    expect(await table('sinks', 'orders-clickhouse')).toMatchObject({
      Ready: 'True',
      Kind: 'clickhouse',
      Target: 'analytics.orders',
    });
  });

  it('keeps status out of main-resource writes (status subresource)', async () => {
    await custom.patchNamespacedCustomObject(
      {
        group,
        version,
        namespace,
        plural: 'sinks',
        name: 'orders-clickhouse',
        body: { status: { target: 'x.y' } },
      },
      mergePatch(),
    );
    const live = (await custom.getNamespacedCustomObject({
      group,
      version,
      namespace,
      plural: 'sinks',
      name: 'orders-clickhouse',
    })) as { status: { target: string } };
    expect(live.status.target).toBe('analytics.orders');
  });

  it('reads and writes Pipeline replicas through the scale subresource', async () => {
    const scale = (await custom.getNamespacedCustomObjectScale({
      group,
      version,
      namespace,
      plural: 'pipelines',
      name: 'orders',
    })) as { spec: { replicas: number }; status: { replicas: number; selector: string } };
    expect(scale.spec.replicas).toBe(2);
    expect(scale.status).toEqual({ replicas: 2, selector: 'eventrunner.io/pipeline=orders' });
    kubectl('scale', 'pipeline', 'orders', '-n', namespace, '--replicas=5');
    const live = (await custom.getNamespacedCustomObject({
      group,
      version,
      namespace,
      plural: 'pipelines',
      name: 'orders',
    })) as { spec: { replicas: number } };
    expect(live.spec.replicas).toBe(5);
    expect(() => kubectl('scale', 'pipeline', 'orders', '-n', namespace, '--replicas=101')).toThrow(
      /spec.replicas.*should be less than or equal to 100/,
    );
  });
});
