// Leader election on a coordination.k8s.io Lease, as client-go does it: the holder renews the
// Lease every retry period; a candidate takes it over only after leaseDuration has passed without
// renewal. Updates use the Lease's resourceVersion, so two candidates never both win. A leader that
// cannot renew within renewDeadline steps down (the caller exits), so two replicas never both act.
import { CoordinationV1Api, type KubeConfig, type V1Lease } from '@kubernetes/client-node';
import type { Logger } from '../runtime/common/logger.js';
import { isConflict, isNotFound } from './apply.js';

export interface LeaderElectionOptions {
  kc: KubeConfig;
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  log: Logger;
}

export interface LeaderElector {
  /** Resolves once this process holds the Lease. */
  acquired: Promise<void>;
  /** Resolves if leadership is lost after being acquired. */
  lost: Promise<void>;
  isLeader(): boolean;
  /** Stops renewing and gives the Lease up so another replica can take over at once. */
  release(): Promise<void>;
}

const micro = (d: Date) => d.toISOString().replace('Z', '000Z');

export function startLeaderElection(opts: LeaderElectionOptions): LeaderElector {
  const api = opts.kc.makeApiClient(CoordinationV1Api);
  const leaseMs = opts.leaseDurationMs ?? 15_000;
  const renewDeadlineMs = opts.renewDeadlineMs ?? 10_000;
  const retryMs = opts.retryPeriodMs ?? 2_000;
  let leader = false;
  let stopped = false;
  let lastRenew = 0;
  let timer: NodeJS.Timeout | undefined;
  let resolveAcquired!: () => void;
  let resolveLost!: () => void;
  const acquired = new Promise<void>((r) => (resolveAcquired = r));
  const lost = new Promise<void>((r) => (resolveLost = r));

  const desired = (current: V1Lease | undefined, now: Date): V1Lease => {
    const takingOver = current?.spec?.holderIdentity !== opts.identity;
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {
        name: opts.name,
        namespace: opts.namespace,
        ...(current?.metadata?.resourceVersion ? { resourceVersion: current.metadata.resourceVersion } : {}),
      },
      spec: {
        holderIdentity: opts.identity,
        leaseDurationSeconds: Math.ceil(leaseMs / 1000),
        acquireTime: (takingOver ? micro(now) : current?.spec?.acquireTime) as unknown as Date,
        renewTime: micro(now) as unknown as Date,
        leaseTransitions: (current?.spec?.leaseTransitions ?? 0) + (takingOver && current ? 1 : 0),
      },
    };
  };

  async function tryAcquireOrRenew(): Promise<boolean> {
    const now = new Date();
    let current: V1Lease | undefined;
    try {
      current = await api.readNamespacedLease({ name: opts.name, namespace: opts.namespace });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    if (!current) {
      await api.createNamespacedLease({ namespace: opts.namespace, body: desired(undefined, now) });
      return true;
    }
    const holder = current.spec?.holderIdentity;
    const renewed = current.spec?.renewTime ? new Date(current.spec.renewTime).getTime() : 0;
    const duration = (current.spec?.leaseDurationSeconds ?? 0) * 1000;
    if (holder && holder !== opts.identity && renewed + duration > now.getTime()) return false;
    await api.replaceNamespacedLease({
      name: opts.name,
      namespace: opts.namespace,
      body: desired(current, now),
    });
    return true;
  }

  async function tick(): Promise<void> {
    if (stopped) return;
    try {
      const ok = await tryAcquireOrRenew();
      if (ok) {
        lastRenew = Date.now();
        if (!leader) {
          leader = true;
          opts.log.info(
            { lease: `${opts.namespace}/${opts.name}`, identity: opts.identity },
            'Acquired leadership',
          );
          resolveAcquired();
        }
      }
    } catch (err) {
      if (!isConflict(err)) opts.log.warn({ err }, 'Lease update failed');
    }
    if (leader && Date.now() - lastRenew > renewDeadlineMs) {
      leader = false;
      stopped = true;
      opts.log.error(
        { lease: `${opts.namespace}/${opts.name}` },
        'Lost leadership: could not renew the Lease in time',
      );
      resolveLost();
      return;
    }
    timer = setTimeout(() => void tick(), retryMs * (leader ? 1 : 0.8 + Math.random() * 0.4));
  }
  void tick();

  return {
    acquired,
    lost,
    isLeader: () => leader,
    async release() {
      stopped = true;
      if (timer) clearTimeout(timer);
      if (!leader) return;
      leader = false;
      try {
        const current = await api.readNamespacedLease({ name: opts.name, namespace: opts.namespace });
        if (current.spec?.holderIdentity !== opts.identity) return;
        current.spec.holderIdentity = undefined;
        current.spec.leaseDurationSeconds = 1;
        await api.replaceNamespacedLease({ name: opts.name, namespace: opts.namespace, body: current });
      } catch (err) {
        opts.log.warn({ err }, 'Could not release the Lease; the next leader waits for it to expire');
      }
    },
  };
}
