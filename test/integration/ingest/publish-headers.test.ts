// The publish path builds each event's headers without nats-core's per-key work (eventHeaders).
// Against a real JetStream: the messages it stores are the ones the plain nats-core path stores
// (subject, headers, body), duplicates are still recognised by id across both paths, and values
// the plain path would trim or refuse take the plain path.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MsgHdrs, MsgHdrsImpl } from '@nats-io/nats-core';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { natsEnv } from '../../stack/context.js';
import { toNatsMessage, type CloudEvent } from '../../../runtime/events/index.js';
import { JetStreamAsyncPublisher } from '../../../runtime/ingest/jetstream-async.js';
import { Publisher } from '../../../runtime/ingest/publisher.js';
import { eventHeaders, plainEventHeaders } from '../../../runtime/ingest/publish-headers.js';
import type { TraceHeaders } from '../../../runtime/common/trace-context.js';

const event = (id: string, type = 'com.example.hdr.created'): CloudEvent => ({
  specversion: '1.0',
  id,
  source: '/h',
  type,
  time: '2024-06-01T12:00:00Z',
  datacontenttype: 'application/json',
  data: { id, text: 'grüße' },
});

const TRACE: TraceHeaders = {
  traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
  tracestate: 'vendor=v1',
};

interface Stored {
  subject: string;
  headers: [string, string[]][];
  body: string;
}

const bytesOf = (h: MsgHdrs) => Buffer.from((h as MsgHdrsImpl).encode()).toString('latin1');

