// How every eventrunner pod connects to NATS: one place for each authentication NATS offers (a
// .creds file, an nkey seed, a token, user and password — each read from a file of a mounted
// Secret at every connect, so a rotated Secret is picked up on the next reconnect), TLS with a CA,
// the first connection retried with jittered backoff until it works or the signal aborts, and a
// status watcher that logs disconnects and reconnects. Credentials never reach a log.
import { readFileSync, unwatchFile, watchFile, type Stats } from 'node:fs';
import {
  credsAuthenticator,
  nkeyAuthenticator,
  tokenAuthenticator,
  usernamePasswordAuthenticator,
  type Authenticator,
  type ConnectionOptions,
  type NatsConnection,
} from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import type { NatsConnectionInput } from '../../api/generated/types.js';
import { retry, type BackoffPolicy } from './backoff.js';
import { ConfigError } from './errors.js';
import type { Logger } from './logger.js';

export type NatsSettings = NatsConnectionInput;

const firstConnectBackoff: BackoffPolicy = { initialMs: 250, maxMs: 5000, jitter: 0.25 };

const text = (file: string) => readFileSync(file, 'utf8').replace(/\r?\n$/, '');

/** The authenticator the settings name, or undefined for an unauthenticated connection. */
export function natsAuthenticator(s: NatsSettings): Authenticator | undefined {
  const methods = [
    s.credentialsFile && 'credentialsFile',
    s.nkeySeedFile && 'nkeySeedFile',
    s.tokenFile && 'tokenFile',
    (s.userFile || s.passwordFile) && 'userFile/passwordFile',
  ].filter(Boolean);
  if (methods.length > 1)
    throw new ConfigError(`nats: set one of ${methods.join(', ')}; NATS authenticates with one method`);
  if ((s.userFile === undefined) !== (s.passwordFile === undefined))
    throw new ConfigError('nats: userFile and passwordFile go together');
  const { credentialsFile, nkeySeedFile, tokenFile, userFile, passwordFile } = s;
  if (credentialsFile) return credsAuthenticator(() => readFileSync(credentialsFile));
  if (nkeySeedFile) return nkeyAuthenticator(() => new TextEncoder().encode(text(nkeySeedFile)));
  if (tokenFile) return tokenAuthenticator(() => text(tokenFile));
  if (userFile && passwordFile)
    return usernamePasswordAuthenticator(
      () => text(userFile),
      () => text(passwordFile),
    );
  return undefined;
}

/**
 * How long one pull request of a consume() loop lasts. The client re-issues a pull only after two
 * missed idle heartbeats (half of this each); the client default (30 s) meant that a pull lost
 * with a killed or cut-off consumer leader stopped consumption for about 30 s after a NATS node
 * fault. At 10 s that is about 10 s, for one extra pull request every 10 s while idle.
 */
export const PULL_EXPIRES_MS = 10_000;

/** Client options for the settings: every server, the authenticator, TLS, endless reconnects. */
export function natsOptions(s: NatsSettings, name: string): ConnectionOptions {
  const authenticator = natsAuthenticator(s);
  return {
    servers: s.url.split(',').map((u) => u.trim()),
    name: s.name ?? name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    // A server that hangs or is cut off keeps the socket open and says nothing: with the client's
    // default (a ping every 2 minutes, 2 unanswered) publishes and pulls would stall for minutes
    // before it moves to another node of the cluster; this notices within about 15 seconds.
    pingInterval: 5000,
    maxPingOut: 3,
    // Otherwise the client builds an Error (with a stack) per request just in case it fails.
    noAsyncTraces: true,
    ...(authenticator ? { authenticator } : {}),
    ...(s.caFile ? { tls: { caFile: s.caFile } } : {}),
    ...(s.inboxPrefix ? { inboxPrefix: s.inboxPrefix } : {}),
  };
}

/** Server URLs as they may be logged: user:password in a URL is redacted. */
export function redactedServers(url: string): string {
  return url.replace(/\/\/[^@/,]*@/g, '//[redacted]@');
}

export interface NatsStatusHandlers {
  disconnected?: () => void;
  reconnected?: () => void;
}

/**
 * Connects, retrying the first connection here rather than in the client (waitOnFirstConnect), so
 * that a SIGTERM while NATS is still unreachable stops the attempts; once connected, the client
 * reconnects by itself for as long as it takes. Undefined when the signal aborted first.
 */
export async function connectNats(
  s: NatsSettings,
  opts: { name: string; log: Logger; signal: AbortSignal; status?: NatsStatusHandlers },
): Promise<NatsConnection | undefined> {
  const options = natsOptions(s, opts.name);
  opts.log.info({ servers: redactedServers(s.url) }, 'Connecting to NATS');
  const nc = await retry(() => connect(options), {
    what: 'Connect to NATS',
    log: opts.log,
    signal: opts.signal,
    policy: firstConnectBackoff,
    logEvery: 10,
  });
  if (!nc) return undefined;
  opts.log.info({ server: nc.getServer() }, 'Connected to NATS');
  void watchStatus(nc, opts.log, opts.status ?? {});
  watchCredentials(nc, s, opts.log);
  return nc;
}

/** How often a credentials file is checked for a new version. */
const credentialsPollMs = 5000;

/**
 * Reconnects when the credentials file is replaced (the Secret it is mounted from was updated:
 * rotated credentials): the server authenticates a connection once, so the new user takes over only
 * on a new connection, and it must before the old one expires. Publishes made meanwhile are
 * buffered by the client; subscriptions and consumers resume on the new connection.
 */
function watchCredentials(nc: NatsConnection, s: NatsSettings, log: Logger): void {
  const file = s.credentialsFile ?? s.nkeySeedFile ?? s.tokenFile ?? s.passwordFile;
  if (!file) return;
  const changed = (now: Stats, before: Stats) => {
    if (now.mtimeMs === before.mtimeMs && now.size === before.size && now.ino === before.ino) return;
    if (now.nlink === 0) return; // between the removal and the creation of a replaced file
    log.info('NATS credentials changed; reconnecting with them');
    nc.reconnect().catch((err: unknown) =>
      log.warn({ err }, 'Reconnecting with new NATS credentials failed'),
    );
  };
  watchFile(file, { interval: credentialsPollMs, persistent: false }, changed);
  void nc.closed().then(() => unwatchFile(file, changed));
}

async function watchStatus(nc: NatsConnection, log: Logger, on: NatsStatusHandlers): Promise<void> {
  for await (const s of nc.status()) {
    if (s.type === 'disconnect') {
      on.disconnected?.();
      log.warn({ server: s.server }, 'Disconnected from NATS');
    } else if (s.type === 'reconnect') {
      on.reconnected?.();
      log.info({ server: s.server }, 'Reconnected to NATS');
    } else if (s.type === 'error') {
      log.warn({ err: s.error }, 'NATS connection error');
    }
  }
}
