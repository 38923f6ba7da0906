// One owned partition of one query: restore, replay, run, checkpoint.
//
// Claim. The checkpoint key `cp.<query>.<partition>` holds { owner, seq, checkpoint } — the
// engine's QueryCheckpoint (or where its chunks are, checkpoint-store.ts) and the highest
// shuffle-stream sequence it covers. A new owner first rewrites it unchanged but for the owner (a
// revision-checked update), which fences the previous owner: its next checkpoint write names a
// revision that no longer exists and fails. Results are fenced by the lease's validity (checked
// before each write) and by their deterministic ids: a write already in flight when the lease
// ran out lands a row the new owner writes again under the same id.
//
// Replay. The partition's durable consumer on the shuffle stream (a work-queue stream) is deleted
// and created again, delivering every message not yet acked, in stream order; messages at or
// below the checkpoint's sequence were acked by nobody yet but are in the state, and are acked
// and skipped.
//
// Ack ordering. Inputs are pushed in stream order; their results are written to the query's
// outputs and late events to the dead-letter stream, retried until accepted; only then is a
// checkpoint written (revision-checked), and only after that are the shuffle messages it covers
// acked. A crash at any point replays from the last checkpoint, re-emitting results under the same
// deterministic ids.
//
// Memory. A step's results go to the outputs in slices of EMIT_SLICE, each built and accepted
// before the next, so a window closing over 100,000 keys does not hold 100,000 result events,
// rows and their answers at once (one answer collector per slice, not a promise per row).
//
// Checkpoint pacing. Serializing the state costs time in proportion to its size (the whole state
// is written each time), so a partition checkpoints once `checkpointEvery` inputs arrived or
// `checkpointInterval` passed, but never sooner after its last checkpoint than COST_FACTOR times
// what serializing that one took times the partitions the worker runs: all of a worker's
// checkpoints together take about 1/COST_FACTOR of its time at most. A partition that holds
// HOLD_FACTOR × checkpointEvery unacked messages checkpoints anyway, so its consumer (whose
// max_ack_pending is above that) never stalls; an unchanged state is never written again.
import {
  AckPolicy,
  DeliverPolicy,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
} from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/nats-core';
import type { KV } from '@nats-io/kv';
import { sleep } from '../common/backoff.js';
import type { Logger } from '../common/logger.js';
import type { DeadLetterPublisher } from '../process/deadletter.js';
import {
  resultEvent,
  restoreState,
  type CompiledQuery,
  type PartitionState,
  type QueryCheckpoint,
  type QueryInput,
  type StepOutput,
} from '../queries/index.js';
import { shuffleSubject } from '../process/shuffle.js';
import {
  errorMessage,
  isRowRejectedError,
  TransientSinkError,
  type Batcher,
  type RowResult,
  type RowWaiter,
  type SinkEvent,
} from '../sinks/index.js';
import { CheckpointStore, serializeCheckpoint, type StoredCheckpoint } from './checkpoint-store.js';
import { isWrongSequence, type Lease, type Leases } from './leases.js';
import { PartitionStatusWriter, partitionStatusKey } from './status.js';
import { isLookupError, type LookupTable } from './lookup.js';
import type { WindowTracer } from './tracing.js';
import type { QueryCounters } from './metrics.js';

/** The partition is owned by someone else now; nothing more may be written. */
export class FencedError extends Error {
  constructor(what: string) {
    super(`lost the partition: ${what}`);
    this.name = 'FencedError';
  }
}

export type { StoredCheckpoint } from './checkpoint-store.js';

export interface PartitionDeps {
  query: CompiledQuery;
  lease: Lease;
  leases: Leases;
  kv: KV;
  js: JetStreamClient;
  jsm: JetStreamManager;
  shuffle: { stream: string; subjectPrefix: string };
  /** The query's outputs' batchers, by output name. */
  outputs: ReadonlyMap<string, Batcher<unknown>>;
  deadLetter: DeadLetterPublisher;
  pullBatch: number;
  checkpointEvery: number;
  checkpointIntervalMs: number;
  tickMs: number;
  /** The lookup-join query's table: each batch's rows are read into the inputs before they go in. */
  lookup?: LookupTable;
  /** Set when tracing is on: a span per result, linked to its inputs (tracing.ts). */
  traces?: WindowTracer;
  /** The query's counters (metrics.ts). */
  counters?: QueryCounters;
  /** How many partitions the worker runs now: they share its checkpoint budget (default 1). */
  partitionsRunning?: () => number;
  log: Logger;
}

