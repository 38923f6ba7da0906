import { describe, expect, it } from 'vitest';
import { headers as natsHeaders } from '@nats-io/nats-core';
import { deadLetterTable } from '../../../cli/commands/dlq.js';
import { parsePlan } from '../../../cli/commands/replay-worker.js';
import { progressLine } from '../../../cli/replay-follow.js';
import { viewOf } from '../../../runtime/replay/dead-letters.js';

describe('replay and redrive CLI', () => {
  it('draws progress from the Replay status', () => {
    expect(progressLine(undefined)).toBe(`[${'.'.repeat(30)}] 0/0  Pending`);
    expect(progressLine({ phase: 'Running', total: 100, done: 49, failed: 1 })).toBe(
      `[${'#'.repeat(15)}${'.'.repeat(15)}] 50/100  1 failed  Running`,
    );
    expect(progressLine({ phase: 'Succeeded', total: 3, done: 3, failed: 0 })).toBe(
      `[${'#'.repeat(30)}] 3/3  Succeeded`,
    );
  });

  it('reads a dead letter: reason, output, deliveries, event id and origin', () => {
    const h = natsHeaders();
    h.set('eventrunner-reason', 'output store: HTTP 503');
    h.set('eventrunner-output', 'store');
    h.set('eventrunner-deliveries', '5');
    h.set('eventrunner-original-stream', 'ER_shop_orders');
    h.set('eventrunner-original-sequence', '7');
    const body = new TextEncoder().encode(JSON.stringify({ id: 'o-1', type: 'com.shop.order.created' }));
    const v = viewOf(12, new Date('2026-01-02T03:04:05Z'), h, body);
    expect(v).toEqual({
      sequence: 12,
      time: '2026-01-02T03:04:05.000Z',
      reason: 'output store: HTTP 503',
      output: 'store',
      deliveries: 5,
      eventId: 'o-1',
      eventType: 'com.shop.order.created',
      origin: 'ER_shop_orders:7',
    });
    const table = deadLetterTable([{ ...v, redrivenBy: 'again' }]);
    expect(table.split('\n')[0]).toMatch(/^SEQ +TIME +DELIV +RULE\/OUTPUT +EVENT +REDRIVEN +REASON$/);
    expect(table.split('\n')[1]).toMatch(
      /^12 +2026-01-02T03:04:05.000Z +5 +output store +o-1 +again +output store: HTTP 503$/,
    );
  });

  it('rejects a replay plan that lacks what the worker needs, naming it', () => {
    expect(() => parsePlan('{')).toThrow(/--replay: not JSON/);
    expect(() => parsePlan('{"namespace":"a","name":"b","uid":"c"}')).toThrow(/pipeline is required/);
    expect(() => parsePlan('{"namespace":"a","name":"b","uid":"c","pipeline":"p"}')).toThrow(
      /exactly one of from and deadLetters/,
    );
    expect(parsePlan('{"namespace":"a","name":"b","uid":"c","pipeline":"p","deadLetters":{}}').pipeline).toBe(
      'p',
    );
  });
});
