// The Secrets a Sink names: credentials (credentialsSecretRef; a webhook's auth.basicSecretRef or
// auth.bearerTokenSecretRef) and the TLS CA bundle (tls.caSecretRef). The Sink controller probes
// with their content; the Pipeline controller hashes them so that rotated credentials, a rotated
// token or a rotated CA roll the processors. Secrets are read by name, never listed or
// watched; their values are never logged.
import type { V1Secret } from '@kubernetes/client-node';
import type { Sink } from '../../api/generated/types.js';
import { ConditionReason } from '../../api/conditions.js';
import { isPemBundle } from '../../runtime/sinks/credentials.js';
import type { SinkCredentials } from '../../runtime/sinks/types.js';
import { isNotFound } from '../apply.js';
import { caSecretRef, credentialRef, tokenSecretRef } from '../builders/processor.js';
import { hashOf } from '../builders/common.js';
import type { ControllerContext } from '../manager.js';

/** A Secret the Sink names is missing or does not hold what the Sink needs; `reason` goes into Ready. */
export class SinkSecretError extends Error {
  override name = 'SinkSecretError';
  constructor(
    message: string,
    readonly reason: ConditionReason,
  ) {
    super(message);
  }
}

export const isSinkSecretError = (err: unknown): err is SinkSecretError => err instanceof SinkSecretError;

async function readSecret(
  ctx: ControllerContext,
  namespace: string,
  name: string,
): Promise<V1Secret | undefined> {
  try {
    return await ctx.core.readNamespacedSecret({ name, namespace });
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

function secretValue(secret: V1Secret, key: string): string {
  const b64 = secret.data?.[key];
  if (b64 === undefined)
    throw new SinkSecretError(
      `Secret ${secret.metadata?.name} has no key ${key}`,
      ConditionReason.SecretNotFound,
    );
  return Buffer.from(b64, 'base64')
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

const caField = (sink: Sink) =>
  `spec.${sink.spec.scylla ? 'scylla' : sink.spec.clickhouse ? 'clickhouse' : 'http'}.tls.caSecretRef`;

/** The PEM CA bundle of the Sink's tls.caSecretRef, checked to hold a certificate; undefined without one. */
async function sinkCa(ctx: ControllerContext, sink: Sink): Promise<string | undefined> {
  const ref = caSecretRef(sink);
  if (!ref) return undefined;
  const secret = await readSecret(ctx, sink.metadata.namespace!, ref.name);
  if (!secret)
    throw new SinkSecretError(
      `Secret ${ref.name} with the CA bundle (key ${ref.key}) of ${caField(sink)} does not exist; create it ` +
        `(kubectl create secret generic ${ref.name} --from-file=${ref.key}=<PEM file of the CA>)`,
      ConditionReason.SecretNotFound,
    );
  if (secret.data?.[ref.key] === undefined)
    throw new SinkSecretError(
      `Secret ${ref.name} has no key ${ref.key}, the CA bundle ${caField(sink)} names`,
      ConditionReason.SecretNotFound,
    );
  const pem = secretValue(secret, ref.key);
  // Node's TLS ignores text that is not PEM: without this the user would read "certificate not
  // trusted" and look for the fault on the server.
  if (!isPemBundle(pem))
    throw new SinkSecretError(
      `key ${ref.key} of Secret ${ref.name} (${caField(sink)}) holds no PEM certificate ` +
        '(-----BEGIN CERTIFICATE-----): put the PEM bundle of the CA that signed the server certificate there',
      ConditionReason.TLSFailed,
    );
  return pem;
}

/** The Sink's credentials and CA bundle for a probe; undefined when it names neither. */
export async function sinkCredentials(
  ctx: ControllerContext,
  sink: Sink,
): Promise<SinkCredentials | undefined> {
  const ref = credentialRef(sink);
  let login: Pick<SinkCredentials, 'username' | 'password' | 'token'> = {};
  const token = tokenSecretRef(sink);
  if (token) {
    const secret = await readSecret(ctx, sink.metadata.namespace!, token.name);
    if (!secret)
      throw new SinkSecretError(
        `Secret ${token.name} with the bearer token (key ${token.key}) of spec.http.auth.bearerTokenSecretRef does not exist`,
        ConditionReason.SecretNotFound,
      );
    login = { token: secretValue(secret, token.key) };
  }
  if (ref) {
    const secret = await readSecret(ctx, sink.metadata.namespace!, ref.name);
    if (!secret)
      throw new SinkSecretError(
        `Secret ${ref.name} with the Sink's credentials does not exist`,
        ConditionReason.SecretNotFound,
      );
    login = {
      username: secretValue(secret, ref.usernameKey),
      password: secretValue(secret, ref.passwordKey),
    };
  }
  const ca = await sinkCa(ctx, sink);
  if (!ref && !token && ca === undefined) return undefined;
  return { ...login, ...(ca !== undefined ? { ca } : {}) };
}

/** Digests of what the processors read from Secrets at start-up, by Sink name. */
export interface SinkSecretDigests {
  ca: Map<string, string>;
  credentials: Map<string, string>;
}

/**
 * A digest of each Sink's CA bundle and of its username and password as their Secrets hold them
 * now, by Sink name. The processors read both once at start-up, so a change must roll them. Sinks
 * without the reference, or whose Secret or key is missing (their Ready condition says so), are
 * left out. Each Secret is read once however many Sinks name it.
 */
export async function sinkSecretDigests(
  ctx: ControllerContext,
  namespace: string,
  sinks: ReadonlyMap<string, Sink>,
): Promise<SinkSecretDigests> {
  const read = new Map<string, Promise<V1Secret | undefined>>();
  const secret = (name: string) => {
    let p = read.get(name);
    if (!p) read.set(name, (p = readSecret(ctx, namespace, name)));
    return p;
  };
  const digests: SinkSecretDigests = { ca: new Map(), credentials: new Map() };
  for (const [name, sink] of sinks) {
    const ca = caSecretRef(sink);
    if (ca) {
      const b64 = (await secret(ca.name))?.data?.[ca.key];
      if (b64 !== undefined) digests.ca.set(name, hashOf(b64));
    }
    const token = tokenSecretRef(sink);
    if (token) {
      const b64 = (await secret(token.name))?.data?.[token.key];
      if (b64 !== undefined) digests.credentials.set(name, hashOf(b64));
    }
    const login = credentialRef(sink);
    if (login) {
      const data = (await secret(login.name))?.data;
      const user = data?.[login.usernameKey];
      const pass = data?.[login.passwordKey];
      if (user !== undefined && pass !== undefined) digests.credentials.set(name, hashOf([user, pass]));
    }
  }
  return digests;
}
