// The NATS fast paths on messages built by the installed client's own classes: what they read
// equals what the library's public reads give, and with the path off or a field gone they answer
// "unknown" so the caller takes the public read, logged once and counted.
import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import type { JsMsg } from '@nats-io/jetstream';
import { FastPaths } from '../../../runtime/internals/fast-paths.js';
import { defaultLoadContext } from '../../../runtime/internals/guard.js';
import { PROBE_REPLY, probeMessage } from '../../../runtime/internals/nats-probe.js';
import { rawHeaderSearch } from '../../../runtime/internals/nats-raw-headers.js';
import { replyReader } from '../../../runtime/internals/nats-reply.js';
import { decodeMessage } from '../../../runtime/process/decode.js';
import { CONTENT_TYPE_HEADER, STRUCTURED_CONTENT_TYPE } from '../../../runtime/events/index.js';
import { captureLog, fastPathMetricValues } from './capture.js';

const structuredLine = Buffer.from(`\r\n${CONTENT_TYPE_HEADER}: ${STRUCTURED_CONTENT_TYPE}\r\n`);

function structuredMessage(): JsMsg {
  // The probe's body is the JSON object {"probe":true}: not an event; give it one.
  const m = probeMessage(defaultLoadContext, { name: CONTENT_TYPE_HEADER, value: STRUCTURED_CONTENT_TYPE })
    .message as JsMsg & { msg: { _rdata: Uint8Array; _msg: { hdr: number; size: number } } };
  const hdr = m.msg._rdata.subarray(0, m.msg._msg.hdr);
  const body = Buffer.from(
    JSON.stringify({
      specversion: '1.0',
      id: 'e-1',
      source: '/shop',
      type: 'com.shop.order',
      data: { n: 1 },
    }),
  );
  m.msg._rdata = Buffer.concat([hdr, body]);
  m.msg._msg.size = m.msg._rdata.length;
  return m;
}

describe('reply subject', () => {
  it('is read from the message when the path is on', () => {
    const read = replyReader(new FastPaths());
    expect(read(probeMessage(defaultLoadContext).message as JsMsg)).toBe(PROBE_REPLY);
  });

  it('is unknown when the path is off, and each message is counted', async () => {
    const registry = new Registry();
    const read = replyReader(new FastPaths({ enabled: false, registry }));
    const m = probeMessage(defaultLoadContext).message as JsMsg;
    expect(read(m)).toBeUndefined();
    expect(read(m)).toBeUndefined();
    expect((await fastPathMetricValues(registry)).fallbacks).toEqual({ 'nats-reply-subject': 2 });
  });

  it('is unknown, with one warning, for messages without the field', async () => {
    const { log, lines } = captureLog();
    const registry = new Registry();
    const read = replyReader(new FastPaths({ log, registry }));
    const bare = { info: {} } as unknown as JsMsg;
    expect(read(bare)).toBeUndefined();
    expect(read(bare)).toBeUndefined();
    expect(lines()).toEqual([
      expect.objectContaining({ level: 'warn', path: 'nats-reply-subject', reason: 'shape' }),
    ]);
    expect(await fastPathMetricValues(registry)).toEqual({
      enabled: { 'nats-reply-subject': 0 },
      fallbacks: { 'nats-reply-subject': 2 },
    });
  });

  it('is unknown when the library is not the version the path was written for', () => {
    const { log, lines } = captureLog();
    const read = replyReader(new FastPaths({ log, pins: { '@nats-io/jetstream': '3.3.0' } }));
    expect(read(probeMessage(defaultLoadContext).message as JsMsg)).toBeUndefined();
    expect(lines()).toEqual([expect.objectContaining({ level: 'warn', reason: 'version' })]);
  });
});

describe('raw header search', () => {
  it('decides as the decoded headers do when on, and is unknown when off', () => {
    const on = rawHeaderSearch(new FastPaths());
    const off = rawHeaderSearch(new FastPaths({ enabled: false }));
    const plain = probeMessage(defaultLoadContext, { name: 'X-Other', value: 'v' }).message as JsMsg;
    expect(on(structuredMessage(), structuredLine)).toBe(true);
    expect(on(plain, structuredLine)).toBe(false);
    expect(on(probeMessage(defaultLoadContext).message as JsMsg, structuredLine)).toBe(false);
    expect(off(structuredMessage(), structuredLine)).toBeUndefined();
  });

  it('leaves decoding the same with the path off or its field gone', () => {
    const off = rawHeaderSearch(new FastPaths({ enabled: false }));
    const { log, lines } = captureLog();
    const missing = rawHeaderSearch(new FastPaths({ log }));
    const moved = structuredMessage() as JsMsg & { msg: { _rdata?: unknown } };
    const want = decodeMessage(
      structuredMessage(),
      'S',
      { defaultType: 'x' },
      rawHeaderSearch(new FastPaths()),
    );
    expect(want).toMatchObject({ id: 'e-1', data: { n: 1 } });
    expect(decodeMessage(structuredMessage(), 'S', { defaultType: 'x' }, off)).toEqual(want);
    // The raw bytes kept under another name: the library's own reads still work.
    const data = moved.data;
    const headers = moved.headers;
    Object.defineProperties(moved, {
      data: { value: data },
      headers: { value: headers },
    });
    moved.msg._rdata = undefined;
    expect(decodeMessage(moved, 'S', { defaultType: 'x' }, missing)).toEqual(want);
    expect(lines()).toEqual([
      expect.objectContaining({ level: 'warn', path: 'nats-raw-headers', reason: 'shape' }),
    ]);
  });
});
