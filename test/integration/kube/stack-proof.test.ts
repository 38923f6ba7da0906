// Proof that the test stack's kube-apiserver is real: a CRD is established, a custom resource is
// created through it, and a watch delivers that object back.
import { describe, expect, it } from 'vitest';
import {
  ApiextensionsV1Api,
  CustomObjectsApi,
  KubeConfig,
  VersionApi,
  type V1CustomResourceDefinition,
} from '@kubernetes/client-node';
import { kubeEnv } from '../../stack/context.js';
import { pinnedVersion } from '../../stack/paths.js';
import { watchUntil } from '../../support/kube.js';

const group = 'proof.eventrunner.io';
const crd: V1CustomResourceDefinition = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: `widgets.${group}` },
  spec: {
    group,
    scope: 'Namespaced',
    names: { plural: 'widgets', singular: 'widget', kind: 'Widget' },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: {
                type: 'object',
                properties: { size: { type: 'integer', minimum: 1 } },
                required: ['size'],
              },
            },
          },
        },
      },
    ],
  },
};

function client(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeEnv().kubeconfig);
  return kc;
}

async function waitEstablished(api: ApiextensionsV1Api, name: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const got = await api.readCustomResourceDefinition({ name });
    if (got.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`CRD ${name} never became Established`);
}

describe('kube-apiserver from the test stack', () => {
  it('reports the pinned Kubernetes version', async () => {
    const info = await client().makeApiClient(VersionApi).getCode();
    expect(info.gitVersion).toBe(await pinnedVersion('KUBERNETES_VERSION'));
  });

  it('serves a CRD, validates against its schema, and streams a created object through a watch', async () => {
    const kc = client();
    const ext = kc.makeApiClient(ApiextensionsV1Api);
    await ext.createCustomResourceDefinition({ body: crd });
    await waitEstablished(ext, crd.metadata!.name!);

    const objects = kc.makeApiClient(CustomObjectsApi);
    const seen = watchUntil<{ metadata: { name: string }; spec: { size: number } }>(
      kc,
      `/apis/${group}/v1/namespaces/default/widgets`,
      (type, obj) => type === 'ADDED' && obj.metadata.name === 'w1',
    );
    await objects.createNamespacedCustomObject({
      group,
      version: 'v1',
      namespace: 'default',
      plural: 'widgets',
      body: { apiVersion: `${group}/v1`, kind: 'Widget', metadata: { name: 'w1' }, spec: { size: 3 } },
    });
    expect((await seen).spec.size).toBe(3);

    // The schema is enforced by the server, not by us.
    await expect(
      objects.createNamespacedCustomObject({
        group,
        version: 'v1',
        namespace: 'default',
        plural: 'widgets',
        body: { apiVersion: `${group}/v1`, kind: 'Widget', metadata: { name: 'w2' }, spec: { size: 0 } },
      }),
    ).rejects.toThrow(/spec.size/);
  });
});