/** A write the partition waits for: a result row to an output, or a dead letter. */
type Job = { output: string; event: SinkEvent } | { late: () => Promise<boolean> };

/** An input of the current batch and the shuffle message it came in. */
interface Fetched {
  msg: JsMsg;
  input: QueryInput;
}

/** Results (and late events) built and handed to the outputs at a time. */
export const EMIT_SLICE = 5000;
/** A checkpoint waits at least this many times what serializing the previous one took. */
export const COST_FACTOR = 20;
/** Unacked messages, in checkpointEvery units, at which a partition checkpoints whatever it cost. */
export const HOLD_FACTOR = 4;

/** Collects the answers of one round of writes: one promise per round, not one per row. */
class Answers implements RowWaiter {
  readonly results: RowResult[];
  private left: number;
  private resolve!: () => void;
  readonly done: Promise<void>;

  constructor(n: number) {
    this.results = new Array<RowResult>(n).fill(undefined);
    this.left = n;
    this.done = new Promise<void>((r) => (this.resolve = r));
    if (n === 0) this.resolve();
  }

  rowDone(index: number, result: RowResult): void {
    this.results[index] = result;
    if (--this.left === 0) this.resolve();
  }
}

const decoder = new TextDecoder();
const encoder = new TextEncoder();

export const consumerNameOf = (query: string, partition: number) => `${query}-${partition}`;

export class PartitionRunner {
  private state!: PartitionState;
  private covered = 0;
  private last = 0;
  private cpRevision = 0;
  private cpChunks: StoredCheckpoint['chunks'];
  private store!: CheckpointStore;
  /** Messages the next checkpoint covers, acked after it is written. */
  private held: JsMsg[] = [];
  private sinceCheckpoint = 0;
  private dirty = false;
  private lastCheckpoint = performance.now();
  /** What serializing the last checkpoint took (ms): the next waits COST_FACTOR times that. */
  private lastCostMs = 0;
  /** When this partition's state was last written or loaded (performance.now()); for metrics. */
  get lastCheckpointAt(): number | undefined {
    return this.checkpointedAt;
  }
  private checkpointedAt: number | undefined;
  private stopping = false;
  /** Inputs pushed, rows written, late events; for logs and status. */
  readonly counts = { inputs: 0, results: 0, late: 0, checkpoints: 0 };

  constructor(private readonly d: PartitionDeps) {}

  get name(): string {
    return `${this.d.query.name}/${this.d.lease.partition}`;
  }

  get stateKeys(): number {
    return this.state?.stateKeys ?? 0;
  }

  /** The partition's event-time watermark (ms), once its state is restored. */
  get watermark(): number | undefined {
    return this.state?.watermark;
  }

  /** Finish the current step, write a last checkpoint and return from run(). */
  stop(): void {
    this.stopping = true;
  }

  private active(): boolean {
    return !this.stopping && this.d.leases.valid(this.d.lease);
  }

  private assertOwner(what: string): void {
    if (!this.d.leases.valid(this.d.lease)) throw new FencedError(what);
  }

