import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Replies, deliveryNumbers, nakPayload, termPayload } from '../../../runtime/process/replies.js';

// The library's own reply-subject parser (behind JsMsg.info, not exported) is the reference.
const require = createRequire(import.meta.url);
const { parseInfo } = require(join(dirname(require.resolve('@nats-io/jetstream')), 'jsmsg.js')) as {
  parseInfo: (s: string) => { deliveryCount: number; streamSequence: number; timestampNanos: number };
};

const text = (b: Uint8Array) => new TextDecoder().decode(b);

describe('acknowledgements by reply subject', () => {
  it('speak JetStream’s acknowledgement protocol', () => {
    const sent: [string, string][] = [];
    const r = new Replies({ publish: (subject, payload) => void sent.push([subject, text(payload!)]) });
    r.ack('$JS.ACK.S.C.1.2.3.4.0');
    r.nak('$JS.ACK.S.C.1.2.3.4.0');
    r.nak('$JS.ACK.S.C.1.2.3.4.0', 1500);
    r.term('$JS.ACK.S.C.1.2.3.4.0', 'bad row');
    r.term('$JS.ACK.S.C.1.2.3.4.0');
    r.working('$JS.ACK.S.C.1.2.3.4.0');
    // Gathered for one write per turn of the event loop.
    expect(sent).toEqual([]);
    r.flush();
    expect(sent).toEqual([
      ['$JS.ACK.S.C.1.2.3.4.0', '+ACK'],
      ['$JS.ACK.S.C.1.2.3.4.0', '-NAK'],
      // The delay is in nanoseconds.
      ['$JS.ACK.S.C.1.2.3.4.0', '-NAK {"delay":1500000000}'],
      ['$JS.ACK.S.C.1.2.3.4.0', '+TERM bad row'],
      ['$JS.ACK.S.C.1.2.3.4.0', '+TERM'],
      ['$JS.ACK.S.C.1.2.3.4.0', '+WPI'],
    ]);
  });

  it('go out on their own at the end of the turn', async () => {
    const sent: string[] = [];
    const r = new Replies({ publish: (subject) => void sent.push(subject) });
    r.ack('a');
    r.ack('b');
    await new Promise((resolve) => setImmediate(resolve));
    expect(sent).toEqual(['a', 'b']);
  });

  it('send a plain NAK for no delay and whole milliseconds otherwise', () => {
    expect(text(nakPayload(0))).toBe('-NAK');
    expect(text(nakPayload(-5))).toBe('-NAK');
    expect(text(nakPayload(0.6))).toBe('-NAK {"delay":1000000}');
    expect(text(termPayload(''))).toBe('+TERM');
  });
});

describe('deliveryNumbers', () => {
  const library = (reply: string) => {
    const info = parseInfo(reply);
    return { deliveryCount: info.deliveryCount, streamSequence: info.streamSequence };
  };
  /** The counts exactly; the nanosecond timestamp to well under a microsecond (doubles). */
  const agree = (reply: string) => {
    const ours = deliveryNumbers(reply)!;
    const { timestampNanos, ...counts } = ours;
    expect(counts, reply).toEqual(library(reply));
    expect(Math.abs(timestampNanos - parseInfo(reply).timestampNanos), reply).toBeLessThan(1000);
  };

  it('reads the delivery count and stream sequence of both subject forms as the library does', () => {
    const subjects = [
      '$JS.ACK.ER_ns_shop.ER_PL_ns_orders.1.42.40.1733232323000000000.7',
      '$JS.ACK.hub.ACCHASH.ER_ns_shop.ER_PL_ns_orders.3.9007199254740991.12.1733232323000000000.0',
      '$JS.ACK.hub.ACCHASH.S.C.12.1000000.5.1733232323000000000.0.rAnD0m',
      '$JS.ACK._.ACCHASH.S.C.2.7.7.1.0',
    ];
    for (const s of subjects) agree(s);
    expect(deliveryNumbers(subjects[1]!)).toEqual({
      deliveryCount: 3,
      streamSequence: 9007199254740991,
      timestampNanos: 1733232323000000000,
    });
  });

  it('agrees with the library on generated subjects', () => {
    const name = fc.stringMatching(/^[A-Za-z0-9_-]{1,20}$/);
    const num = fc.integer({ min: 0, max: 2 ** 40 });
    fc.assert(
      fc.property(
        fc.boolean(),
        name,
        name,
        fc.tuple(fc.integer({ min: 1, max: 1000 }), num, num, num, num),
        (domains, stream, consumer, [delivered, sseq, dseq, ts, pending]) => {
          const tail = `${stream}.${consumer}.${delivered}.${sseq}.${dseq}.${ts}.${pending}`;
          const s = domains ? `$JS.ACK.dom.acc.${tail}` : `$JS.ACK.${tail}`;
          agree(s);
        },
      ),
    );
  });

  it('leaves subjects that are no JetStream acknowledgement to the library', () => {
    for (const s of ['', '_INBOX.abc', '$JS.ACK.S.C.1.2', '$JS.ACK.S.C.x.2.3.4.0', '$JS.ACK.S.C.1..3.4.0'])
      expect(deliveryNumbers(s), s).toBeUndefined();
  });
});
