// A JetStream message built from known bytes with the installed client's own classes, as its
// connection builds each delivered message (nats-core's MsgImpl from the parsed MSG/HMSG and its
// bytes, wrapped in jetstream's JsMsgImpl). The NATS fast paths check their reads on it before
// they are used: what the fast read gives must be what the library's public reads give.
import { join } from 'node:path';
import type { LoadContext } from './guard.js';

type MsgImplClass = new (
  arg: { subject: Uint8Array; reply?: Uint8Array; sid: number; hdr: number; size: number },
  data: Uint8Array,
  publisher: { publish(subject: string, data?: Uint8Array): void },
) => unknown;
type JsMsgImplClass = new (msg: unknown, timeout: number) => unknown;

export interface ProbeMessage {
  /** The message, as the consumer hands it out. */
  message: unknown;
  reply: string;
  /** The raw header block (`NATS/1.0\r\n…\r\n\r\n`). */
  headerBlock: Uint8Array;
}

/** A reply subject as JetStream writes it: stream PROBE, consumer C, delivered 2, stream sequence 7. */
export const PROBE_REPLY = '$JS.ACK.PROBE.C.2.7.7.1700000000000000000.0';

/** A message with the header `name: value`, or without headers when `name` is undefined. */
export function probeMessage(ctx: LoadContext, header?: { name: string; value: string }): ProbeMessage {
  const { MsgImpl } = ctx.require('@nats-io/nats-core/internal') as { MsgImpl?: MsgImplClass };
  // Not in jetstream's exports map: reached by its file, as the check of a check.
  const { JsMsgImpl } = ctx.require(join(ctx.packageDir('@nats-io/jetstream'), 'lib', 'jsmsg.js')) as {
    JsMsgImpl?: JsMsgImplClass;
  };
  if (typeof MsgImpl !== 'function') throw new Error('@nats-io/nats-core/internal has no class MsgImpl');
  if (typeof JsMsgImpl !== 'function')
    throw new Error('@nats-io/jetstream lib/jsmsg.js has no class JsMsgImpl');
  const enc = new TextEncoder();
  const headerBlock = header
    ? enc.encode(`NATS/1.0\r\n${header.name}: ${header.value}\r\n\r\n`)
    : new Uint8Array(0);
  const body = enc.encode('{"probe":true}');
  const data = new Uint8Array(headerBlock.length + body.length);
  data.set(headerBlock);
  data.set(body, headerBlock.length);
  const msg = new MsgImpl(
    {
      subject: enc.encode('probe.subject'),
      reply: enc.encode(PROBE_REPLY),
      sid: 1,
      hdr: header ? headerBlock.length : -1,
      size: data.length,
    },
    data,
    { publish: () => undefined },
  );
  return { message: new JsMsgImpl(msg, 5000), reply: PROBE_REPLY, headerBlock };
}
