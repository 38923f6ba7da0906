// Stopping a JetStream consume() loop without leaving deliveries stranded. A plain stop()
// unsubscribes at once: messages the server already sent (a pull batch may be on the wire or in the
// socket buffer) arrive for a subscription that is gone and are dropped, so they stay ack pending
// until ackWait runs out. Draining the subscription first sends the unsubscribe and waits for the
// server's answer to a flush that follows it, so every message sent before reaches the loop, which
// naks it for another replica at once.
import type { ConsumerMessages } from '@nats-io/jetstream';

/** The subscription under a consume() iterator; not in the client's public types. */
interface WithSubscription {
  sub?: { drain?: () => Promise<void> };
}

export async function stopConsuming(messages: ConsumerMessages): Promise<void> {
  const sub = (messages as unknown as WithSubscription).sub;
  if (typeof sub?.drain === 'function') await sub.drain().catch(() => undefined);
  messages.stop();
}
