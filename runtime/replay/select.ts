// The replay worker's first step: copies the events a Replay selects into its own work stream —
// the Pipeline's sources between `from` and `to` (filtered as its durable consumer filters them),
// or its dead letters matching the redrive filter that were not redriven before. Each copy's
// message id is the event's first stream and sequence, so copying again after a crash adds
// nothing, and an event without an id of its own decodes to the same id as the first time.
import { headers as natsHeaders, type MsgHdrs } from '@nats-io/nats-core';
import {
  DeliverPolicy,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  type OrderedConsumerOptions,
} from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import type { Logger } from '../common/logger.js';
import { sleep } from '../common/backoff.js';
import type { ProcessConfig } from '../process/config.js';
import {
  matchesDeadLetter,
  ORIGIN_HEADER,
  originOf,
  redrivenKey,
  workResultsSubject,
  workSubject,
  type ReplayPlan,
} from './plan.js';
import { isResultDeadLetter, ResultHeader } from './results.js';

export interface SelectDeps {
  plan: ReplayPlan;
  config: ProcessConfig;
  js: JetStreamClient;
  jsm: JetStreamManager;
  kv: KV;
  log: Logger;
  signal: AbortSignal;
  /** Called with the count of events copied so far. */
  onCopied: (total: number) => void;
}

const FETCH = 500;

/**
 * Copies in flight together, up to 256: `add` waits for all of them (then reports) once that many
 * are pending; `drain` waits for the rest. The first failure rejects `add` or `drain`.
 */
class InFlight {
  private readonly pending: Promise<unknown>[] = [];
  constructor(private readonly onBatch: () => void) {}

  async add(copy: Promise<unknown>): Promise<void> {
    copy.catch(() => undefined); // handled by the Promise.all that waits for it, which may come later
    this.pending.push(copy);
    if (this.pending.length >= 256) {
      await Promise.all(this.pending.splice(0));
      this.onBatch();
    }
  }

  async drain(): Promise<void> {
    await Promise.all(this.pending.splice(0));
  }
}

/** Copies the selection; resolves with the number of events copied. */
export async function selectEvents(d: SelectDeps): Promise<number> {
  return d.plan.deadLetters ? selectDeadLetters(d) : selectRange(d);
}

/** Paces copies at ratePerSecond, when the Replay sets one. */
class Pace {
  private readonly started = performance.now();
  constructor(private readonly perSecond: number | undefined) {}
  async wait(count: number, signal: AbortSignal): Promise<void> {
    if (!this.perSecond) return;
    const due = this.started + (count * 1000) / this.perSecond;
    const now = performance.now();
    if (due > now) await sleep(due - now, signal);
  }
}

function copyHeaders(from: MsgHdrs | undefined, origin: string): MsgHdrs {
  const h = natsHeaders();
  if (from)
    for (const k of from.keys()) {
      const lower = k.toLowerCase();
      // A dead letter's own reason, rule and output describe its last failure, not the event.
      if (lower === 'nats-msg-id' || lower.startsWith('nats-expected') || lower.startsWith('eventrunner-'))
        continue;
      for (const v of from.values(k)) h.append(k, v);
    }
  h.set(ORIGIN_HEADER, origin);
  return h;
}

/** Reads a stream through an ordered consumer until `stop` says so or nothing is left. */
async function readStream(
  d: SelectDeps,
  stream: string,
  opts: Partial<OrderedConsumerOptions>,
  lastSeq: number,
  each: (m: JsMsg) => Promise<boolean>,
): Promise<void> {
  if (lastSeq === 0) return;
  const consumer = await d.js.consumers.get(stream, opts);
  for (;;) {
    if (d.signal.aborted) throw new Error('replay stopped');
    const batch = await consumer.fetch({ max_messages: FETCH, expires: 2000 });
    let seen = 0;
    for await (const m of batch) {
      seen++;
      if (m.seq > lastSeq) return;
      if (!(await each(m))) return;
      if (m.seq === lastSeq || m.info.pending === 0) return;
    }
    if (seen === 0) return;
  }
}