  /** Runs until stop() or the lease is lost; throws FencedError when fenced mid-write. */
  async run(): Promise<void> {
    await this.claim();
    const consumer = await this.recreateConsumer();
    const expires = Math.max(1000, this.d.tickMs);
    let lookupFailures = 0;
    while (this.active()) {
      const inputs: QueryInput[] = [];
      const fetched: Fetched[] = [];
      const heldBefore = this.held.length;
      const lastBefore = this.last;
      const messages = await consumer.fetch({ max_messages: this.d.pullBatch, expires });
      for await (const m of messages) {
        if (m.seq <= this.covered) {
          m.ack(); // in the restored state already
          continue;
        }
        if (m.seq <= this.last) continue; // redelivered while held for the next checkpoint
        this.last = m.seq;
        this.held.push(m);
        let input: QueryInput;
        try {
          input = JSON.parse(decoder.decode(m.data)) as QueryInput;
        } catch (err) {
          this.d.log.error({ seq: m.seq, err: errorMessage(err) }, 'Undecodable shuffle message; skipped');
          continue;
        }
        inputs.push(input);
        fetched.push({ msg: m, input });
      }
      // Fetched inputs are in `held` and `last` already: a runner asked to stop still pushes them,
      // or its last checkpoint would cover (and ack) inputs its state never saw.
      if (!this.d.leases.valid(this.d.lease)) break;
      if (inputs.length && this.d.lookup && this.d.query.lookup) {
        try {
          await this.d.lookup.fill(inputs, this.d.query.lookup);
          lookupFailures = 0;
        } catch (err) {
          if (!isLookupError(err)) throw err;
          // Nothing of the batch went in: hand it back (nak, no delay, so that it is redelivered
          // before newer messages, in order) and wait before asking again.
          for (const m of this.held.splice(heldBefore)) m.nak();
          this.last = lastBefore;
          lookupFailures++;
          this.d.log.warn(
            { partition: this.name, inputs: inputs.length, failures: lookupFailures, err: err.message },
            'Reading lookup rows failed; batch nak’ed for redelivery',
          );
          await sleep(Math.min(200 * 2 ** Math.min(lookupFailures - 1, 5), 5000));
          continue;
        }
      }
      if (inputs.length) {
        this.counts.inputs += inputs.length;
        this.d.counters?.inputs(inputs.length);
        this.sinceCheckpoint += inputs.length;
        this.dirty = true;
        this.d.traces?.inputs(fetched);
        await this.emit(this.state.push(inputs), fetched);
      }
      const ticked = this.state.tick(Date.now());
      if (ticked.results.length || ticked.late.length) this.dirty = true;
      await this.emit(ticked, fetched);
      if (this.dirty && this.due()) await this.checkpoint();
    }
    if (this.stopping && this.d.leases.valid(this.d.lease) && this.dirty) await this.checkpoint();
  }

  /** Takes the checkpoint key over (fencing the previous owner) and restores the state in it. */
  private async claim(): Promise<void> {
    const { kv, query, lease } = this.d;
    this.store = new CheckpointStore(kv, query.name, lease.partition, this.d.leases.workerId);
    for (;;) {
      this.assertOwner('before restoring');
      const { stored, revision } = await this.store.read();
      try {
        this.cpRevision = await this.store.claim(stored, revision);
      } catch (err) {
        if (isWrongSequence(err) || /exists/i.test(errorMessage(err))) continue; // the old owner wrote once more
        throw err;
      }
      this.cpChunks = stored.chunks;
      this.checkpointedAt = performance.now();
      const checkpoint = await this.store.load(stored);
      const swept = await this.store.sweep(stored.chunks);
      this.covered = this.last = stored.seq;
      this.state = checkpoint ? this.restore(checkpoint) : query.createState();
      this.d.log.info(
        {
          partition: this.name,
          from: stored.owner || undefined,
          seq: stored.seq,
          stateKeys: this.state.stateKeys,
          ...(stored.chunks ? { bytes: stored.chunks.bytes } : {}),
          ...(swept ? { sweptChunks: swept } : {}),
        },
        checkpoint ? 'Restored partition from checkpoint' : 'Started partition',
      );
      return;
    }
  }

  /** Whether a checkpoint is due now (see "Checkpoint pacing" above). */
  private due(): boolean {
    const { checkpointEvery, checkpointIntervalMs } = this.d;
    if (this.held.length >= HOLD_FACTOR * checkpointEvery) return true;
    const since = performance.now() - this.lastCheckpoint;
    const sharing = Math.max(1, this.d.partitionsRunning?.() ?? 1);
    if (since < COST_FACTOR * sharing * this.lastCostMs) return false;
    return this.sinceCheckpoint >= checkpointEvery || since >= checkpointIntervalMs;
  }

