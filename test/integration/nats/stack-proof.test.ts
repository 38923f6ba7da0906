// Proof that the test stack's NATS has JetStream: a stream is created, messages are published with
// acknowledgements, consumed by a durable pull consumer and acked, leaving nothing pending.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { natsEnv } from '../../stack/context.js';

describe('NATS JetStream from the test stack', () => {
  let nc: NatsConnection;
  beforeAll(async () => {
    nc = await connect({ servers: natsEnv().url });
  });
  afterAll(async () => {
    await nc?.drain();
  });

  it('publishes with acks, deduplicates by Nats-Msg-Id, and consumes with ack', async () => {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'PROOF', subjects: ['proof.>'], duplicate_window: 60_000_000_000 });
    const js = jetstream(nc);
    for (let i = 0; i < 10; i++) {
      const ack = await js.publish('proof.events', JSON.stringify({ i }), { msgID: `m-${i}` });
      expect(ack.duplicate).toBe(false);
    }
    const dup = await js.publish('proof.events', JSON.stringify({ i: 0 }), { msgID: 'm-0' });
    expect(dup.duplicate).toBe(true);
    expect((await jsm.streams.info('PROOF')).state.messages).toBe(10);

    await jsm.consumers.add('PROOF', { durable_name: 'proof', ack_policy: AckPolicy.Explicit });
    const consumer = await js.consumers.get('PROOF', 'proof');
    const got: number[] = [];
    const batch = await consumer.fetch({ max_messages: 10, expires: 5000 });
    for await (const m of batch) {
      got.push((m.json() as { i: number }).i);
      await m.ackAck();
    }
    expect(got).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const info = await consumer.info();
    expect(info.num_pending).toBe(0);
    expect(info.num_ack_pending).toBe(0);
  });
});
