// Stopping a consume() loop mid-batch against a real nats-server: with stopConsuming every message
// the server had sent reaches the loop and is nak'ed, so all that was not acknowledged is delivered
// again at once (not after ackWait). The loop is the processor's own pattern: nak what arrives
// after the stop began.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { stopConsuming } from '../../../runtime/process/stop-consuming.js';
import { natsEnv } from '../../stack/context.js';

const STREAM = `STOPC_${Math.random().toString(36).slice(2, 8)}`;
const EVENTS = 5000;
const ACKED = 300;

describe('stopConsuming', () => {
  let nc: NatsConnection;
  let jsm: JetStreamManager;

  beforeAll(async () => {
    nc = await connect({ servers: natsEnv().url });
    jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: STREAM, subjects: [`${STREAM}.>`] });
    const js = jetstream(nc);
    await Promise.all(Array.from({ length: EVENTS }, () => js.publish(`${STREAM}.e`, new Uint8Array(200))));
  });

  afterAll(async () => {
    await jsm?.streams.delete(STREAM).catch(() => undefined);
    await nc?.close();
  });

  it('hands back every delivery the server sent, none left for ackWait', async () => {
    // An ackWait far beyond the test: a delivery left un-nak'ed would not come back during it.
    await jsm.consumers.add(STREAM, { durable_name: 'c', ack_policy: AckPolicy.Explicit, ack_wait: 600e9 });
    const js = jetstream(nc);
    const messages = await (await js.consumers.get(STREAM, 'c')).consume({ max_messages: 256 });
    let stopping = false;
    let iterated = 0;
    for await (const m of messages) {
      iterated++;
      if (stopping) {
        m.nak();
        continue;
      }
      m.ack();
      if (iterated === ACKED) {
        stopping = true;
        void stopConsuming(messages);
      }
    }
    await nc.flush();
    expect(iterated).toBeGreaterThan(ACKED);

    // Everything not acknowledged is delivered again straight away.
    const again = new Set<number>();
    const consumer = await js.consumers.get(STREAM, 'c');
    for (;;) {
      const batch = await consumer.fetch({ max_messages: 1000, expires: 1500 });
      let n = 0;
      for await (const m of batch) {
        n++;
        again.add(m.seq);
        m.ack();
      }
      if (n === 0) break;
    }
    expect(again.size).toBe(EVENTS - ACKED);
    await nc.flush();
    const info = await jsm.consumers.info(STREAM, 'c');
    expect(info.num_ack_pending).toBe(0);
    expect(info.ack_floor.stream_seq).toBe(EVENTS);
  });
});
