// The Sink's Ready condition from a probe: each kind of failure gets the reason a user filters on.
import { describe, expect, it } from 'vitest';
import { probeCondition } from '../../../operator/controllers/sink.js';
import type { ProbeResult } from '../../../runtime/sinks/probe.js';

const failed = (message: string, reason: ProbeResult['reason'] = 'Misconfigured'): ProbeResult => ({
  ok: false,
  kind: 'clickhouse',
  target: 'analytics.orders',
  reason,
  message,
});

describe('probeCondition', () => {
  it('says TLSFailed for certificate and handshake problems', () => {
    const cert =
      "clickhouse: TLS certificate problem: the server's certificate is not signed by a CA the Sink trusts: " +
      'set spec.clickhouse.tls.caSecretRef to a Secret holding the CA (unable to verify; UNABLE_TO_VERIFY_LEAF_SIGNATURE)';
    const handshake =
      'cassandra: TLS handshake problem: the server did not answer with TLS: point spec.scylla.contactPoints at ' +
      'its TLS port, or set spec.scylla.tls.enabled: false (wrong version number; ERR_SSL_WRONG_VERSION_NUMBER)';
    for (const m of [cert, handshake])
      expect(probeCondition({ ...failed(m), tlsFailed: true })).toEqual({
        type: 'Ready',
        status: 'False',
        reason: 'TLSFailed',
        message: m,
      });
  });

  it('keeps the other reasons apart from TLS', () => {
    const reasonOf = (m: string, r?: ProbeResult['reason']) => probeCondition(failed(m, r)).reason;
    expect(reasonOf('Authentication failed: password is incorrect')).toBe('AuthenticationFailed');
    expect(reasonOf('table shop.orders does not exist (set manageSchema to create it)')).toBe(
      'TableNotFound',
    );
    expect(reasonOf('table shop.orders: column amount double is missing')).toBe('SchemaMismatch');
    expect(reasonOf('clickhouse: connect ECONNREFUSED 127.0.0.1:8123', 'Unreachable')).toBe(
      'ConnectionFailed',
    );
    expect(reasonOf('spec.clickhouse.url: must be a URL', 'InvalidSpec')).toBe('InvalidSpec');
  });

  it('is Ready with ProbeSucceeded when the probe passed', () => {
    const ok: ProbeResult = {
      ok: true,
      kind: 'scylla',
      target: 'shop.orders',
      reason: 'Reachable',
      message: 'Cassandra 5.0.9',
    };
    expect(probeCondition(ok)).toMatchObject({
      status: 'True',
      reason: 'ProbeSucceeded',
      message: 'shop.orders on Cassandra 5.0.9',
    });
  });
});
