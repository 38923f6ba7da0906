// Every HTTP mode lands the right CloudEvent in the stream, in the wire format the processor reads.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloudEvent as SdkEvent, emitterFor, httpTransport, Mode } from 'cloudevents';
import { natsEnv } from '../../stack/context.js';
import { bearer, post, startHarness, TOKENS, type Harness } from './harness.js';

const STRUCTURED = 'application/cloudevents+json; charset=utf-8';

describe('HTTP ingest modes', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ natsUrl: natsEnv().url });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('accepts events from the cloudevents SDK emitter in binary and structured mode', async () => {
    const binary = emitterFor(httpTransport(h.httpUrl), { mode: Mode.BINARY });
    const structured = emitterFor(httpTransport(h.httpUrl), { mode: Mode.STRUCTURED });
    const e1 = new SdkEvent({
      id: 'sdk-bin-1',
      source: '/sdk',
      type: 'com.example.sdk.binary',
      subject: 'orders/1',
      datacontenttype: 'application/json',
      data: { amount: 12.5, items: ['a', 'b'] },
      myext: 'v1',
    });
    const e2 = new SdkEvent({
      id: 'sdk-str-1',
      source: '/sdk',
      type: 'com.example.sdk.structured',
      data: { ok: true },
    });
    const e3 = new SdkEvent({
      id: 'sdk-bin-2',
      source: '/sdk',
      type: 'com.example.sdk.bytes',
      datacontenttype: 'application/octet-stream',
      data: Buffer.from([1, 2, 3, 250]),
    });
    const r1 = (await binary(e1, { headers: bearer(TOKENS.shop) })) as { body: string };
    const r2 = (await structured(e2, { headers: bearer(TOKENS.shop) })) as { body: string };
    const r3 = (await binary(e3, { headers: bearer(TOKENS.billing) })) as { body: string };
    expect(JSON.parse(r1.body)).toEqual({ id: 'sdk-bin-1', duplicate: false });
    expect(JSON.parse(r2.body)).toEqual({ id: 'sdk-str-1', duplicate: false });
    expect(JSON.parse(r3.body)).toEqual({ id: 'sdk-bin-2', duplicate: false });

    const stored = await h.read();
    const byId = new Map(stored.map((s) => [s.event.id, s]));
    const b1 = byId.get('sdk-bin-1')!;
    expect(b1.subject).toBe(`${h.prefix}.com.example.sdk.binary`);
    expect(b1.headers['Nats-Msg-Id']).toBe('sdk-bin-1');
    expect(b1.headers['Content-Type']).toBe(STRUCTURED);
    expect(b1.event).toMatchObject({
      specversion: '1.0',
      source: '/sdk',
      type: 'com.example.sdk.binary',
      subject: 'orders/1',
      myext: 'v1',
      data: { amount: 12.5, items: ['a', 'b'] },
    });
    expect(b1.event.time).toBe(e1.time);
    expect(byId.get('sdk-str-1')!.event.data).toEqual({ ok: true });
    const b3 = byId.get('sdk-bin-2')!.event;
    expect(b3.data_base64).toBe(Buffer.from([1, 2, 3, 250]).toString('base64'));
    expect(b3.datacontenttype).toBe('application/octet-stream');
  });

  it('converts raw JSON per the conversion settings', async () => {
    const before = Date.now();
    const r = await post(
      h.httpUrl,
      JSON.stringify({ eventType: 'com.shop.order', origin: 'eu-shop', amount: 3 }),
      {
        ...bearer(TOKENS.shop),
        'content-type': 'application/json',
      },
    );
    expect(r.status).toBe(202);
    const id = r.body.id as string;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    // No Content-Type at all: the body is still read as raw JSON.
    const r2 = await post(
      h.httpUrl,
      new TextEncoder().encode(JSON.stringify({ note: 'no type here' })),
      bearer(TOKENS.shop),
    );
    expect(r2.status).toBe(202);

    const stored = await h.read();
    const e = stored.find((s) => s.event.id === id)!;
    expect(e.subject).toBe(`${h.prefix}.com.shop.order`);
    expect(e.event).toMatchObject({
      type: 'com.shop.order',
      source: 'eu-shop',
      datacontenttype: 'application/json',
      data: { eventType: 'com.shop.order', origin: 'eu-shop', amount: 3 },
    });
    expect(Date.parse(e.event.time!)).toBeGreaterThanOrEqual(before - 1000);
    const e2 = stored.find((s) => s.event.id === r2.body.id)!;
    expect(e2.event).toMatchObject({
      type: 'com.example.raw',
      source: '/test',
      data: { note: 'no type here' },
    });
  });

  it('treats a raw JSON array as a batch of raw events', async () => {
    const r = await post(
      h.httpUrl,
      JSON.stringify([
        { eventType: 'com.shop.a', n: 1 },
        { n: 2 },
        { specversion: '1.0', id: 'raw-arr-3', source: '/s', type: 'com.shop.c' },
      ]),
      { ...bearer(TOKENS.shop), 'content-type': 'application/json' },
    );
    expect(r.status).toBe(200);
    expect(r.body.accepted).toBe(3);
    const ids = (r.body.results as { id: string }[]).map((x) => x.id);
    expect(ids[2]).toBe('raw-arr-3');
    const stored = await h.read();
    const get = (id: string) => stored.find((s) => s.event.id === id)!;
    expect(get(ids[0]!).event).toMatchObject({ type: 'com.shop.a', data: { eventType: 'com.shop.a', n: 1 } });
    expect(get(ids[1]!).event).toMatchObject({ type: 'com.example.raw', data: { n: 2 } });
    expect(get('raw-arr-3').subject).toBe(`${h.prefix}.com.shop.c`);
  });

  it('accepts a batch and reports each event', async () => {
    const events = [1, 2, 3].map((i) => ({
      specversion: '1.0',
      id: `batch-${i}`,
      source: '/batch',
      type: `com.example.batch.n${i}`,
      data: { i },
    }));
    const r = await post(h.httpUrl, JSON.stringify(events), {
      ...bearer(TOKENS.shop),
      'content-type': 'application/cloudevents-batch+json',
    });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      accepted: 3,
      rejected: 0,
      results: [0, 1, 2].map((index) => ({ index, id: `batch-${index + 1}`, status: 202, duplicate: false })),
    });
    const stored = (await h.read()).filter((s) => s.event.source === '/batch');
    expect(stored.map((s) => [s.subject, s.event.data])).toEqual([
      [`${h.prefix}.com.example.batch.n1`, { i: 1 }],
      [`${h.prefix}.com.example.batch.n2`, { i: 2 }],
      [`${h.prefix}.com.example.batch.n3`, { i: 3 }],
    ]);
  });

  it('stores an event sent twice within the duplicate window once', async () => {
    const event = {
      specversion: '1.0',
      id: 'dup-1',
      source: '/dup',
      type: 'com.example.dup',
      data: { n: 1 },
    };
    const headers = { ...bearer(TOKENS.shop), 'content-type': 'application/cloudevents+json' };
    const first = await post(h.httpUrl, JSON.stringify(event), headers);
    const second = await post(h.httpUrl, JSON.stringify(event), headers);
    const viaBatch = await post(h.httpUrl, JSON.stringify([event]), {
      ...bearer(TOKENS.shop),
      'content-type': 'application/cloudevents-batch+json',
    });
    expect(first.body).toEqual({ id: 'dup-1', duplicate: false });
    expect(second.status).toBe(202);
    expect(second.body).toEqual({ id: 'dup-1', duplicate: true });
    expect(viaBatch.body.results).toEqual([{ index: 0, id: 'dup-1', status: 202, duplicate: true }]);
    expect((await h.read()).filter((s) => s.event.id === 'dup-1')).toHaveLength(1);
  });
});
