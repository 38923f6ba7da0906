// The Sink's Ready condition from a probe: each probe error code gets the reason a user filters on,
// whatever the message says.
import { describe, expect, it } from 'vitest';
import { ConditionReason } from '../../../api/conditions.js';
import { probeCondition, reasonByProbeCode } from '../../../operator/controllers/sink.js';
import { SinkProbeErrorCode } from '../../../runtime/sinks/errors.js';
import type { ProbeResult } from '../../../runtime/sinks/probe.js';

const failed = (code: SinkProbeErrorCode, message: string): ProbeResult => ({
  ok: false,
  kind: 'clickhouse',
  target: 'analytics.orders',
  reason: code === SinkProbeErrorCode.ConnectionFailed ? 'Unreachable' : 'Misconfigured',
  code,
  message,
});

describe('probeCondition', () => {
  it('takes the reason from the code, one reason per code', () => {
    expect(reasonByProbeCode).toEqual({
      SINK_INVALID_SPEC: 'InvalidSpec',
      SINK_CONNECTION_FAILED: 'ConnectionFailed',
      SINK_TLS_FAILED: 'TLSFailed',
      SINK_AUTHENTICATION_FAILED: 'AuthenticationFailed',
      SINK_TABLE_NOT_FOUND: 'TableNotFound',
      SINK_SCHEMA_MISMATCH: 'SchemaMismatch',
      SINK_STREAM_NOT_FOUND: 'EventSourceNotReady',
    });
    const reasons = Object.values(reasonByProbeCode);
    expect(new Set(reasons).size).toBe(reasons.length);
    for (const r of reasons) expect(Object.values(ConditionReason)).toContain(r);
  });

  it('keeps the message and ignores what it says', () => {
    // A connection failure whose text speaks of a table and a password is still a connection failure.
    const m = 'clickhouse: connect ECONNREFUSED 127.0.0.1:8123 (table does not exist? password?)';
    expect(probeCondition(failed(SinkProbeErrorCode.ConnectionFailed, m))).toEqual({
      type: 'Ready',
      status: 'False',
      reason: 'ConnectionFailed',
      message: m,
    });
    expect(
      probeCondition(failed(SinkProbeErrorCode.TlsFailed, 'clickhouse: TLS certificate problem')),
    ).toMatchObject({ status: 'False', reason: 'TLSFailed' });
    expect(
      probeCondition(failed(SinkProbeErrorCode.SchemaMismatch, 'column amount is String')),
    ).toMatchObject({
      reason: 'SchemaMismatch',
    });
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
    const webhook: ProbeResult = {
      ok: true,
      kind: 'http',
      target: 'https://hooks.example.com/orders',
      reason: 'Reachable',
      message: 'connected to hooks.example.com:443 with TLSv1.3, certificate verified; no event sent',
    };
    expect(probeCondition(webhook).message).toBe(
      'https://hooks.example.com/orders: connected to hooks.example.com:443 with TLSv1.3, certificate verified; no event sent',
    );
  });

  it('stays Ready with a table not keyed by the id, saying so in the message', () => {
    const ok: ProbeResult = {
      ok: true,
      kind: 'clickhouse',
      target: 'analytics.orders',
      reason: 'Reachable',
      message: 'ClickHouse 24.8',
      warning: 'engine MergeTree keeps every write',
    };
    expect(probeCondition(ok)).toEqual({
      type: 'Ready',
      status: 'True',
      reason: 'ProbeSucceeded',
      message: 'analytics.orders on ClickHouse 24.8; not idempotent: engine MergeTree keeps every write',
    });
  });
});
