import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isConfigError } from '../../../runtime/common/errors.js';
import { natsAuthenticator, natsOptions, redactedServers } from '../../../runtime/common/nats.js';

const dir = mkdtempSync(join(tmpdir(), 'nats-auth-'));
const file = (name: string, content: string) => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};

describe('NATS connection settings', () => {
  it('authenticate with the one method named, reading its file at each connect', () => {
    const tokenFile = file('token', 's3cret\n');
    const auth = natsAuthenticator({ url: 'nats://n:4222', tokenFile })!;
    expect(auth(undefined)).toEqual({ auth_token: 's3cret' });
    writeFileSync(tokenFile, 'rotated\n');
    expect(auth(undefined)).toEqual({ auth_token: 'rotated' });

    const user = natsAuthenticator({
      url: 'nats://n:4222',
      userFile: file('user', 'alice'),
      passwordFile: file('password', 'pw\n'),
    })!;
    expect(user(undefined)).toEqual({ user: 'alice', pass: 'pw' });
    expect(natsAuthenticator({ url: 'nats://n:4222' })).toBeUndefined();
  });

  it('refuse two methods, or a user without a password', () => {
    for (const settings of [
      { url: 'nats://n:4222', tokenFile: '/t', credentialsFile: '/c' },
      { url: 'nats://n:4222', userFile: '/u' },
    ]) {
      let err: unknown;
      try {
        natsAuthenticator(settings);
      } catch (e) {
        err = e;
      }
      expect(isConfigError(err)).toBe(true);
    }
  });

  it('list every server, reconnect forever, and use the CA for tls:// URLs', () => {
    const o = natsOptions({ url: 'tls://a:4222, tls://b:4222', caFile: '/ca.crt' }, 'eventrunner-test');
    expect(o.servers).toEqual(['tls://a:4222', 'tls://b:4222']);
    expect(o.maxReconnectAttempts).toBe(-1);
    expect(o.tls).toEqual({ caFile: '/ca.crt' });
    expect(o.name).toBe('eventrunner-test');
  });

  it('never log a password carried in a URL', () => {
    expect(redactedServers('nats://u:p@a:4222,nats://b:4222')).toBe('nats://[redacted]@a:4222,nats://b:4222');
  });
});
