// Server-side apply with the operator's single field manager: the desired object is the whole
// truth about the fields eventrunner owns, and the API server merges it with everyone else's.
import { primaryPlural } from './cache.js';
import { rawRequest } from './kube-request.js';
import {
  KubernetesObjectApi,
  PatchStrategy,
  type KubeConfig,
  type KubernetesObject,
} from '@kubernetes/client-node';

export { ApiError, rawRequest } from './kube-request.js';

export const fieldManager = 'eventrunner-operator';

export class Applier {
  private readonly api: KubernetesObjectApi;
  /** Count of write requests sent, for metrics and the idle-writes test. */
  writes = 0;

  constructor(
    private readonly kc: KubeConfig,
    private readonly onWrite: (kind: string) => void = () => undefined,
  ) {
    this.api = KubernetesObjectApi.makeApiClient(kc);
  }

  private count(kind: string | undefined): void {
    this.writes++;
    this.onWrite(kind ?? 'unknown');
  }

  async apply<T extends KubernetesObject>(obj: T): Promise<T> {
    this.count(obj.kind);
    const path = applyPath(obj);
    // The kinds the operator writes go out as they are and come back as plain JSON, like the watch
    // delivers them: the typed client's discovery, model serialization and deserialization of every
    // response (managedFields included) cost CPU and, in a burst of a thousand objects, memory.
    if (path) return (await this.raw('PATCH', path, obj, PatchStrategy.ServerSideApply)) as T;
    return this.api.patch(obj, undefined, undefined, fieldManager, true, PatchStrategy.ServerSideApply);
  }

  /** Applies only the status subresource (status is written once per reconcile, when it changed). */
  async applyStatus<T extends KubernetesObject>(obj: T, plural: string): Promise<void> {
    this.count(`${obj.kind}/status`);
    const [group, version] = (obj.apiVersion ?? '').split('/');
    const path = `/apis/${group}/${version}/namespaces/${obj.metadata?.namespace}/${plural}/${obj.metadata?.name}/status`;
    await this.raw('PATCH', path, obj, PatchStrategy.ServerSideApply);
  }

  async delete(obj: KubernetesObject): Promise<void> {
    this.count(obj.kind);
    try {
      await this.api.delete(obj);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  /**
   * Removes `name` from the object's finalizers with a JSON patch that tests the object's uid and
   * the entry first, rather than an apply: an apply to an object already gone creates it (the
   * API server then rejects the metadata-only body), and a reconcile can run on a cached copy
   * after the object went. Gone: nothing to do. Changed since the copy was read (another
   * finalizer removed, the object recreated under its name): 422, and the caller's retry reads
   * it again.
   */
  async removeFinalizer(obj: KubernetesObject, name: string): Promise<void> {
    const path = applyPath(obj);
    const { uid, finalizers = [] } = obj.metadata ?? {};
    const i = finalizers.indexOf(name);
    if (!path || !uid) throw new Error(`cannot remove the finalizer of ${obj.kind} ${obj.metadata?.name}`);
    if (i < 0) return;
    this.count(obj.kind);
    const patch = [
      { op: 'test', path: '/metadata/uid', value: uid },
      { op: 'test', path: `/metadata/finalizers/${i}`, value: name },
      { op: 'remove', path: `/metadata/finalizers/${i}` },
    ];
    try {
      await rawRequest(
        this.kc,
        'PATCH',
        `${path}?fieldManager=${fieldManager}`,
        patch,
        PatchStrategy.JsonPatch,
      );
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  /** A request the typed clients do not offer (the status subresource of custom resources). */
  async raw(method: string, path: string, body: unknown, contentType: string): Promise<unknown> {
    return rawRequest(this.kc, method, `${path}?fieldManager=${fieldManager}&force=true`, body, contentType);
  }
}

/** Where the operator's own kinds are applied; undefined for any other (the typed client finds it). */
const appliedPlurals: Record<string, string> = {
  'v1/ConfigMap': 'configmaps',
  'v1/Secret': 'secrets',
  'v1/Service': 'services',
  'apps/v1/Deployment': 'deployments',
  ...Object.fromEntries(
    Object.entries(primaryPlural).map(([kind, plural]) => [`eventrunner.io/v1alpha1/${kind}`, plural]),
  ),
};

export function applyPath(obj: KubernetesObject): string | undefined {
  const plural = appliedPlurals[`${obj.apiVersion}/${obj.kind}`];
  const { name, namespace } = obj.metadata ?? {};
  if (!plural || !name || !namespace) return undefined;
  const prefix = obj.apiVersion === 'v1' ? '/api/v1' : `/apis/${obj.apiVersion}`;
  return `${prefix}/namespaces/${encodeURIComponent(namespace)}/${plural}/${encodeURIComponent(name)}`;
}

export function statusCode(err: unknown): number | undefined {
  const e = err as { code?: unknown; statusCode?: unknown } | undefined;
  if (typeof e?.code === 'number') return e.code;
  if (typeof e?.statusCode === 'number') return e.statusCode;
  return undefined;
}

export const isNotFound = (err: unknown): boolean => statusCode(err) === 404;
export const isConflict = (err: unknown): boolean => statusCode(err) === 409;
