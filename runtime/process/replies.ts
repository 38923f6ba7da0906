// Acknowledging a JetStream message by its reply subject alone. JetStream's acknowledgement
// protocol is a publish to the message's reply subject: `+ACK`, `-NAK` (optionally with a delay in
// nanoseconds) or `+TERM` (optionally with a reason) — what JsMsg.ack/nak/term send. Keeping only
// the reply subject of a message that waits for its sinks, instead of the whole JsMsg with its
// parsed headers and delivery info, keeps a few hundred bytes per in-flight event out of the
// garbage collector's survivors.

export interface ReplyPublisher {
  publish(subject: string, payload?: Uint8Array): void;
}

const ACK = Uint8Array.of(0x2b, 0x41, 0x43, 0x4b); // +ACK
const NAK = Uint8Array.of(0x2d, 0x4e, 0x41, 0x4b); // -NAK
const TERM = Uint8Array.of(0x2b, 0x54, 0x45, 0x52, 0x4d); // +TERM
const encoder = new TextEncoder();

/** The payloads, exported for tests. */
export function nakPayload(delayMs?: number): Uint8Array {
  if (!delayMs || delayMs <= 0) return NAK;
  return encoder.encode(`-NAK ${JSON.stringify({ delay: Math.round(delayMs) * 1_000_000 })}`);
}

export function termPayload(reason?: string): Uint8Array {
  return reason ? encoder.encode(`+TERM ${reason}`) : TERM;
}

export class Replies {
  constructor(private readonly nc: ReplyPublisher) {}

  ack(reply: string): void {
    this.nc.publish(reply, ACK);
  }

  /** Redeliver after delayMs (at once when 0). */
  nak(reply: string, delayMs?: number): void {
    this.nc.publish(reply, nakPayload(delayMs));
  }

  /** Never redeliver. */
  term(reply: string, reason?: string): void {
    this.nc.publish(reply, termPayload(reason));
  }
}
