// NATS user credentials the operator mints for the pods it runs (decentralized JWT authentication):
// each workload gets its own user, signed with the account signing key the operator reads from a
// mounted Secret, carrying the permissions of nats-permissions.ts and an expiry. The credentials
// live in a Secret next to the workload (mounted into its pods); the operator mints new ones when a
// third of their lifetime is left or the permissions changed, and the pods reconnect with the new
// file before the old user expires.
import { readFileSync } from 'node:fs';
import { Algorithms, encodeUser, fmtCreds } from '@nats-io/jwt';
import { createUser, fromSeed, type KeyPair } from '@nats-io/nkeys';
import type { V1Secret } from '@kubernetes/client-node';
import { ConfigError } from '../runtime/common/errors.js';
import type { NatsPermissions } from './nats-permissions.js';
import { hashOf, ownerReference, type Owner } from './builders/common.js';
import { labels } from './names.js';

export interface NatsSigner {
  /** The account signing key (or the account key itself). */
  key: KeyPair;
  /** Public key of the account the users belong to. */
  account: string;
  /** Lifetime of a minted user. */
  ttlMs: number;
}

/** The key in a credentials Secret holding the .creds file. */
export const credsKey = 'nats.creds';
export const credsAnnotations = {
  expires: 'eventrunner.io/nats-credentials-expire',
  permissions: 'eventrunner.io/nats-permissions-hash',
} as const;

/**
 * Reads the signing key from its seed file. The seed may be the account's own (SA…, then the
 * account is its public key) or a signing key of the account (then `account` names the account).
 */
export function loadSigner(seedFile: string, account: string | undefined, ttlMs: number): NatsSigner {
  let key: KeyPair;
  try {
    key = fromSeed(new TextEncoder().encode(readFileSync(seedFile, 'utf8').trim()));
  } catch (err) {
    throw new ConfigError(
      `--nats-account-signing-key-file ${seedFile}: not an account nkey seed (SA…): ${(err as Error).message}`,
    );
  }
  const pub = key.getPublicKey();
  if (!pub.startsWith('A'))
    throw new ConfigError(
      `--nats-account-signing-key-file ${seedFile}: the seed is of a ${pub[0]} key; an account or account signing key seed starts with SA`,
    );
  if (account !== undefined && !/^A[A-Z2-7]{55}$/.test(account))
    throw new ConfigError(
      `--nats-account ${account}: not an account public key (A followed by 55 characters)`,
    );
  if (ttlMs < 60_000) throw new ConfigError('--nats-credentials-ttl must be at least 60 seconds');
  return { key, account: account ?? pub, ttlMs };
}

export interface MintedCreds {
  creds: string;
  /** Expiry, epoch milliseconds. */
  expiresAt: number;
}

/** A new user with these permissions, valid from `now` for the signer's lifetime. */
export async function mintCreds(
  signer: NatsSigner,
  name: string,
  perms: NatsPermissions,
  now: number,
): Promise<MintedCreds> {
  const user = createUser();
  const exp = Math.floor((now + signer.ttlMs) / 1000);
  const issuedByAccount = signer.key.getPublicKey() !== signer.account;
  const jwt = await encodeUser(
    name,
    user,
    signer.key,
    {
      ...(issuedByAccount ? { issuer_account: signer.account } : {}),
      pub: { allow: perms.pub },
      sub: { allow: perms.sub },
      subs: -1,
      data: -1,
      payload: -1,
    },
    { algorithm: Algorithms.v2, exp },
  );
  return { creds: new TextDecoder().decode(fmtCreds(jwt, user)), expiresAt: exp * 1000 };
}

/** Whether the Secret's credentials are still good: same permissions, over a third of their life left. */
export function credsCurrent(
  secret: V1Secret | undefined,
  perms: NatsPermissions,
  signer: NatsSigner,
  now: number,
): boolean {
  const a = secret?.metadata?.annotations ?? {};
  const expires = Date.parse(a[credsAnnotations.expires] ?? '');
  return (
    a[credsAnnotations.permissions] === permissionsHash(perms, signer) &&
    Number.isFinite(expires) &&
    expires - now > signer.ttlMs / 3 &&
    Boolean(secret?.data?.[credsKey])
  );
}

/** When the operator should look at the credentials again: once two thirds of their life passed. */
export function renewAt(secret: V1Secret, signer: NatsSigner): number {
  const expires = Date.parse(secret.metadata?.annotations?.[credsAnnotations.expires] ?? '');
  return Number.isFinite(expires) ? expires - signer.ttlMs / 3 : 0;
}

function permissionsHash(perms: NatsPermissions, signer: NatsSigner): string {
  return hashOf({ perms, account: signer.account, signer: signer.key.getPublicKey() });
}

/** The Secret holding a workload's credentials. */
export function credsSecret(
  owner: Owner,
  name: string,
  component: string,
  perms: NatsPermissions,
  signer: NatsSigner,
  minted: MintedCreds,
): V1Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    metadata: {
      name,
      namespace: owner.metadata.namespace,
      labels: {
        [labels.name]: 'eventrunner',
        [labels.instance]: owner.metadata.name!,
        [labels.component]: component,
        [labels.managedBy]: 'eventrunner-operator',
        [labels.partOf]: 'eventrunner',
      },
      annotations: {
        [credsAnnotations.expires]: new Date(minted.expiresAt).toISOString(),
        [credsAnnotations.permissions]: permissionsHash(perms, signer),
      },
      ownerReferences: [ownerReference(owner)],
    },
    data: { [credsKey]: Buffer.from(minted.creds).toString('base64') },
  };
}
