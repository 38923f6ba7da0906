// The retry table of webhook outputs: which answers are accepted, retried (and when) or
// dead-lettered, and what a dead letter's reason keeps of the answer.
import { describe, expect, it } from 'vitest';
import {
  isRowRejectedError,
  isSinkConfigError,
  isTransientSinkError,
  TransientSinkError,
} from '../../../runtime/sinks/errors.js';
import {
  answerResult,
  excerptOf,
  MAX_RETRY_AFTER_MS,
  parseRetryAfter,
  requestFailure,
} from '../../../runtime/sinks/http-status.js';

const now = Date.parse('2024-03-01T10:00:00Z');

describe('answerResult', () => {
  it('accepts every 2xx', () => {
    for (const status of [200, 201, 202, 204, 299]) expect(answerResult({ status }, now)).toBeUndefined();
  });

  it('retries 408, 429 and 5xx, honouring Retry-After', () => {
    for (const status of [408, 429, 500, 502, 503, 504, 599]) {
      const r = answerResult({ status }, now);
      expect(isTransientSinkError(r), String(status)).toBe(true);
      expect((r as TransientSinkError).retryAfterMs).toBeUndefined();
    }
    const limited = answerResult({ status: 429, retryAfter: '7', excerpt: 'slow down' }, now);
    expect(limited).toBeInstanceOf(TransientSinkError);
    expect((limited as TransientSinkError).retryAfterMs).toBe(7000);
    expect(limited!.message).toBe('HTTP 429 Too Many Requests (Retry-After 7s): slow down');
    const dated = answerResult({ status: 503, retryAfter: 'Fri, 01 Mar 2024 10:00:30 GMT' }, now);
    expect((dated as TransientSinkError).retryAfterMs).toBe(30_000);
  });

  it('dead-letters any other 4xx with the status and the start of the answer', () => {
    for (const status of [400, 401, 403, 404, 409, 410, 413, 422]) {
      const r = answerResult({ status, excerpt: '{"error":"nope"}' }, now);
      expect(isRowRejectedError(r), String(status)).toBe(true);
    }
    expect(answerResult({ status: 404, excerpt: 'no such hook' }, now)!.message).toBe(
      'HTTP 404 Not Found: no such hook',
    );
    expect(answerResult({ status: 422 }, now)!.message).toBe('HTTP 422 Unprocessable Entity');
  });

  it('treats a redirect as a wrong URL: retried, never dead-lettered', () => {
    const r = answerResult({ status: 301, location: 'https://new.example.com/hook' }, now);
    expect(isSinkConfigError(r)).toBe(true);
    expect(r!.message).toMatch(/redirects to https:\/\/new\.example\.com\/hook.*set spec\.http\.url/);
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates, never negative, capped', () => {
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter('0', now)).toBe(0);
    expect(parseRetryAfter(' 120 ', now)).toBe(120_000);
    expect(parseRetryAfter('Fri, 01 Mar 2024 09:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('86400', now)).toBe(MAX_RETRY_AFTER_MS);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('-5', now)).toBeUndefined();
  });
});

describe('requests without an answer', () => {
  it('are transient, naming the timeout or the network error', () => {
    const timeout = requestFailure(Object.assign(new Error('x'), { code: 'ETIMEDOUT_REQUEST' }), 2500);
    expect(isTransientSinkError(timeout)).toBe(true);
    expect(timeout.message).toBe('no answer within 2.5s (spec.http.timeout)');
    const refused = requestFailure(
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }),
      1000,
    );
    expect(isTransientSinkError(refused)).toBe(true);
    expect(refused.message).toBe('request failed: connect ECONNREFUSED 127.0.0.1:1');
  });

  it('make an untrusted certificate a configuration error naming the field to fix', () => {
    const r = requestFailure(
      Object.assign(new Error('self-signed certificate in certificate chain'), {
        code: 'SELF_SIGNED_CERT_IN_CHAIN',
      }),
      1000,
    );
    expect(isSinkConfigError(r)).toBe(true);
    expect(r.message).toMatch(/^http: TLS certificate problem: .*spec\.http\.tls\.caSecretRef/);
  });
});

describe('excerptOf', () => {
  it('keeps one line of bounded length', () => {
    expect(excerptOf('  {"error":\n  "bad"}  ')).toBe('{"error": "bad"}');
    expect(excerptOf('x'.repeat(1000))).toHaveLength(256);
  });
});
