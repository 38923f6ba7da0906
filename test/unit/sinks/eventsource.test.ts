// The EventSource sink's messages and the meaning of a failed publish, without a server.
import { describe, expect, it } from 'vitest';
import type { NatsConnection } from '@nats-io/nats-core';
import { JetStreamPublishError, PublishErrorCode } from '../../../runtime/ingest/jetstream-async.js';
import { classifyPublishError, EventSourceSink } from '../../../runtime/sinks/eventsource.js';
import {
  isRowRejectedError,
  isSinkConfigError,
  isTransientSinkError,
} from '../../../runtime/sinks/errors.js';
import type { SinkEvent } from '../../../runtime/sinks/types.js';

/** Enough of a connection for prepare(): its server's max_payload, and a subscription to ignore. */
const nc = {
  info: { max_payload: 600 },
  subscribe: () => ({ unsubscribe: () => undefined }),
} as unknown as NatsConnection;

const event: SinkEvent = {
  specversion: '1.0',
  id: 'o-7',
  type: 'com.shop.alert.gold',
  source: '/shop/web',
  data: { amount: 1500, tier: 'gold' },
};

describe('EventSource sink', () => {
  const sink = new EventSourceSink(nc, { stream: 'ER_shop_alerts', subjectPrefix: 'er.shop.alerts' });

  it('publishes the structured event on <prefix>.<type>', () => {
    const row = sink.prepare(event);
    expect(row.subject).toBe('er.shop.alerts.com.shop.alert.gold');
    expect(row.id).toBe('o-7');
    expect(JSON.parse(row.body.toString())).toEqual(event);
  });

  it('rejects an event whose type cannot be subject tokens, or which is too large', () => {
    expect(() => sink.prepare({ ...event, type: 'gold alert' })).toThrow(/cannot be part of a NATS subject/);
    let err: unknown;
    try {
      sink.prepare({ ...event, data: { note: 'x'.repeat(1000) } });
    } catch (e) {
      err = e;
    }
    expect(isRowRejectedError(err)).toBe(true);
    expect((err as Error).message).toMatch(/NATS accepts at most 600/);
  });

  it('retries what may pass later and reports a stream that does not take the subject', () => {
    const refused = new JetStreamPublishError(
      PublishErrorCode.Refused,
      'expected stream does not match',
      10060,
    );
    expect(isSinkConfigError(classifyPublishError('ER_shop_alerts', refused))).toBe(true);
    const gone = classifyPublishError(
      'ER_shop_alerts',
      new JetStreamPublishError(PublishErrorCode.NoResponders, 'no responders'),
    );
    expect(isTransientSinkError(gone)).toBe(true);
    expect(gone.message).toBe(
      'publish to stream ER_shop_alerts failed: no stream answers (is NATS reachable, does the EventSource exist?)',
    );
    const slow = new JetStreamPublishError(PublishErrorCode.Timeout, 'no acknowledgement within 10000ms');
    expect(isTransientSinkError(classifyPublishError('ER_shop_alerts', slow))).toBe(true);
  });
});