async function selectRange(d: SelectDeps): Promise<number> {
  const { plan, config, js, jsm } = d;
  const from = plan.from!;
  const pace = new Pace(plan.ratePerSecond);
  const toTime = plan.to?.time ? Date.parse(plan.to.time) : undefined;
  let total = 0;
  for (const [i, source] of config.sources.entries()) {
    const info = await jsm.consumers.info(source.stream, source.consumer);
    const filters = info.config.filter_subjects?.length
      ? info.config.filter_subjects
      : info.config.filter_subject
        ? [info.config.filter_subject]
        : [];
    // The end is fixed when the replay starts: what arrives later the Pipeline processes anyway.
    const stored = (await jsm.streams.info(source.stream)).state.last_seq;
    const lastSeq = plan.to?.sequence !== undefined ? Math.min(stored, plan.to.sequence - 1) : stored;
    const opts: Partial<OrderedConsumerOptions> = {
      ...(filters.length ? { filter_subjects: filters } : {}),
      ...(from.time
        ? { deliver_policy: DeliverPolicy.StartTime, opt_start_time: new Date(from.time).toISOString() }
        : { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: from.sequence! }),
    };
    const subject = workSubject(plan, i);
    const inFlight = new InFlight(() => d.onCopied(total));
    await readStream(d, source.stream, opts, lastSeq, async (m) => {
      if (toTime !== undefined && m.info.timestampNanos / 1e6 >= toTime) return false;
      await pace.wait(total, d.signal);
      const origin = `${source.stream}:${m.seq}`;
      const id = m.headers?.get('Nats-Msg-Id') || origin;
      total++;
      await inFlight.add(js.publish(subject, m.data, { headers: copyHeaders(m.headers, origin), msgID: id }));
      return true;
    });
    await inFlight.drain();
    d.onCopied(total);
  }
  d.log.info({ total }, 'Selected events to replay');
  return total;
}

async function selectDeadLetters(d: SelectDeps): Promise<number> {
  const { plan, config, js, jsm, kv } = d;
  const filter = plan.deadLetters!;
  const pace = new Pace(plan.ratePerSecond);
  const redriven = new Set<string>();
  for await (const k of await kv.keys('redriven.>')) redriven.add(k);
  const sourceIndex = new Map(config.sources.map((s, i) => [s.stream, i]));
  const stream = config.deadLetter.stream;
  const lastSeq = (await jsm.streams.info(stream)).state.last_seq;
  const opts: Partial<OrderedConsumerOptions> = filter.since
    ? { deliver_policy: DeliverPolicy.StartTime, opt_start_time: new Date(filter.since).toISOString() }
    : { deliver_policy: DeliverPolicy.All };
  let total = 0;
  let results = 0;
  let skipped = 0;
  // Each dead letter's mark is written only after the work stream stored its copy (a worker
  // restarted in between copies it again under the same message id).
  const inFlight = new InFlight(() => d.onCopied(total));
  const copied = (published: Promise<unknown>, seq: number): Promise<void> => {
    total++;
    return inFlight.add(published.then(() => kv.put(redrivenKey(seq), plan.name)));
  };
  await readStream(d, stream, opts, lastSeq, async (m) => {
    if (redriven.has(redrivenKey(m.seq))) return true;
    if (!matchesDeadLetter(filter, m.headers, new Date(m.info.timestampNanos / 1e6))) return true;
    if (isResultDeadLetter(m.headers)) {
      // A query result an output refused: written to that output again as it is (results.ts).
      await pace.wait(total, d.signal);
      const h = copyHeaders(m.headers, `${stream}:${m.seq}`);
      for (const k of Object.values(ResultHeader)) {
        const v = m.headers?.get(k);
        if (v) h.set(k, v);
      }
      await copied(
        js.publish(workResultsSubject(plan), m.data, { headers: h, msgID: `${stream}:${m.seq}` }),
        m.seq,
      );
      results++;
      return true;
    }
    const origin = originOf(m.headers);
    const index = origin && sourceIndex.get(origin.stream);
    if (!origin || index === undefined) {
      // An event of a source the Pipeline no longer reads (or a query's late input): nothing to send it through.
      skipped++;
      return true;
    }
    await pace.wait(total, d.signal);
    const id = `${origin.stream}:${origin.sequence}`;
    await copied(
      js.publish(workSubject(plan, index), m.data, { headers: copyHeaders(m.headers, id), msgID: id }),
      m.seq,
    );
    return true;
  });
  await inFlight.drain();
  d.onCopied(total);
  d.log.info({ total, results, skipped }, 'Selected dead letters to redrive');
  return total;
}
