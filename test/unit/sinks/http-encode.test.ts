// A CloudEvent as a webhook request in each content mode, checked by decoding it again with the
// codec ingest uses for HTTP requests (binary) and with JSON.parse (structured, batch).
import { describe, expect, it } from 'vitest';
import { fromHttpBinary } from '../../../runtime/events/index.js';
import {
  batchBody,
  binaryRow,
  headerObject,
  headerValue,
  structuredRow,
} from '../../../runtime/sinks/http-encode.js';
import type { SinkEvent } from '../../../runtime/sinks/types.js';

const order: SinkEvent = {
  specversion: '1.0',
  id: 'o-1',
  type: 'com.shop.order.created',
  source: '/shop/web',
  subject: 'order/1',
  time: '2024-03-01T10:00:00Z',
  datacontenttype: 'application/json',
  tier: 'gold',
  priority: 2,
  data: { amount: 1200, note: 'Grüße "100%"' },
};

/** What a Node server sees: lower-cased header names, string values. */
const received = (headers: string[] | undefined) => headerObject(headers ?? []);

describe('binary mode', () => {
  it('sends attributes and extensions as ce-* headers and the data as the body', () => {
    const row = binaryRow(order);
    expect(row.id).toBe('o-1');
    expect(received(row.headers)).toEqual({
      'ce-specversion': '1.0',
      'ce-id': 'o-1',
      'ce-type': 'com.shop.order.created',
      'ce-source': '/shop/web',
      'ce-subject': 'order/1',
      'ce-time': '2024-03-01T10:00:00Z',
      'ce-tier': 'gold',
      'ce-priority': '2',
      'content-type': 'application/json',
    });
    expect(JSON.parse(row.body.toString())).toEqual(order.data);
  });

  it('round-trips through the HTTP binary decoder, percent-encoding what headers cannot carry', () => {
    const event: SinkEvent = { ...order, subject: 'Bestellung Nr. 1 für "Jörg" 100%' };
    const row = binaryRow(event);
    expect(received(row.headers)['ce-subject']).toBe(
      'Bestellung%20Nr.%201%20f%C3%BCr%20%22J%C3%B6rg%22%20100%25',
    );
    const back = fromHttpBinary(received(row.headers), row.body);
    expect(back).toMatchObject({ ...event, priority: '2' });
  });

  it('sends text and base64 payloads as their bytes', () => {
    const text = binaryRow({ ...order, datacontenttype: 'text/plain', data: 'hello' });
    expect(received(text.headers)['content-type']).toBe('text/plain');
    expect(text.body.toString()).toBe('hello');
    const bytes = binaryRow({
      specversion: '1.0',
      id: 'b',
      type: 't',
      source: '/s',
      datacontenttype: 'application/octet-stream',
      data_base64: Buffer.from([0, 1, 2, 255]).toString('base64'),
    });
    expect([...bytes.body]).toEqual([0, 1, 2, 255]);
    const none = binaryRow({ specversion: '1.0', id: 'n', type: 't', source: '/s' });
    expect(none.body.length).toBe(0);
    expect(received(none.headers)['content-type']).toBeUndefined();
  });

  it('leaves printable ASCII as it is', () => {
    expect(headerValue('/shop/web?x=1&y=#a')).toBe('/shop/web?x=1&y=#a');
    expect(headerValue('a b')).toBe('a%20b');
    expect(headerValue('tab\there')).toBe('tab%09here');
  });
});

describe('structured and batch modes', () => {
  it('sends the whole event as JSON, and a batch as a JSON array of them', () => {
    const one = structuredRow(order);
    expect(one.headers).toBeUndefined();
    expect(JSON.parse(one.body.toString())).toEqual(order);
    const two = structuredRow({ ...order, id: 'o-2' });
    expect(JSON.parse(batchBody([one, two]).toString())).toEqual([order, { ...order, id: 'o-2' }]);
    expect(batchBody([]).toString()).toBe('[]');
  });
});
