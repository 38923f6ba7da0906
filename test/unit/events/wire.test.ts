// The JetStream wire format both ways, with the NATS client's own header type.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { headers as natsHeaders } from '@nats-io/nats-core';
import {
  EventErrorCode,
  fromHttpBinary,
  fromNatsMessage,
  parseBatch,
  parseStructured,
  toNatsMessage,
  EventError,
  type CloudEvent,
} from '../../../runtime/events/index.js';

const conversion = { defaultType: 'com.example.raw', typeFrom: '/kind', defaultSource: '/test' };
const enc = (s: string) => new TextEncoder().encode(s);

function hdrs(pairs: Record<string, string>) {
  const h = natsHeaders();
  for (const [k, v] of Object.entries(pairs)) h.set(k, v);
  return h;
}

describe('toNatsMessage', () => {
  it('publishes on <prefix>.<type> with Nats-Msg-Id and the structured content type', () => {
    const event: CloudEvent = {
      specversion: '1.0',
      id: 'abc',
      source: '/s',
      type: 'com.x.created',
      data: { n: 1 },
    };
    const m = toNatsMessage(event, 'er.ns.shop');
    expect(m.subject).toBe('er.ns.shop.com.x.created');
    expect(m.msgId).toBe('abc');
    expect(m.headers).toEqual({
      'Nats-Msg-Id': 'abc',
      'Content-Type': 'application/cloudevents+json; charset=utf-8',
    });
    expect(JSON.parse(new TextDecoder().decode(m.body))).toEqual(event);
  });
});

