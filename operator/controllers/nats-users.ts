// Keeps a workload's NATS user Secret current: minted when missing, when its permissions changed
// (the workload's config names other streams) or when a third of its lifetime is left. One read
// of the Secret per reconcile, a write only when something is due, and the time of the next
// renewal for the reconcile's requeue.
import type { V1Secret } from '@kubernetes/client-node';
import type { Logger } from '../../runtime/common/logger.js';
import { isNotFound } from '../apply.js';
import type { Owner } from '../builders/common.js';
import type { ControllerContext } from '../manager.js';
import { credsCurrent, credsSecret, mintCreds, renewAt } from '../nats-credentials.js';
import type { NatsPermissions } from '../nats-permissions.js';

/**
 * Ensures the Secret `secretName` holds a user with `perms` for `owner`'s workload. Returns the
 * epoch milliseconds when it should be looked at again, or undefined when the operator mints no
 * users.
 */
export async function ensureNatsUser(
  ctx: ControllerContext,
  owner: Owner,
  secretName: string,
  component: string,
  perms: NatsPermissions,
  log: Logger,
): Promise<number | undefined> {
  const signer = ctx.natsSigner;
  if (!signer) return undefined;
  const namespace = owner.metadata.namespace!;
  let current: V1Secret | undefined;
  try {
    current = await ctx.core.readNamespacedSecret({ name: secretName, namespace });
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  const now = Date.now();
  if (current && credsCurrent(current, perms, signer, now)) return renewAt(current, signer);
  const minted = await mintCreds(signer, `${namespace}/${secretName}`, perms, now);
  const secret = credsSecret(owner, secretName, component, perms, signer, minted);
  await ctx.applier.apply(secret);
  log.info(
    { secret: secretName, expires: new Date(minted.expiresAt).toISOString(), renewed: Boolean(current) },
    current ? 'Renewed NATS user credentials' : 'Minted NATS user credentials',
  );
  return renewAt(secret, signer);
}

/** The reconcile's requeue: the regular resync, or the credentials' renewal if that comes first. */
export function requeueBefore(resyncMs: number, renewAtMs: number | undefined): number {
  if (renewAtMs === undefined) return resyncMs;
  return Math.max(1000, Math.min(resyncMs, renewAtMs - Date.now()));
}
