// Applies child objects only when needed, so an idle operator sends zero writes: each child carries
// the hash of its desired state in an annotation; a child whose annotation matches and that nobody
// else changed since our last apply (same generation, or same resourceVersion for kinds without
// one) is left alone. Anything else — missing, different desired state, edited by someone — is
// server-side applied again.
// The watch event of the object an apply returned is no news to the owner's reconcile when that
// reconcile does not read the child back from the cache: true of ConfigMaps, Services and Secrets,
// and of a Deployment whose state the owner reports from `ensureObject`'s result. `notice`
// tells such events apart, so that they enqueue nothing.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Applier } from './apply.js';
import { hashOf } from './builders/common.js';

export const specHashAnnotation = 'eventrunner.io/spec-hash';

interface Applied {
  hash: string;
  /** The owner's reconcile took the apply's result into account (see notice). */
  seen: boolean;
  generation?: number;
  resourceVersion?: string;
}

export class ChildApplier {
  private readonly last = new Map<string, Applied>();
  /** Children with an apply on the way: their watch events wait for its response (`notice`). */
  private readonly applying = new Map<string, { rv: string | undefined; enqueueOwner: () => void }[]>();

  constructor(private readonly applier: Applier) {}

  private key(obj: KubernetesObject, kind = obj.kind): string {
    return `${kind}/${obj.metadata?.namespace}/${obj.metadata?.name}`;
  }

  /** Returns true when a write was sent. `current` is the cached live object, if any. */
  async ensure<T extends KubernetesObject>(desired: T, current: T | undefined): Promise<boolean> {
    // Owners read a Deployment's state back from the cache unless they use ensureObject.
    return (await this.apply(desired, current, desired.kind !== 'Deployment')).written;
  }

  /**
   * Like `ensure`, and returns the child as the API server now has it: the apply's response when it
   * wrote (the cache sees it only later), else `current`.
   */
  async ensureObject<T extends KubernetesObject>(
    desired: T,
    current: T | undefined,
  ): Promise<{ written: boolean; object: T | undefined }> {
    return this.apply(desired, current, true);
  }

  private async apply<T extends KubernetesObject>(
    desired: T,
    current: T | undefined,
    seen: boolean,
  ): Promise<{ written: boolean; object: T | undefined }> {
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
      if (untouched) return { written: false, object: current };
    }
    const withHash = {
      ...desired,
      metadata: {
        ...desired.metadata,
        annotations: { ...desired.metadata?.annotations, [specHashAnnotation]: hash },
      },
    };
    const waiting: { rv: string | undefined; enqueueOwner: () => void }[] = [];
    this.applying.set(key, waiting);
    let result: T | undefined;
    try {
      result = await this.applier.apply(withHash);
      this.last.set(key, {
        hash,
        seen,
        generation: (result.metadata as { generation?: number } | undefined)?.generation,
        resourceVersion: result.metadata?.resourceVersion,
      });
    } finally {
      this.applying.delete(key);
      // Events that came while the apply was on the way: news unless they are its own result.
      const rv = result?.metadata?.resourceVersion;
      for (const w of waiting) if (!seen || w.rv === undefined || w.rv !== rv) w.enqueueOwner();
    }
    return { written: true, object: result };
  }

  /**
   * Takes a watch event of a child (added or updated; `kind` is given because listed objects carry
   * none) and enqueues its owner unless the event is exactly what the operator's last apply of it
   * returned (same resourceVersion) and the owner's reconcile took that into account. The watch may
   * deliver that before the apply's response: an event arriving while an apply is on the way is
   * decided once the response is in.
   */
  notice(kind: string, obj: KubernetesObject, enqueueOwner: () => void): void {
    const key = this.key(obj, kind);
    const rv = obj.metadata?.resourceVersion;
    const waiting = this.applying.get(key);
    if (waiting) {
      waiting.push({ rv, enqueueOwner });
      return;
    }
    const last = this.last.get(key);
    if (rv !== undefined && last?.seen === true && last.resourceVersion === rv) return;
    enqueueOwner();
  }

  forget(obj: KubernetesObject): void {
    this.last.delete(this.key(obj));
  }
}