describe('event headers: fast path against the plain nats-core path', () => {
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  const streams = [`INGEST_HDR_FAST_${process.pid}`, `INGEST_HDR_PLAIN_${process.pid}`];
  const prefixes = [`er.test.hdrfast${process.pid}`, `er.test.hdrplain${process.pid}`];

  async function read(stream: string, n: number): Promise<Stored[]> {
    const consumer = await jetstream(nc).consumers.get(stream);
    const out: Stored[] = [];
    const messages = await consumer.consume();
    for await (const m of messages) {
      out.push({
        subject: m.subject,
        headers: [...(m.headers ?? [])].map(([k, v]) => [k, [...v]]),
        body: m.string(),
      });
      if (out.length === n) break;
    }
    return out;
  }

  beforeAll(async () => {
    nc = await connect({ servers: natsEnv().url });
    jsm = await jetstreamManager(nc);
    for (let i = 0; i < 2; i++) await jsm.streams.add({ name: streams[i]!, subjects: [`${prefixes[i]}.>`] });
  });
  afterAll(async () => {
    for (const s of streams) await jsm.streams.delete(s).catch(() => undefined);
    await nc?.close();
  });

  it('encodes the same header block as nats-core, with and without trace context', () => {
    for (const trace of [undefined, { traceparent: TRACE.traceparent }, TRACE]) {
      const fast = eventHeaders('id-1', 'STREAM', trace);
      const plain = plainEventHeaders('id-1', 'STREAM', trace);
      expect(bytesOf(fast)).toBe(bytesOf(plain));
      expect([...fast]).toEqual([...plain]);
      expect(fast.get('Nats-Msg-Id')).toBe('id-1');
    }
  });

  it('stores the same messages through the publisher as the plain path does', async () => {
    const events = Array.from({ length: 50 }, (_, i) =>
      event(`e-${i}`, i % 2 ? 'com.example.a' : 'com.example.b'),
    );
    // Fast path: ingest's Publisher, half of the events with trace context.
    const fast = new Publisher(nc, {
      stream: streams[0]!,
      subjectPrefix: prefixes[0]!,
      maxInFlight: 16,
      maxQueued: 1000,
      timeoutMs: 5000,
    });
    await Promise.all(events.map((e, i) => fast.publish(e, i % 2 ? TRACE : undefined)));
    // Plain path: nats-core's headers().set() for the same events, into the second stream.
    const js = new JetStreamAsyncPublisher(nc, 5000);
    await Promise.all(
      events.map((e, i) => {
        const m = toNatsMessage(e, prefixes[1]!);
        return js.publish(
          m.subject,
          m.body,
          plainEventHeaders(m.msgId, streams[1]!, i % 2 ? TRACE : undefined),
        );
      }),
    );
    js.close();
    const [a, b] = [await read(streams[0]!, 50), await read(streams[1]!, 50)];
    const comparable = (s: Stored, prefix: string, stream: string) => ({
      subject: s.subject.slice(prefix.length),
      headers: s.headers.map(([k, v]) => [
        k,
        k === 'Nats-Expected-Stream' ? v.map((x) => x.replace(stream, '<stream>')) : v,
      ]),
      body: s.body,
    });
    const byId = (xs: Stored[]) => [...xs].sort((x, y) => x.body.localeCompare(y.body));
    expect(byId(a).map((s) => comparable(s, prefixes[0]!, streams[0]!))).toEqual(
      byId(b).map((s) => comparable(s, prefixes[1]!, streams[1]!)),
    );
    expect(a[0]!.headers.map(([k]) => k).slice(0, 3)).toEqual([
      'Nats-Msg-Id',
      'Content-Type',
      'Nats-Expected-Stream',
    ]);
    expect(
      a.filter((s) => s.headers.some(([k, v]) => k === 'traceparent' && v[0] === TRACE.traceparent)),
    ).toHaveLength(25);
  });

  it('deduplicates by id across both paths', async () => {
    const e = event('dup-1');
    const m = toNatsMessage(e, prefixes[0]!);
    const js = new JetStreamAsyncPublisher(nc, 5000);
    const first = await js.publish(m.subject, m.body, eventHeaders(m.msgId, streams[0]!));
    const second = await js.publish(m.subject, m.body, plainEventHeaders(m.msgId, streams[0]!));
    const third = await js.publish(m.subject, m.body, eventHeaders(m.msgId, streams[0]!));
    js.close();
    expect([first.duplicate, second.duplicate, third.duplicate]).toEqual([false, true, true]);
    expect(second.seq).toBe(first.seq);
  });

  it('falls back to the plain path for values nats-core would trim or refuse', async () => {
    // Surrounding whitespace: both trim it the same way.
    expect(bytesOf(eventHeaders(' spaced id ', 'S'))).toBe(bytesOf(plainEventHeaders(' spaced id ', 'S')));
    expect(eventHeaders(' spaced id ', 'S').get('Nats-Msg-Id')).toBe('spaced id');
    expect(bytesOf(eventHeaders('x', 'S', { traceparent: TRACE.traceparent, tracestate: 'a=b ' }))).toBe(
      bytesOf(plainEventHeaders('x', 'S', { traceparent: TRACE.traceparent, tracestate: 'a=b ' })),
    );
    // CR/LF: both refuse it the same way.
    const plainError = (() => {
      try {
        plainEventHeaders('bad\r\nid', 'S');
      } catch (err) {
        return (err as Error).message;
      }
    })();
    expect(plainError).toMatch(/cannot contain/);
    expect(() => eventHeaders('bad\r\nid', 'S')).toThrow(plainError);
    // Through the publisher the refusal is an answer, not a crash, and nothing is stored.
    const p = new Publisher(nc, {
      stream: streams[0]!,
      subjectPrefix: prefixes[0]!,
      maxInFlight: 4,
      maxQueued: 4,
      timeoutMs: 2000,
    });
    const before = (await jsm.streams.info(streams[0]!)).state.messages;
    await expect(p.publish(event('bad\nid'))).rejects.toMatchObject({ name: 'IngestRejection' });
    const ok = await p.publish(event('  padded  '));
    expect(ok).toEqual({ ok: true, id: '  padded  ', duplicate: false });
    expect(p.inFlight()).toBe(0);
    expect((await jsm.streams.info(streams[0]!)).state.messages).toBe(before + 1);
  });
});
