// Installs or updates the eventrunner CRDs from the same definitions that crds/*.yaml is generated
// from, with server-side apply, and waits until the API server serves them.
import https from 'node:https';
import { ApiextensionsV1Api, PatchStrategy, type KubeConfig } from '@kubernetes/client-node';
import { crdFor } from './gen/crd.js';
import { GROUP, kinds } from './schema/index.js';

export function crdManifests(): Record<string, unknown>[] {
  return kinds.map((k) => crdFor(k));
}

export interface InstallOptions {
  fieldManager?: string;
  /** How long to wait for every CRD to report Established; default 30s. */
  timeoutMs?: number;
}

/**
 * A raw PATCH: client-node's typed serializer maps V1JSONSchemaProps by its TypeScript attribute
 * names and silently drops keys such as `x-kubernetes-int-or-string` from plain objects.
 */
async function serverSideApply(
  kc: KubeConfig,
  path: string,
  body: unknown,
  fieldManager: string,
): Promise<void> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('kubeconfig has no current cluster');
  const opts: https.RequestOptions & { headers: Record<string, string> } = { headers: {} };
  await kc.applyToHTTPSOptions(opts);
  const url = new URL(`${path}?fieldManager=${encodeURIComponent(fieldManager)}&force=true`, cluster.server);
  const payload = JSON.stringify(body);
  await new Promise<void>((resolve, reject) => {
    const req = https.request(
      url,
      {
        ...opts,
        method: 'PATCH',
        headers: {
          ...opts.headers,
          accept: 'application/json',
          'content-type': PatchStrategy.ServerSideApply,
        },
      },
      (res) => {
        let data = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (data += c));
        res.on('end', () => {
          const code = res.statusCode ?? 0;
          if (code >= 200 && code < 300) resolve();
          else reject(new Error(`applying ${path} failed with HTTP ${code}: ${data.slice(0, 2000)}`));
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

export async function installCrds(kc: KubeConfig, opts: InstallOptions = {}): Promise<void> {
  const crds = crdManifests();
  for (const crd of crds) {
    const name = (crd.metadata as { name: string }).name;
    const path = `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`;
    await serverSideApply(kc, path, crd, opts.fieldManager ?? `${GROUP}-crds`);
  }
  const ext = kc.makeApiClient(ApiextensionsV1Api);
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  for (const crd of crds) {
    const name = (crd.metadata as { name: string }).name;
    for (;;) {
      const live = await ext.readCustomResourceDefinition({ name });
      const established = live.status?.conditions?.some(
        (c) => c.type === 'Established' && c.status === 'True',
      );
      if (established) break;
      if (Date.now() > deadline) throw new Error(`CRD ${name} was not Established within the timeout`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}
