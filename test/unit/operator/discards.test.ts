// The gap between a Pipeline's acknowledged floor and its stream's first message: what the stream
// removed before the Pipeline processed it.
import { describe, expect, it } from 'vitest';
import { discardedUnprocessed } from '../../../operator/discards.js';

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
