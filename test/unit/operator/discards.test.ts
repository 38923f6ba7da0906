// The gap between a Pipeline's acknowledged floor and its stream's first message: what the stream
// removed before the Pipeline processed it.
import { describe, expect, it } from 'vitest';
import { atRisk, discardedUnprocessed } from '../../../operator/discards.js';

const floor = (stream_seq: number) => ({ ack_floor: { consumer_seq: 0, stream_seq } });

describe('discardedUnprocessed', () => {
  it('is the sequences between the floor and the first message still stored', () => {
    expect(discardedUnprocessed(floor(2), { first_seq: 16 })).toEqual({ first: 3, last: 15 });
    expect(discardedUnprocessed(floor(0), { first_seq: 2 })).toEqual({ first: 1, last: 1 });
  });

  it('is nothing while the Pipeline is at or past the first message, or on a new consumer', () => {
    expect(discardedUnprocessed(floor(15), { first_seq: 16 })).toBeUndefined();
    expect(discardedUnprocessed(floor(40), { first_seq: 16 })).toBeUndefined();
    // An empty stream: first_seq is last_seq + 1 once everything was removed, 0 before anything came.
    expect(discardedUnprocessed(floor(0), { first_seq: 0 })).toBeUndefined();
  });
});

describe('atRisk', () => {
  const now = Date.parse('2026-01-04T00:00:00Z');
  const limits = { maxAgeMs: 72 * 3_600_000, maxBytes: 1000 };
  const behind = (floor: number, pending = 50) => ({
    ack_floor: { stream_seq: floor },
    num_pending: pending,
    num_ack_pending: 0,
  });
  const stream = (bytes: number, firstTs = '2026-01-03T23:00:00Z') => ({
    first_seq: 101,
    messages: 100,
    bytes,
    first_ts: firstTs,
  });

  it('warns when a stream at 90% of maxBytes holds the oldest unprocessed event in its oldest tenth', () => {
    expect(atRisk(behind(100), stream(950), limits, now)).toBe(
      "at 95% of maxBytes, with this Pipeline's oldest unprocessed event (sequence 101) among the oldest tenth it holds",
    );
  });

  it('warns when the oldest event is at 90% of maxAge', () => {
    expect(atRisk(behind(105), stream(10, '2026-01-01T02:00:00Z'), limits, now)).toMatch(
      /^at its oldest event 97% of maxAge old, with this Pipeline's oldest unprocessed event \(sequence 106\)/,
    );
  });

  it('is quiet when the Pipeline is further ahead, has nothing pending, or the stream is far from its limits', () => {
    expect(atRisk(behind(150), stream(950), limits, now)).toBeUndefined();
    expect(atRisk(behind(100, 0), stream(950), limits, now)).toBeUndefined();
    expect(atRisk(behind(100), stream(500), limits, now)).toBeUndefined();
    expect(atRisk(behind(100), stream(950), { maxAgeMs: 0, maxBytes: 0 }, now)).toBeUndefined();
  });
});
