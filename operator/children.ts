// Applies child objects only when needed, so an idle operator sends zero writes: each child carries
// the hash of its desired state in an annotation; a child whose annotation matches and that nobody
// else changed since our last apply (same generation, or same resourceVersion for kinds without
// one) is left alone. Anything else — missing, different desired state, edited by someone — is
// server-side applied again.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Applier } from './apply.js';
import { hashOf } from './builders/common.js';

export const specHashAnnotation = 'eventrunner.io/spec-hash';

interface Applied {
  hash: string;
  generation?: number;
  resourceVersion?: string;
}

export class ChildApplier {
  private readonly last = new Map<string, Applied>();

  constructor(private readonly applier: Applier) {}

  private key(obj: KubernetesObject): string {
    return `${obj.apiVersion}/${obj.kind}/${obj.metadata?.namespace}/${obj.metadata?.name}`;
  }

  /** Returns true when a write was sent. `current` is the cached live object, if any. */
  async ensure<T extends KubernetesObject>(desired: T, current: T | undefined): Promise<boolean> {
    const hash = hashOf(desired);
    const key = this.key(desired);
    const prev = this.last.get(key);
    const liveHash = current?.metadata?.annotations?.[specHashAnnotation];
    if (current && liveHash === hash && prev?.hash === hash) {
      const generation = (current.metadata as { generation?: number }).generation;
      const untouched =
        generation !== undefined
          ? prev.generation === generation
          : prev.resourceVersion === current.metadata?.resourceVersion;
      if (untouched) return false;
    }
    const withHash = {
      ...desired,
      metadata: {
        ...desired.metadata,
        annotations: { ...desired.metadata?.annotations, [specHashAnnotation]: hash },
      },
    };
    const result = await this.applier.apply(withHash);
    this.last.set(key, {
      hash,
      generation: (result.metadata as { generation?: number } | undefined)?.generation,
      resourceVersion: result.metadata?.resourceVersion,
    });
    return true;
  }

  forget(obj: KubernetesObject): void {
    this.last.delete(this.key(obj));
  }
}
