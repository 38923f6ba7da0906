import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../runtime/common/errors.js';
import { checkCaBundle } from '../../../runtime/sinks/credentials.js';
import { isSinkConfigError } from '../../../runtime/sinks/errors.js';
import {
  cassandraTlsOptions,
  clickhouseAgentOptions,
  plaintextResetHint,
  tlsConfigError,
} from '../../../runtime/sinks/tls.js';
import type { ClickHouseSpec, ScyllaSpec } from '../../../runtime/sinks/types.js';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----';

const scylla = (tls?: ScyllaSpec['tls']): ScyllaSpec => ({
  contactPoints: ['db:9142'],
  localDataCenter: 'dc1',
  keyspace: 'k',
  table: 't',
  ...(tls ? { tls } : {}),
});
const clickhouse = (url: string, tls?: ClickHouseSpec['tls']): ClickHouseSpec => ({
  url,
  table: 't',
  ...(tls ? { tls } : {}),
});

/** A Node TLS error as sockets emit it. */
function nodeError(message: string, code: string, extra: object = {}): Error {
  return Object.assign(new Error(message), { code }, extra);
}

describe('cassandraTlsOptions', () => {
  it('is plaintext unless tls.enabled', () => {
    expect(cassandraTlsOptions(scylla(), undefined)).toBeUndefined();
    expect(cassandraTlsOptions(scylla({ enabled: false }), undefined)).toBeUndefined();
  });

  it('verifies against the CA bundle, or the system roots without one', () => {
    expect(cassandraTlsOptions(scylla({ enabled: true }), PEM)).toEqual({
      rejectUnauthorized: true,
      ca: [PEM],
    });
    expect(cassandraTlsOptions(scylla({ enabled: true }), undefined)).toEqual({ rejectUnauthorized: true });
  });

  it('skips verification only when insecureSkipVerify says so', () => {
    expect(cassandraTlsOptions(scylla({ enabled: true, insecureSkipVerify: true }), undefined)).toEqual({
      rejectUnauthorized: false,
    });
  });

  it('refuses TLS settings without tls.enabled instead of connecting in plaintext', () => {
    for (const [tls, ca, field] of [
      [{ enabled: false }, PEM, 'caSecretRef'],
      [{ insecureSkipVerify: true }, undefined, 'insecureSkipVerify'],
    ] as const) {
      let err: unknown;
      try {
        cassandraTlsOptions(scylla(tls), ca);
      } catch (e) {
        err = e;
      }
      expect(isSinkConfigError(err)).toBe(true);
      expect((err as Error).message).toBe(
        `spec.scylla.tls.enabled is false, but tls.${field} is set: set spec.scylla.tls.enabled: true ` +
          'to connect with TLS, or remove the TLS settings',
      );
    }
  });
});

describe('clickhouseAgentOptions', () => {
  it('is plain HTTP for an http:// URL', () => {
    expect(clickhouseAgentOptions(clickhouse('http://ch:8123'), undefined, 4)).toBeUndefined();
    expect(
      clickhouseAgentOptions(clickhouse('http://ch:8123', { enabled: false }), undefined, 4),
    ).toBeUndefined();
  });

  it('makes an https:// URL verify against the system roots, or the CA bundle when given', () => {
    expect(clickhouseAgentOptions(clickhouse('https://ch:8443'), undefined, 4)).toEqual({
      keepAlive: true,
      maxSockets: 4,
      rejectUnauthorized: true,
    });
    expect(clickhouseAgentOptions(clickhouse('HTTPS://ch:8443', { enabled: true }), PEM, 8)).toEqual({
      keepAlive: true,
      maxSockets: 8,
      rejectUnauthorized: true,
      ca: PEM,
    });
  });

  it('skips verification only when insecureSkipVerify says so', () => {
    expect(
      clickhouseAgentOptions(
        clickhouse('https://ch:8443', { enabled: true, insecureSkipVerify: true }),
        undefined,
        4,
      ),
    ).toMatchObject({ rejectUnauthorized: false });
  });

  it('refuses TLS settings on an http:// URL, naming each', () => {
    let err: unknown;
    try {
      clickhouseAgentOptions(clickhouse('http://ch:8123', { enabled: true }), PEM, 4);
    } catch (e) {
      err = e;
    }
    expect(isSinkConfigError(err)).toBe(true);
    expect((err as Error).message).toBe(
      'spec.clickhouse.tls.enabled, tls.caSecretRef ask for TLS, but spec.clickhouse.url http://ch:8123 is ' +
        "http://: use https:// and the server's https_port (usually 8443)",
    );
    expect(() =>
      clickhouseAgentOptions(clickhouse('http://ch:8123', { insecureSkipVerify: true }), undefined, 4),
    ).toThrow(/^spec\.clickhouse\.tls\.insecureSkipVerify asks for TLS/);
  });
});

