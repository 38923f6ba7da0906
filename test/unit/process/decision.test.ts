import { describe, expect, it } from 'vitest';
import { backoffFor, decide } from '../../../runtime/process/decision.js';
import { RowRejectedError, SinkConfigError, TransientSinkError } from '../../../runtime/sinks/errors.js';
import { deadLetterHeaders, headerValue } from '../../../runtime/process/deadletter.js';
import { headers } from '@nats-io/nats-core';

const delivery = (count: number, maxDeliver = 5) => ({
  count,
  maxDeliver,
  backoffMs: [1000, 10_000, 60_000],
});

describe('decide', () => {
  it('acks only when every targeted sink accepted the event', () => {
    expect(decide(['a', 'b'], [undefined, undefined], delivery(1))).toEqual({ action: 'ack' });
    expect(decide(['a', 'b'], [undefined, new TransientSinkError('down')], delivery(1))).toEqual({
      action: 'nak',
      delayMs: 1000,
      reason: 'output b: down',
    });
    expect(decide(['a'], [new SinkConfigError('no table')], delivery(2))).toMatchObject({
      action: 'nak',
      delayMs: 10_000,
    });
  });

  it('dead-letters a rejected event whatever the other sinks said', () => {
    expect(
      decide(['a', 'b'], [new TransientSinkError('down'), new RowRejectedError('bad qty')], delivery(1)),
    ).toEqual({
      action: 'deadletter',
      reason: 'output b rejected the event: bad qty',
      output: 'b',
    });
  });

  it('naks no sooner than the longest Retry-After a destination asked for', () => {
    const later = new TransientSinkError('HTTP 429', { retryAfterMs: 30_000 });
    expect(decide(['a', 'b'], [undefined, later], delivery(1))).toEqual({
      action: 'nak',
      delayMs: 30_000,
      reason: 'output b: HTTP 429',
    });
    // A backoff longer than the Retry-After wins.
    const soon = new TransientSinkError('HTTP 503', { retryAfterMs: 2_000 });
    expect(decide(['a'], [soon], delivery(3))).toMatchObject({ action: 'nak', delayMs: 60_000 });
    // Retry-After does not buy deliveries beyond maxDeliver.
    expect(decide(['a'], [later], delivery(5))).toMatchObject({ action: 'deadletter' });
  });

  it('dead-letters on the last delivery instead of a nak that JetStream would never redeliver', () => {
    expect(decide(['a'], [new TransientSinkError('down')], delivery(5))).toEqual({
      action: 'deadletter',
      reason: 'delivered 5 times (maxDeliver); last error: output a: down',
    });
  });
});

describe('backoffFor', () => {
  it('uses the configured delays, repeating the last', () => {
    expect([1, 2, 3, 4, 9].map((n) => backoffFor(n, [1000, 10_000, 60_000]))).toEqual([
      1000, 10_000, 60_000, 60_000, 60_000,
    ]);
  });
  it('defaults to a jittered exponential capped at a minute', () => {
    const first = backoffFor(1, []);
    expect(first).toBeGreaterThanOrEqual(800);
    expect(first).toBeLessThanOrEqual(1200);
    expect(backoffFor(30, [])).toBeLessThanOrEqual(72_000);
  });
});

describe('dead-letter headers', () => {
  it('carry the reason and origin, keep original headers but not the message id', () => {
    const original = headers();
    original.set('Nats-Msg-Id', 'e1');
    original.set('Content-Type', 'application/cloudevents+json');
    const h = deadLetterHeaders(
      {
        reason: 'line1\nline2',
        rule: 'R',
        subject: 'ev.x.t',
        stream: 'EV',
        sequence: 42,
        deliveries: 3,
        data: new Uint8Array(),
        headers: original,
      },
      'ns/pl',
    );
    expect(h.get('eventrunner-reason')).toBe('line1 line2');
    expect(h.get('eventrunner-rule')).toBe('R');
    expect(h.get('eventrunner-original-subject')).toBe('ev.x.t');
    expect(h.get('eventrunner-original-stream')).toBe('EV');
    expect(h.get('eventrunner-original-sequence')).toBe('42');
    expect(h.get('eventrunner-deliveries')).toBe('3');
    expect(h.get('Content-Type')).toBe('application/cloudevents+json');
    expect(h.has('Nats-Msg-Id')).toBe(false);
    expect(headerValue('x'.repeat(2000)).length).toBe(1024);
  });
});
