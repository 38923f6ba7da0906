// The processor's fast path for ingest's messages reads the structured Content-Type line from the
// raw header bytes the JetStream client keeps, instead of decoding every message's headers. It
// relies on where the client keeps those bytes: this checks it against messages consumed from a
// real nats-server with the installed client, and that the fast path decides as the decoded
// headers do.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { headers as natsHeaders } from '@nats-io/nats-core';
import { AckPolicy, jetstream, jetstreamManager, type JsMsg } from '@nats-io/jetstream';
import {
  CONTENT_TYPE_HEADER,
  STRUCTURED_CONTENT_TYPE,
  toNatsMessage,
  type CloudEvent,
} from '../../../runtime/events/index.js';
import { decodeMessage, rawHeadersSayStructured } from '../../../runtime/process/decode.js';
import { natsEnv } from '../../stack/context.js';

const conversion = { defaultType: 'com.shop.raw' };

describe('raw header fast path', () => {
  let nc: NatsConnection;
  const stream = 'RAW_HEADERS';

  beforeAll(async () => {
    nc = await connect({ servers: natsEnv().url });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: stream, subjects: ['rawh.>'] });
    await jsm.consumers.add(stream, { durable_name: 'c', ack_policy: AckPolicy.Explicit });
  });

  afterAll(async () => {
    await (await jetstreamManager(nc)).streams.delete(stream).catch(() => undefined);
    await nc.close();
  });

  it('finds ingest’s structured events, and only those, as the decoded headers do', async () => {
    const js = jetstream(nc);
    const event: CloudEvent = {
      specversion: '1.0',
      id: 'e-1',
      source: '/shop',
      type: 'com.shop.order',
      data: { amount: 3 },
    };
    const structured = toNatsMessage(event, 'rawh');
    const h = natsHeaders();
    for (const [k, v] of Object.entries(structured.headers)) h.set(k, v);
    await js.publish('rawh.structured', structured.body, { headers: h });
    // Binary mode: the attributes in ce- headers, the payload as it is.
    const b = natsHeaders();
    for (const [k, v] of Object.entries({
      'ce-specversion': '1.0',
      'ce-id': 'e-2',
      'ce-source': '/shop',
      'ce-type': 'com.shop.order',
      [CONTENT_TYPE_HEADER]: 'application/json',
    }))
      b.set(k, v);
    await js.publish('rawh.binary', new TextEncoder().encode('{"amount":4}'), { headers: b });
    // A header that only ends in Content-Type, with the structured value: not the line ingest writes.
    const x = natsHeaders();
    x.set(`X-${CONTENT_TYPE_HEADER}`, STRUCTURED_CONTENT_TYPE);
    await js.publish('rawh.other', new TextEncoder().encode(JSON.stringify({ ...event, id: 'e-3' })), {
      headers: x,
    });
    await js.publish('rawh.plain', new TextEncoder().encode(JSON.stringify({ ...event, id: 'e-4' })));

    const consumer = await js.consumers.get(stream, 'c');
    const got: JsMsg[] = [];
    const batch = await consumer.fetch({ max_messages: 4, expires: 5000 });
    for await (const m of batch) got.push(m);
    expect(got.map((m) => m.subject)).toEqual(['rawh.structured', 'rawh.binary', 'rawh.other', 'rawh.plain']);

    // Raw bytes first: once `headers` is read the library has decoded them anyway.
    expect(got.map((m) => rawHeadersSayStructured(m))).toEqual([true, false, false, false]);
    expect(got.map((m) => m.headers?.get(CONTENT_TYPE_HEADER) === STRUCTURED_CONTENT_TYPE)).toEqual([
      true,
      false,
      false,
      false,
    ]);
    expect(got.map((m) => decodeMessage(m, stream, conversion).id)).toEqual(['e-1', 'e-2', 'e-3', 'e-4']);
    expect(decodeMessage(got[1]!, stream, conversion).data).toEqual({ amount: 4 });
    for (const m of got) m.ack();
  });
});
