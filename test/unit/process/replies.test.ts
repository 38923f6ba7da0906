import { describe, expect, it } from 'vitest';
import { Replies, nakPayload, termPayload } from '../../../runtime/process/replies.js';

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
    expect(sent).toEqual([
      ['$JS.ACK.S.C.1.2.3.4.0', '+ACK'],
      ['$JS.ACK.S.C.1.2.3.4.0', '-NAK'],
      // The delay is in nanoseconds.
      ['$JS.ACK.S.C.1.2.3.4.0', '-NAK {"delay":1500000000}'],
      ['$JS.ACK.S.C.1.2.3.4.0', '+TERM bad row'],
      ['$JS.ACK.S.C.1.2.3.4.0', '+TERM'],
    ]);
  });

  it('send a plain NAK for no delay and whole milliseconds otherwise', () => {
    expect(text(nakPayload(0))).toBe('-NAK');
    expect(text(nakPayload(-5))).toBe('-NAK');
    expect(text(nakPayload(0.6))).toBe('-NAK {"delay":1000000}');
    expect(text(termPayload(''))).toBe('+TERM');
  });
});