describe('tlsConfigError', () => {
  it('names the CA field for a certificate no trusted CA signed, through causes and inner errors', () => {
    const leaf = nodeError('unable to verify the first certificate', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    const driver = Object.assign(new Error('All host(s) tried for query failed.'), {
      innerErrors: { '10.0.0.1:9142': leaf },
    });
    const err = tlsConfigError('scylla', driver);
    expect(err?.message).toBe(
      "cassandra: TLS certificate problem: the server's certificate is not signed by a CA the Sink trusts: " +
        'set spec.scylla.tls.caSecretRef to a Secret holding the CA that signed it (without caSecretRef ' +
        'the system roots are used) (unable to verify the first certificate; UNABLE_TO_VERIFY_LEAF_SIGNATURE)',
    );
    expect(err?.cause).toBe(driver);
    const wrapped = new Error('request failed', {
      cause: nodeError('self-signed certificate in certificate chain', 'SELF_SIGNED_CERT_IN_CHAIN'),
    });
    expect(tlsConfigError('clickhouse', wrapped)?.message).toMatch(
      /^clickhouse: TLS certificate problem: .* set spec\.clickhouse\.tls\.caSecretRef /,
    );
  });

  it('tells a host-name mismatch and an expired certificate apart', () => {
    expect(
      tlsConfigError(
        'clickhouse',
        nodeError("Hostname/IP does not match certificate's altnames", 'ERR_TLS_CERT_ALTNAME_INVALID'),
      )?.message,
    ).toMatch(/does not name the host in spec\.clickhouse\.url/);
    expect(
      tlsConfigError('scylla', nodeError('certificate has expired', 'CERT_HAS_EXPIRED'))?.message,
    ).toMatch(/outside its validity period: renew it on the server/);
  });

  it('reads a non-TLS answer as a handshake problem with OpenSSL reason only', () => {
    const err = nodeError(
      'write EPROTO 807C4B5D217F0000:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:../deps/openssl/ssl/record/ssl3_record.c:350:\n',
      'EPROTO',
    );
    expect(tlsConfigError('clickhouse', err)?.message).toBe(
      'clickhouse: TLS handshake problem: the server did not answer with TLS: point spec.clickhouse.url at ' +
        'its https_port, or use http:// (wrong version number; EPROTO)',
    );
    expect(
      tlsConfigError(
        'scylla',
        nodeError('x', 'ERR_SSL_WRONG_VERSION_NUMBER', { reason: 'wrong version number' }),
      )?.message,
    ).toMatch(
      /set spec\.scylla\.tls\.enabled: false \(wrong version number; ERR_SSL_WRONG_VERSION_NUMBER\)$/,
    );
  });

  it('leaves every other error alone', () => {
    expect(
      tlsConfigError('scylla', nodeError('connect ECONNREFUSED 127.0.0.1:1', 'ECONNREFUSED')),
    ).toBeUndefined();
    expect(
      tlsConfigError('clickhouse', new Error('Code: 60, e.displayText() = Table t does not exist')),
    ).toBeUndefined();
    expect(tlsConfigError('clickhouse', 'text')).toBeUndefined();
  });
});

describe('plaintextResetHint', () => {
  const reset = nodeError('read ECONNRESET', 'ECONNRESET');
  it('hints at a TLS-only port when a plaintext connection was reset', () => {
    expect(plaintextResetHint('scylla', false, new Error('failed', { cause: reset }))).toMatch(
      /set spec\.scylla\.tls\.enabled: true$/,
    );
    expect(plaintextResetHint('clickhouse', false, new Error('socket hang up'))).toMatch(
      /use an https:\/\/ URL$/,
    );
  });
  it('says nothing when TLS is on or the error is something else', () => {
    expect(plaintextResetHint('scylla', true, reset)).toBeUndefined();
    expect(
      plaintextResetHint('clickhouse', false, nodeError('connect ECONNREFUSED', 'ECONNREFUSED')),
    ).toBeUndefined();
  });
});

describe('checkCaBundle', () => {
  it('accepts a PEM bundle and refuses anything else, naming the file', () => {
    expect(checkCaBundle(`${PEM}\n${PEM}`, '/s/ca.crt')).toBe(`${PEM}\n${PEM}`);
    expect(() =>
      checkCaBundle('-----BEGIN PRIVATE KEY-----\nMII\n-----END PRIVATE KEY-----', '/s/ca.crt'),
    ).toThrow(ConfigError);
    expect(() => checkCaBundle('MIIB', '/s/ca.crt')).toThrow(
      /^the CA file \/s\/ca\.crt holds no PEM certificate/,
    );
  });
});
