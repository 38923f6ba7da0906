// Reading a Pipeline's dead letters for people (`eventrunner dlq list|show`): each one's reason,
// the rule or output behind it, when it was stored, how often it was delivered, and whether a
// redrive already sent it back (the marks in the Pipeline's replay bucket).
import { DeliverPolicy, type JetStreamManager, type StoredMsg } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { DeadLetterHeader } from '../process/deadletter.js';
import {
  matchesDeadLetter,
  originOf,
  replayBucketName,
  type DeadLetterFilter,
  type HeaderReader,
} from './plan.js';

export interface DeadLetterView {
  sequence: number;
  time: string;
  reason: string;
  rule?: string;
  output?: string;
  query?: string;
  deliveries?: number;
  /** The event's id when the body is a CloudEvent (structured) or the ce-id header says it. */
  eventId?: string;
  eventType?: string;
  /** The event's first stream and sequence. */
  origin?: string;
  /** Name of the Replay that sent it back, when one did. */
  redrivenBy?: string;
}

export interface DeadLetterDetail extends DeadLetterView {
  headers: Record<string, string>;
  /** The body as JSON when it is JSON, else as text. */
  body: unknown;
}

function bodyOf(data: Uint8Array): unknown {
  const text = new TextDecoder().decode(data);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** What one dead letter says; pure. */
export function viewOf(
  sequence: number,
  storedAt: Date,
  h: HeaderReader | undefined,
  data: Uint8Array,
): DeadLetterView {
  const get = (k: string) => h?.get(k) || undefined;
  const body = bodyOf(data);
  const ce = body && typeof body === 'object' ? (body as Record<string, unknown>) : {};
  const eventId = get('ce-id') ?? (typeof ce.id === 'string' ? ce.id : undefined);
  const eventType = get('ce-type') ?? (typeof ce.type === 'string' ? ce.type : undefined);
  const origin = originOf(h);
  const deliveries = Number(get(DeadLetterHeader.Deliveries));
  const rule = get(DeadLetterHeader.Rule);
  const output = get(DeadLetterHeader.Output);
  const query = get('eventrunner-query');
  return {
    sequence,
    time: storedAt.toISOString(),
    reason: get(DeadLetterHeader.Reason) ?? '',
    ...(rule ? { rule } : {}),
    ...(output ? { output } : {}),
    ...(query ? { query } : {}),
    ...(Number.isInteger(deliveries) && deliveries > 0 ? { deliveries } : {}),
    ...(eventId ? { eventId } : {}),
    ...(eventType ? { eventType } : {}),
    ...(origin ? { origin: `${origin.stream}:${origin.sequence}` } : {}),
  };
}

function headerRecord(m: StoredMsg): Record<string, string> {
  const out: Record<string, string> = {};
  if (m.header) for (const k of m.header.keys()) out[k] = m.header.values(k).join(', ');
  return out;
}

/** The Pipeline's redriven marks: dead-letter sequence → Replay name. Empty when there are none. */
async function redrivenMarks(
  jsm: JetStreamManager,
  namespace: string,
  pipeline: string,
): Promise<Map<number, string>> {
  const marks = new Map<number, string>();
  const bucket = replayBucketName(namespace, pipeline);
  try {
    await jsm.streams.info(`KV_${bucket}`);
  } catch {
    return marks;
  }
  const kv = await new Kvm(jsm.jetstream()).open(bucket);
  for await (const k of await kv.keys('redriven.>')) {
    const e = await kv.get(k);
    if (e && e.operation === 'PUT') marks.set(Number(k.slice('redriven.'.length)), e.string());
  }
  return marks;
}

export interface ListOptions {
  namespace: string;
  pipeline: string;
  stream: string;
  filter: DeadLetterFilter & { query?: string };
  /** At most this many, the newest ones. */
  limit: number;
}

/** The dead letters matching the filter, oldest first (the newest `limit` of them). */
export async function listDeadLetters(jsm: JetStreamManager, o: ListOptions): Promise<DeadLetterView[]> {
  const info = await jsm.streams.info(o.stream);
  const marks = await redrivenMarks(jsm, o.namespace, o.pipeline);
  const out: DeadLetterView[] = [];
  if (info.state.messages === 0) return out;
  const consumer = await jsm
    .jetstream()
    .consumers.get(
      o.stream,
      o.filter.since
        ? { deliver_policy: DeliverPolicy.StartTime, opt_start_time: new Date(o.filter.since).toISOString() }
        : { deliver_policy: DeliverPolicy.All },
    );
  const last = info.state.last_seq;
  for (;;) {
    const batch = await consumer.fetch({ max_messages: 500, expires: 2000 });
    let seen = 0;
    let end = false;
    for await (const m of batch) {
      seen++;
      const at = new Date(m.info.timestampNanos / 1e6);
      if (
        matchesDeadLetter(o.filter, m.headers, at) &&
        (!o.filter.query || m.headers?.get('eventrunner-query') === o.filter.query)
      ) {
        const v = viewOf(m.seq, at, m.headers, m.data);
        const by = marks.get(m.seq);
        out.push(by ? { ...v, redrivenBy: by } : v);
        if (out.length > o.limit) out.shift();
      }
      if (m.seq >= last || m.info.pending === 0) end = true;
      if (end) break;
    }
    if (end || seen === 0) break;
  }
  return out;
}

/** One dead letter with its headers and body; undefined when the stream no longer has it. */
export async function showDeadLetter(
  jsm: JetStreamManager,
  o: Omit<ListOptions, 'filter' | 'limit'>,
  sequence: number,
): Promise<DeadLetterDetail | undefined> {
  const m = await jsm.streams.getMessage(o.stream, { seq: sequence });
  if (!m) return undefined;
  const marks = await redrivenMarks(jsm, o.namespace, o.pipeline);
  const v = viewOf(sequence, m.time, m.header, m.data);
  const by = marks.get(sequence);
  return { ...v, ...(by ? { redrivenBy: by } : {}), headers: headerRecord(m), body: bodyOf(m.data) };
}
