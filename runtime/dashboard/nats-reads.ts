// What the dashboard reads from JetStream, all of it read-only: stream and consumer info, the
// event counts per subject (a subject's last token is the CloudEvent type), and the last messages
// of a stream by sequence. Message bodies are cut to a size before they reach a page.
import type { JetStreamManager, StoredMsg } from '@nats-io/jetstream';
import { DeadLetterHeader } from '../process/deadletter.js';

/** How much of an event's data a page shows. */
export const DATA_CAP_BYTES = 1024;

export interface ShownEvent {
  seq: number;
  time: string;
  subject: string;
  id: string;
  type: string;
  source: string;
  /** The event's data as JSON text, cut at DATA_CAP_BYTES (with a note saying how big it was). */
  data: string;
}

export interface ShownDeadLetter extends ShownEvent {
  reason: string;
  rule: string;
  output: string;
  deliveries: string;
}

/** Data as the page shows it: JSON text, no longer than the cap. */
export function capData(value: unknown, cap = DATA_CAP_BYTES): string {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? '');
  const bytes = Buffer.byteLength(text);
  if (bytes <= cap) return text;
  return `${Buffer.from(text)
    .subarray(0, cap)
    .toString('utf8')
    .replace(/\uFFFD$/, '')}… (${bytes} bytes)`;
}

function shownEvent(m: StoredMsg): ShownEvent {
  const text = new TextDecoder().decode(m.data);
  let ev: Record<string, unknown> | undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed))
      ev = parsed as Record<string, unknown>;
  } catch {
    ev = undefined;
  }
  // Binary-mode events carry their attributes in ce-* headers and the data as the body.
  const h = (name: string) => m.header?.get(name) ?? '';
  const str = (v: unknown) => (typeof v === 'string' ? v : '');
  const structured = ev !== undefined && typeof ev.specversion === 'string';
  return {
    seq: m.seq,
    time: m.time.toISOString(),
    subject: m.subject,
    id: structured ? str(ev!.id) : h('ce-id'),
    type: structured ? str(ev!.type) : h('ce-type'),
    source: structured ? str(ev!.source) : h('ce-source'),
    data: structured ? capData(ev!.data ?? ev!.data_base64 ?? '') : capData(ev ?? text),
  };
}

async function lastStored(jsm: JetStreamManager, stream: string, count: number): Promise<StoredMsg[]> {
  const info = await jsm.streams.info(stream).catch(() => undefined);
  if (!info || info.state.messages === 0) return [];
  const out: StoredMsg[] = [];
  // Sequences may have gaps (deleted or expired messages); a missing one is skipped.
  for (let seq = info.state.last_seq; seq >= info.state.first_seq && out.length < count; seq--) {
    const m = await jsm.streams.getMessage(stream, { seq }).catch(() => null);
    if (m) out.push(m);
    if (info.state.last_seq - seq > count * 4) break;
  }
  return out;
}

/** The newest events of a stream, newest first. */
export async function recentEvents(
  jsm: JetStreamManager,
  stream: string,
  count: number,
): Promise<ShownEvent[]> {
  return (await lastStored(jsm, stream, count)).map(shownEvent);
}

/** The newest dead letters, newest first, with why each was dead-lettered. */
export async function recentDeadLetters(
  jsm: JetStreamManager,
  stream: string,
  count: number,
): Promise<ShownDeadLetter[]> {
  return (await lastStored(jsm, stream, count)).map((m) => ({
    ...shownEvent(m),
    reason: m.header?.get(DeadLetterHeader.Reason) ?? '',
    rule: m.header?.get(DeadLetterHeader.Rule) ?? '',
    output: m.header?.get(DeadLetterHeader.Output) ?? '',
    deliveries: m.header?.get(DeadLetterHeader.Deliveries) ?? '',
  }));
}

export interface StreamFigures {
  messages: number;
  bytes: number;
  /** Messages per CloudEvent type (the subject after the stream's prefix), most first. */
  byType: [type: string, count: number][];
}

export async function streamFigures(
  jsm: JetStreamManager,
  stream: string,
  subjectPrefix?: string,
): Promise<StreamFigures | undefined> {
  const info = await jsm.streams
    .info(stream, subjectPrefix ? { subjects_filter: `${subjectPrefix}.>` } : undefined)
    .catch(() => undefined);
  if (!info) return undefined;
  const subjects = (info.state as { subjects?: Record<string, number> }).subjects ?? {};
  const byType = Object.entries(subjects)
    .map(([s, n]): [string, number] => [subjectPrefix ? s.slice(subjectPrefix.length + 1) : s, n])
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  return { messages: info.state.messages, bytes: info.state.bytes, byType };
}

export interface ConsumerFigures {
  pending: number;
  ackPending: number;
  redelivered: number;
}

export async function consumerFigures(
  jsm: JetStreamManager,
  stream: string,
  consumer: string,
): Promise<ConsumerFigures | undefined> {
  const c = await jsm.consumers.info(stream, consumer).catch(() => undefined);
  return c && { pending: c.num_pending, ackPending: c.num_ack_pending, redelivered: c.num_redelivered };
}