  private restore(cp: QueryCheckpoint): PartitionState {
    try {
      return restoreState(this.d.query, cp);
    } catch (err) {
      // The query's window, WHERE, GROUP BY or aggregates changed: it is a new query.
      this.d.log.warn(
        { partition: this.name, err: errorMessage(err) },
        'Checkpoint does not fit the query; starting empty',
      );
      return this.d.query.createState();
    }
  }

  private async recreateConsumer() {
    const { jsm, js, shuffle, query, lease } = this.d;
    const name = consumerNameOf(query.name, lease.partition);
    await jsm.consumers.delete(shuffle.stream, name).catch(() => undefined);
    await jsm.consumers.add(shuffle.stream, {
      durable_name: name,
      filter_subject: shuffleSubject(shuffle.subjectPrefix, query.name, lease.partition),
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: 120_000_000_000,
      // Above what a partition holds before it checkpoints whatever it costs (see due()).
      max_ack_pending:
        Math.max((HOLD_FACTOR + 1) * this.d.checkpointEvery, 2 * this.d.pullBatch) + this.d.pullBatch,
    });
    return js.consumers.get(shuffle.stream, name);
  }

  /**
   * Writes a step's results and late events, retrying what failed, while this worker owns the
   * partition: in slices of EMIT_SLICE, each built and accepted before the next.
   */
  private async emit(out: StepOutput, fetched: readonly Fetched[]): Promise<void> {
    if (out.results.length === 0 && out.late.length === 0) return;
    const spans = this.d.traces?.emitting(out);
    const { query } = this.d;
    this.counts.results += out.results.length;
    for (const l of out.late) if (l.reason === 'late') this.counts.late++;
    this.d.counters?.results(out.results.length);
    if (out.late.length) this.d.counters?.late(out.late.length);
    const outputs = this.outputsOfQuery();
    for (let from = 0; from < out.results.length; from += EMIT_SLICE) {
      const jobs: Job[] = [];
      for (const r of out.results.slice(from, from + EMIT_SLICE)) {
        const event = resultEvent(query, r) as SinkEvent;
        for (const o of outputs) jobs.push({ output: o, event });
      }
      await this.write(jobs);
    }
    if (out.late.length) {
      // Looked up only when there are late events: no key string per input on the hot path.
      const bySource = new Map(fetched.map((f) => [`${f.input.source}:${f.input.seq}`, f]));
      for (let from = 0; from < out.late.length; from += EMIT_SLICE) {
        const jobs: Job[] = [];
        for (const l of out.late.slice(from, from + EMIT_SLICE)) {
          const at = bySource.get(`${l.source}:${l.seq}`);
          if (at) jobs.push({ late: () => this.publishLate(at.msg, at.input, l.reason) });
        }
        await this.write(jobs);
      }
    }
    spans?.end();
  }

