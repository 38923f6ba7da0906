// Installs or updates the eventrunner CRDs from the same definitions that crds/*.yaml is generated
// from, with server-side apply, and waits until the API server serves them.
import { ApiextensionsV1Api, PatchStrategy, type KubeConfig } from '@kubernetes/client-node';
import { crdManifests } from '../api/gen/crd.js';
import { GROUP } from '../api/schema/index.js';
import { rawRequest } from './kube-request.js';

export interface InstallOptions {
  fieldManager?: string;
  /** How long to wait for every CRD to report Established; default 30s. */
  timeoutMs?: number;
}

/** Server-side apply through a raw request: the typed serializer would drop dashed schema keys. */
async function serverSideApply(
  kc: KubeConfig,
  path: string,
  body: unknown,
  fieldManager: string,
): Promise<void> {
  await rawRequest(
    kc,
    'PATCH',
    `${path}?fieldManager=${encodeURIComponent(fieldManager)}&force=true`,
    body,
    PatchStrategy.ServerSideApply,
  );
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
