// A line of a JetStream message's header block, found in the raw bytes the client keeps instead of
// its decoded headers: the library keeps the block as bytes until `headers` is first read, and
// then builds a Map of arrays of strings for every message. The processor looks for ingest's
// structured Content-Type line this way (part of 40.6 → ~35 ms of processor CPU per 1,000 events,
// with four other changes measured together). Without it the caller decodes the headers.
import type { JsMsg } from '@nats-io/jetstream';
import { defaultFastPaths, type FastPaths } from './fast-paths.js';
import { FastPathName, type FastPathSite } from './guard.js';
import { probeMessage } from './nats-probe.js';

/**
 * Whether the raw header block of `m` holds `line` (bytes, e.g. `\r\nName: value\r\n`); false when
 * it has no headers; undefined when the block is not where this version of the library keeps it
 * (JsMsgImpl.msg, nats-core's MsgImpl._rdata and _msg.hdr).
 */
export function rawHeadersContain(m: JsMsg, line: Uint8Array): boolean | undefined {
  const inner = (m as unknown as { msg?: { _rdata?: unknown; _msg?: { hdr?: unknown } } }).msg;
  const raw = inner?._rdata;
  const hdr = inner?._msg?.hdr;
  if (!(raw instanceof Uint8Array) || typeof hdr !== 'number' || !(hdr <= raw.length)) return undefined;
  if (hdr <= 0) return false;
  return Buffer.from(raw.buffer, raw.byteOffset, hdr).indexOf(line) >= 0;
}

export interface RawHeadersInternals {
  contain(m: JsMsg, line: Uint8Array): boolean | undefined;
}

const PROBE_HEADER = { name: 'X-Eventrunner-Probe', value: 'raw' };

/** JsMsgImpl.msg with nats-core's MsgImpl._rdata and _msg.hdr, checked on probe messages. */
export const natsRawHeaders: FastPathSite<RawHeadersInternals> = {
  path: FastPathName.NatsRawHeaders,
  pins: [
    { name: '@nats-io/jetstream', version: '3.4.0' },
    { name: '@nats-io/nats-core', version: '3.4.0' },
  ],
  load(ctx) {
    const enc = new TextEncoder();
    const present = enc.encode(`\r\n${PROBE_HEADER.name}: ${PROBE_HEADER.value}\r\n`);
    const absent = enc.encode(`\r\n${PROBE_HEADER.name}: other\r\n`);
    const withHeader = probeMessage(ctx, PROBE_HEADER).message as JsMsg;
    const without = probeMessage(ctx).message as JsMsg;
    const found = [
      rawHeadersContain(withHeader, present),
      rawHeadersContain(withHeader, absent),
      rawHeadersContain(without, present),
    ];
    if (found.includes(undefined))
      return 'a JetStream message keeps no raw header block in msg._rdata and msg._msg.hdr';
    // The raw read must decide as the decoded headers do (read after it: reading decodes them).
    if (
      found.join() !== 'true,false,false' ||
      withHeader.headers?.get(PROBE_HEADER.name) !== PROBE_HEADER.value
    )
      return `the raw header block of a JetStream message reads ${found.join()}, not true,false,false`;
    return { contain: rawHeadersContain };
  },
};

/** Finds `line` in a message's raw headers; undefined when the caller must decode them. */
export type RawHeaderSearch = (m: JsMsg, line: Uint8Array) => boolean | undefined;

const searches = new WeakMap<FastPaths, RawHeaderSearch>();

/** The search for `fastPaths`: the raw bytes when the path may be used; never throws. */
export function rawHeaderSearch(fastPaths: FastPaths = defaultFastPaths()): RawHeaderSearch {
  let search = searches.get(fastPaths);
  if (search) return search;
  const path = FastPathName.NatsRawHeaders;
  const fallbacks = fastPaths.fallbacks(path);
  const internals = fastPaths.use(natsRawHeaders);
  search = !internals
    ? () => {
        fallbacks.inc();
        return undefined;
      }
    : (m, line) => {
        const found = internals.contain(m, line);
        if (found !== undefined) return found;
        fastPaths.miss(path, 'a JetStream message keeps no raw header block in msg._rdata and msg._msg.hdr');
        fallbacks.inc();
        return undefined;
      };
  searches.set(fastPaths, search);
  return search;
}
