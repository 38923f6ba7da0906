// Acknowledging a JetStream message by its reply subject alone. JetStream's acknowledgement
// protocol is a publish to the message's reply subject: `+ACK`, `-NAK` (optionally with a delay in
// nanoseconds) or `+TERM` (optionally with a reason) — what JsMsg.ack/nak/term send. Keeping only
// the reply subject of a message that waits for its sinks, instead of the whole JsMsg with its
// parsed headers and delivery info, keeps a few hundred bytes per in-flight event out of the
// garbage collector's survivors.

/** What handling a message needs from its delivery info. */
export interface DeliveryNumbers {
  deliveryCount: number;
  streamSequence: number;
  /** When the stream stored the message (ns since the epoch; NaN when the subject lacks it). */
  timestampNanos: number;
}

const DOT = 0x2e;
// Token start offsets of the subject being read (reused: reading is synchronous).
const starts = new Int32Array(16);

/** The decimal number of `s` from `start` to `end`, or NaN when it is not one. */
function digits(s: string, start: number, end: number): number {
  if (end <= start) return NaN;
  let n = 0;
  for (let i = start; i < end; i++) {
    const d = s.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return NaN;
    n = n * 10 + d;
  }
  return n;
}

/**
 * The delivery count and stream sequence in a JetStream reply subject, or undefined when it is
 * not one. The library's `JsMsg.info` splits the subject into a dozen strings and parses five
 * numbers for every message; handling needs two. The subject is
 * `$JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<dseq>.<ts>.<pending>` (9 tokens) or, from
 * servers with domains, `$JS.ACK.<domain>.<account>.<stream>.<consumer>.<delivered>.<sseq>...`
 * (11 or more). Stream and consumer names cannot contain dots, so tokens are found by counting.
 */
export function deliveryNumbers(reply: string): DeliveryNumbers | undefined {
  if (!reply.startsWith('$JS.ACK.')) return undefined;
  // where each token starts; token 0 is $JS, 1 is ACK, 2 starts at 8
  let count = 2;
  starts[2] = 8;
  for (let i = 8; i < reply.length; i++) {
    if (reply.charCodeAt(i) !== DOT) continue;
    if (++count >= starts.length) return undefined;
    starts[count] = i + 1;
  }
  count++;
  const delivered = count === 9 ? 4 : count >= 11 ? 6 : -1;
  if (delivered < 0) return undefined;
  const deliveryCount = digits(reply, starts[delivered]!, starts[delivered + 1]! - 1);
  const streamSequence = digits(reply, starts[delivered + 1]!, starts[delivered + 2]! - 1);
  if (Number.isNaN(deliveryCount) || Number.isNaN(streamSequence)) return undefined;
  const timestampNanos = digits(reply, starts[delivered + 3]!, starts[delivered + 4]! - 1);
  return { deliveryCount, streamSequence, timestampNanos };
}

export interface ReplyPublisher {
  publish(subject: string, payload?: Uint8Array): void;
}

const ACK = Uint8Array.of(0x2b, 0x41, 0x43, 0x4b); // +ACK
const NAK = Uint8Array.of(0x2d, 0x4e, 0x41, 0x4b); // -NAK
const TERM = Uint8Array.of(0x2b, 0x54, 0x45, 0x52, 0x4d); // +TERM
const WPI = Uint8Array.of(0x2b, 0x57, 0x50, 0x49); // +WPI
const encoder = new TextEncoder();

/** The payloads, exported for tests. */
export function nakPayload(delayMs?: number): Uint8Array {
  if (!delayMs || delayMs <= 0) return NAK;
  return encoder.encode(`-NAK ${JSON.stringify({ delay: Math.round(delayMs) * 1_000_000 })}`);
}

export function termPayload(reason?: string): Uint8Array {
  return reason ? encoder.encode(`+TERM ${reason}`) : TERM;
}

/**
 * Acks, naks and terms by reply subject. They are handed to the connection once per turn of the
 * event loop: the client writes what was published as soon as the current callback's microtasks
 * ran, so events settled one I/O callback each (a webhook's answers arrive one by one) would cost
 * one socket write each; gathered until the I/O callbacks of the turn have run, they share one.
 */
export class Replies {
  private readonly subjects: string[] = [];
  private readonly payloads: Uint8Array[] = [];
  private scheduled = false;

  constructor(private readonly nc: ReplyPublisher) {}

  ack(reply: string): void {
    this.send(reply, ACK);
  }

  /** Redeliver after delayMs (at once when 0). */
  nak(reply: string, delayMs?: number): void {
    this.send(reply, nakPayload(delayMs));
  }

  /** Still working on it: JetStream restarts the message's AckWait. */
  working(reply: string): void {
    this.send(reply, WPI);
  }

  /** Never redeliver. */
  term(reply: string, reason?: string): void {
    this.send(reply, termPayload(reason));
  }

  /** Publishes what is gathered now (the processor calls it before it flushes and closes NATS). */
  flush(): void {
    this.scheduled = false;
    const n = this.subjects.length;
    for (let i = 0; i < n; i++) this.nc.publish(this.subjects[i]!, this.payloads[i]);
    this.subjects.length = 0;
    this.payloads.length = 0;
  }

  private send(reply: string, payload: Uint8Array): void {
    this.subjects.push(reply);
    this.payloads.push(payload);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }
}