  /** Writes jobs until every one was accepted (or dead-lettered when an output refuses it). */
  private async write(jobs: Job[]): Promise<void> {
    // The earliest retry an output asked for (a webhook's Retry-After), honoured like the processor does.
    let retryAfterMs = 0;
    for (let attempt = 0; jobs.length; attempt++) {
      if (attempt) await sleep(Math.max(Math.min(200 * 2 ** attempt, 5000), retryAfterMs));
      retryAfterMs = 0;
      this.assertOwner('before writing results');
      const answers = new Answers(jobs.length);
      jobs.forEach((j, i) => {
        if ('late' in j)
          j.late().then(
            () => answers.rowDone(i, undefined),
            (err: unknown) => answers.rowDone(i, new TransientSinkError(errorMessage(err), { cause: err })),
          );
        else this.d.outputs.get(j.output)!.push(j.event, answers, i);
      });
      for (const b of this.d.outputs.values()) b.flush();
      await answers.done;
      const results = answers.results;
      const failed: Job[] = [];
      results.forEach((r, i) => {
        if (!r) return;
        if (isRowRejectedError(r)) {
          // Nothing is dropped: a result an output refuses goes to the dead-letter stream, with
          // the output and its answer, before the checkpoint acknowledges what produced it.
          const job = jobs[i]!;
          if (!('late' in job)) {
            this.d.log.warn(
              { partition: this.name, output: job.output, id: job.event.id, err: r.message },
              'Output rejected a result; dead-lettering it',
            );
            failed.push({ late: () => this.publishRejected(job.output, job.event, r.message) });
          }
          return;
        }
        // (The guard above narrows too far: a RowResult that is not a rejection may be transient.)
        const asked = (results[i] as TransientSinkError | undefined)?.retryAfterMs;
        if (asked !== undefined) retryAfterMs = Math.max(retryAfterMs, asked);
        failed.push(jobs[i]!);
      });
      if (failed.length)
        this.d.log.warn(
          { partition: this.name, failed: failed.length, err: results.find((r) => r)?.message },
          'Writing results failed; retrying',
        );
      jobs = failed;
    }
  }

  private outputsOfQuery(): string[] {
    return (this.outputNames ??= [...this.d.outputs.keys()]);
  }
  private outputNames: string[] | undefined;

  private publishLate(msg: JsMsg, input: QueryInput, reason: string): Promise<boolean> {
    const h = natsHeaders();
    h.set('eventrunner-query', this.d.query.name);
    h.set('eventrunner-source', input.source);
    h.set('eventrunner-source-sequence', String(input.seq));
    return this.d.deadLetter.publish({
      reason,
      subject: msg.subject,
      stream: this.d.shuffle.stream,
      sequence: msg.seq,
      deliveries: msg.info.deliveryCount,
      data: encoder.encode(JSON.stringify(input.event)),
      headers: h,
    });
  }

  /** A result an output rejected, as a dead letter: the result event, the output and its answer. */
  private publishRejected(output: string, event: SinkEvent, message: string): Promise<boolean> {
    const h = natsHeaders();
    h.set('eventrunner-query', this.d.query.name);
    h.set('eventrunner-result-id', String(event.id));
    return this.d.deadLetter.publish({
      reason: `output ${output} rejected the result: ${message}`,
      output,
      subject: `${this.d.shuffle.subjectPrefix}.${this.name}`,
      stream: this.d.shuffle.stream,
      sequence: this.last,
      deliveries: 1,
      data: encoder.encode(JSON.stringify(event)),
      headers: h,
      // One dead letter per result and output, however often a new owner emits it again.
      msgId: `result:${this.d.query.name}:${String(event.id)}:${output}`,
    });
  }

  /** Writes the state (revision-checked against this owner's last write), then acks what it covers. */
  private async checkpoint(): Promise<void> {
    this.assertOwner('before checkpointing');
    const started = performance.now();
    const state = serializeCheckpoint(this.state.checkpoint());
    this.lastCostMs = performance.now() - started;
    try {
      const written = await this.store.write(this.last, state, this.cpRevision, this.cpChunks);
      this.cpRevision = written.revision;
      this.cpChunks = written.chunks;
    } catch (err) {
      if (isWrongSequence(err)) throw new FencedError('checkpoint written by another owner');
      throw err;
    }
    for (const m of this.held) m.ack();
    this.held = [];
    this.covered = this.last;
    this.sinceCheckpoint = 0;
    this.dirty = false;
    this.lastCheckpoint = performance.now();
    this.checkpointedAt = this.lastCheckpoint;
    this.counts.checkpoints++;
    this.d.counters?.checkpoint();
    await (this.status ??= new PartitionStatusWriter(
      this.d.kv,
      partitionStatusKey(this.d.query.name, this.d.lease.partition),
      this.d.leases.workerId,
    )).write({
      seq: this.covered,
      watermark: this.state.watermark,
      stateKeys: this.state.stateKeys,
      late: this.counts.late,
      rejected: this.state.rejected,
      full: this.state.overLimit,
    });
  }
  private status: PartitionStatusWriter | undefined;
}
