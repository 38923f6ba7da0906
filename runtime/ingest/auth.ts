// Who is calling: a bearer token from the tokens file maps to a client name (for rate limits and
// metrics), or every caller is "anonymous" when auth is disabled. Tokens and Authorization headers
// are never logged.
import type { Logger } from '../common/logger.js';
import { bearerToken, TokenStore } from './tokens.js';

export const ANONYMOUS = 'anonymous';

export interface Authenticator {
  /** The client name for an Authorization header value (HTTP header or gRPC metadata), or undefined. */
  authenticate(authorization: string | undefined): string | undefined;
  close(): void;
}

export function openAuthenticator(): Authenticator {
  return { authenticate: () => ANONYMOUS, close() {} };
}

/**
 * Loads the tokens file (throws ConfigError when it cannot) and re-reads it every interval, so a
 * rotated Secret takes effect without a restart. A file that turns unreadable keeps the old tokens.
 */
export async function tokenAuthenticator(
  path: string,
  reloadIntervalMs: number,
  logger: Logger,
): Promise<Authenticator> {
  const store = new TokenStore(path);
  await store.load();
  logger.info({ tokensFile: path, clients: store.size }, 'Loaded bearer tokens');
  const timer = setInterval(() => {
    store.load().then(
      (changed) => {
        if (changed) logger.info({ tokensFile: path, clients: store.size }, 'Reloaded bearer tokens');
      },
      (err: Error) =>
        logger.warn(
          { tokensFile: path, reason: err.message },
          'Failed to reload bearer tokens; keeping the previous ones',
        ),
    );
  }, reloadIntervalMs).unref();
  return {
    authenticate(authorization) {
      const token = bearerToken(authorization);
      return token === undefined ? undefined : store.authenticate(token);
    },
    close: () => clearInterval(timer),
  };
}
