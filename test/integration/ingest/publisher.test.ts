// The publish window against a real JetStream: never more than maxInFlight unacknowledged, a
// bounded queue behind it, and honest refusals when the stream is missing, wrong or silent.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { natsEnv } from '../../stack/context.js';
import { startNats } from '../../stack/nats.js';
import type { IngestRejection } from '../../../runtime/ingest/outcome.js';
import { Publisher } from '../../../runtime/ingest/publisher.js';
import type { CloudEvent } from '../../../runtime/events/index.js';

const event = (id: string): CloudEvent => ({
  specversion: '1.0',
  id,
  source: '/p',
  type: 'com.example.pub',
  data: { id },
});

async function settle<T>(ps: Promise<T>[]) {
  const rs = await Promise.allSettled(ps);
  return {
    ok: rs.filter((r) => r.status === 'fulfilled').length,
    reasons: rs.flatMap((r) => (r.status === 'rejected' ? [(r.reason as IngestRejection).reason] : [])),
    messages: rs.flatMap((r) => (r.status === 'rejected' ? [(r.reason as Error).message] : [])),
  };
}

describe('Publisher', () => {
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  const stream = `INGEST_PUB_${process.pid}`;
  const prefix = `er.test.pub${process.pid}`;
  beforeAll(async () => {
    nc = await connect({ servers: natsEnv().url });
    jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: stream, subjects: [`${prefix}.>`] });
  });
  afterAll(async () => {
    await jsm.streams.delete(stream).catch(() => undefined);
    await nc?.close();
  });

  it('keeps at most maxInFlight events unacknowledged and stores every one', async () => {
    const p = new Publisher(nc, {
      stream,
      subjectPrefix: prefix,
      maxInFlight: 8,
      maxQueued: 10_000,
      timeoutMs: 5000,
    });
    let maxSeen = 0;
    const all: Promise<unknown>[] = [];
    for (let i = 0; i < 2000; i++) {
      all.push(p.publish(event(`w-${i}`)));
      maxSeen = Math.max(maxSeen, p.inFlight());
    }
    expect(p.queued()).toBeGreaterThan(1000);
    const r = await settle(all);
    expect(r.ok).toBe(2000);
    expect(maxSeen).toBe(8);
    expect(p.inFlight()).toBe(0);
    await p.idle();
    expect((await jsm.streams.info(stream)).state.messages).toBe(2000);
  });

  it('refuses with overloaded once the queue is full', async () => {
    const p = new Publisher(nc, {
      stream,
      subjectPrefix: prefix,
      maxInFlight: 1,
      maxQueued: 2,
      timeoutMs: 5000,
    });
    const r = await settle(Array.from({ length: 10 }, (_, i) => p.publish(event(`q-${i}`))));
    expect(r.ok).toBe(3);
    expect(r.reasons).toEqual(Array(7).fill('overloaded'));
  });

  it('says so when no stream captures the subject or another stream does', async () => {
    const none = new Publisher(nc, {
      stream,
      subjectPrefix: 'er.nobody.listens',
      maxInFlight: 4,
      maxQueued: 4,
      timeoutMs: 2000,
    });
    const r1 = await settle([none.publish(event('n-1'))]);
    expect(r1.reasons).toEqual(['unavailable']);
    expect(r1.messages[0]).toContain('no JetStream stream answers on er.nobody.listens.com.example.pub');
    const wrong = new Publisher(nc, {
      stream: 'SOME_OTHER',
      subjectPrefix: prefix,
      maxInFlight: 4,
      maxQueued: 4,
      timeoutMs: 2000,
    });
    const r2 = await settle([wrong.publish(event('n-2'))]);
    expect(r2.reasons).toEqual(['unavailable']);
    expect(r2.messages[0]).toContain('stream SOME_OTHER refused the event');
  });

  it('times out in-flight and queued publishes when JetStream stops answering', async () => {
    const server = await startNats('nats-ingest-publisher');
    const pnc = await connect({ servers: server.url, maxReconnectAttempts: -1, reconnectTimeWait: 200 });
    try {
      await (await jetstreamManager(pnc)).streams.add({ name: 'SILENT', subjects: ['silent.>'] });
      const p = new Publisher(pnc, {
        stream: 'SILENT',
        subjectPrefix: 'silent',
        maxInFlight: 1,
        maxQueued: 5,
        timeoutMs: 500,
      });
      await p.publish(event('s-0'));
      await server.pause();
      const r = await settle([p.publish(event('s-1')), p.publish(event('s-2')), p.publish(event('s-3'))]);
      expect(r.ok).toBe(0);
      expect(r.reasons).toEqual(['unavailable', 'unavailable', 'unavailable']);
      expect(r.messages.some((m) => m.includes('did not acknowledge within 500ms'))).toBe(true);
      expect(r.messages.some((m) => m.includes('no publish slot within 500ms'))).toBe(true);
      expect(p.inFlight()).toBe(0);
      p.setConnected(false);
      await expect(p.publish(event('s-4'))).rejects.toThrow(/NATS is unreachable/);
    } finally {
      await pnc.close();
      await server.stop();
    }
  });
});