describe('fromNatsMessage', () => {
  it('decodes structured mode', () => {
    const event = { specversion: '1.0', id: '1', source: '/s', type: 't.a', data: { x: [1, 2] }, ext: 'v' };
    const m = toNatsMessage(event as CloudEvent, 'p');
    expect(fromNatsMessage(m.subject, hdrs(m.headers), m.body, conversion)).toEqual(event);
  });

  it('matches the content type header case-insensitively', () => {
    const body = enc(JSON.stringify({ specversion: '1.0', id: '1', source: '/s', type: 't' }));
    const e = fromNatsMessage(
      'p.t',
      hdrs({ 'content-type': 'application/cloudevents+json' }),
      body,
      conversion,
    );
    expect(e.id).toBe('1');
  });

  it('decodes binary mode with JSON data', () => {
    const h = hdrs({
      'ce-specversion': '1.0',
      'ce-id': 'b1',
      'ce-source': '/bin',
      'Ce-Type': 'com.bin',
      'ce-time': '2024-01-01T00:00:00Z',
      'ce-myext': 'yes',
      'Content-Type': 'application/json',
    });
    const e = fromNatsMessage('p.com.bin', h, enc('{"a":1}'), conversion);
    expect(e).toEqual({
      specversion: '1.0',
      id: 'b1',
      source: '/bin',
      type: 'com.bin',
      time: '2024-01-01T00:00:00Z',
      myext: 'yes',
      datacontenttype: 'application/json',
      data: { a: 1 },
    });
  });

  it('keeps non-JSON binary data as data_base64', () => {
    const h = hdrs({
      'ce-specversion': '1.0',
      'ce-id': 'b2',
      'ce-source': '/bin',
      'ce-type': 'com.bin',
      'Content-Type': 'application/octet-stream',
    });
    const bytes = new Uint8Array([0, 255, 1, 2]);
    const e = fromNatsMessage('p.com.bin', h, bytes, conversion);
    expect(e.data_base64).toBe(Buffer.from(bytes).toString('base64'));
    expect(e.data).toBeUndefined();
    expect(e.datacontenttype).toBe('application/octet-stream');
  });

  it('rejects binary mode whose JSON data does not parse', () => {
    const h = hdrs({
      'ce-specversion': '1.0',
      'ce-id': 'b3',
      'ce-source': '/s',
      'ce-type': 't',
      'content-type': 'application/json',
    });
    expect(() => fromNatsMessage('p.t', h, enc('{oops'), conversion)).toThrow(
      /binary-mode data is not valid JSON/,
    );
  });

  it('converts raw JSON with the conversion settings, with or without headers', () => {
    const raw = { kind: 'com.shop.order', amount: 5 };
    for (const h of [undefined, hdrs({ 'X-Other': '1' })]) {
      const e = fromNatsMessage('p.anything', h, enc(JSON.stringify(raw)), conversion);
      expect(e.type).toBe('com.shop.order');
      expect(e.source).toBe('/test');
      expect(e.data).toEqual(raw);
      expect(typeof e.id).toBe('string');
      expect(typeof e.time).toBe('string');
    }
  });

  it('uses a raw body that is a structured event as it is', () => {
    const ev = { specversion: '1.0', id: 'r1', source: '/s', type: 't' };
    expect(fromNatsMessage('p.t', undefined, enc(JSON.stringify(ev)), conversion)).toEqual(ev);
  });

  it('rejects garbage with a Malformed error', () => {
    let err: unknown;
    try {
      fromNatsMessage('p.t', undefined, enc('not json'), conversion);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(EventError);
    expect((err as EventError).code).toBe(EventErrorCode.Malformed);
    expect(() => fromNatsMessage('p.t', undefined, new Uint8Array([0xff, 0xfe]), conversion)).toThrow(
      /UTF-8/,
    );
  });

  it('round-trips arbitrary valid events through the wire format', () => {
    const attrName = fc
      .stringMatching(/^[a-z][a-z0-9]{0,9}$/)
      .filter(
        (n) =>
          ![
            'specversion',
            'id',
            'source',
            'type',
            'subject',
            'time',
            'datacontenttype',
            'dataschema',
            'data',
          ].includes(n),
      );
    const token = fc.stringMatching(/^[A-Za-z0-9_-]{1,8}$/);
    const arbEvent = fc.record(
      {
        id: fc.string({ minLength: 1 }),
        source: fc.string({ minLength: 1 }),
        type: fc.array(token, { minLength: 1, maxLength: 4 }).map((t) => t.join('.')),
        subject: fc.string({ minLength: 1 }),
        data: fc.jsonValue(),
        ext: fc.dictionary(
          attrName,
          fc.oneof(fc.string(), fc.boolean(), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })),
        ),
      },
      { requiredKeys: ['id', 'source', 'type'] },
    );
    fc.assert(
      fc.property(arbEvent, ({ ext, ...attrs }) => {
        const event = { ...(ext ?? {}), specversion: '1.0', ...attrs } as CloudEvent;
        // JSON cannot carry -0; the format normalises it to 0.
        const expected = JSON.parse(JSON.stringify(event)) as CloudEvent;
        const m = toNatsMessage(event, 'er.ns.src');
        expect(fromNatsMessage(m.subject, hdrs(m.headers), m.body, conversion)).toEqual(expected);
      }),
    );
  });
});

describe('HTTP binary and structured parsing', () => {
  it('percent-decodes binary-mode header values', () => {
    const e = fromHttpBinary(
      {
        'ce-specversion': '1.0',
        'ce-id': 'h1',
        'ce-source': '/s',
        'ce-type': 't',
        'ce-subject': 'caf%C3%A9 %25',
        'content-type': 'text/plain',
        host: 'x',
      },
      enc('hello'),
    );
    expect(e.subject).toBe('café %');
    expect(e.data_base64).toBe(Buffer.from('hello').toString('base64'));
  });

  it('parses a batch event by event', () => {
    const out = parseBatch(
      enc(
        JSON.stringify([
          { specversion: '1.0', id: '1', source: '/s', type: 't' },
          { specversion: '1.0', id: '2' },
        ]),
      ),
    );
    expect(out[0]).toMatchObject({ id: '1' });
    expect(out[1]).toBeInstanceOf(EventError);
    expect((out[1] as EventError).message).toContain('"source" is missing');
    expect(() => parseBatch('{}')).toThrow(/JSON array/);
    expect(() => parseStructured('[]')).toThrow(/JSON object/);
  });
});
