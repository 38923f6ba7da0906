// Groups single events into sink writes: a batch goes out when it holds maxRows events or its
// oldest event has waited maxDelay, or at once when the caller says no more events can come
// (the processor's in-flight limit is reached, or it is draining). At most maxConcurrent writes
// run at a time; events wait in `pending`, whose size the processor's in-flight limit bounds.
// Each event is turned into the sink's row (`prepare`) when it is added, so a batch holds compact
// rows rather than parsed events: the events die young instead of being promoted and marked by
// the garbage collector while a large batch fills.
import { RowRejectedError, TransientSinkError, errorMessage } from './errors.js';
import type { RowResult, SinkEvent } from './types.js';

/** Rows settled in a row before pending I/O callbacks get their turn. */
const SETTLE_SLICE = 512;
/** Resolves after the I/O callbacks pending now have run (a turn of the event loop). */
export const yieldToIo = () => new Promise<void>((resolve) => setImmediate(resolve));

export interface BatcherOptions<Row = SinkEvent> {
  maxRows: number;
  maxDelayMs: number;
  /** Writes of this sink running at once. */
  maxConcurrent: number;
  /** Event → row; throws RowRejectedError for an event the sink cannot take. Default: the event. */
  prepare?: (event: SinkEvent) => Row;
}

/** Told each row's result; `index` is what the caller passed with the event. */
export interface RowWaiter {
  rowDone(index: number, result: RowResult): void;
}

interface Entry<Row> extends BatchEntry {
  row: Row;
  at: number;
}

/** Whose rows a batch holds, in row order: for writers that look at the waiters (tracing). */
export interface BatchEntry {
  readonly waiter: RowWaiter;
  readonly index: number;
}

export type WriteFn<Row = SinkEvent> = (rows: Row[], entries: readonly BatchEntry[]) => Promise<RowResult[]>;

export class Batcher<Row = SinkEvent> {
  /** Waiting events from `head` on: taking from the front moves an index, not the array. */
  private pending: Entry<Row>[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | undefined;
  private urgent = false;
  private running = 0;
  /** Written batches whose rows are still being handed their results. */
  private settling = 0;
  private idleWaiters: (() => void)[] = [];

  private readonly prepare: (event: SinkEvent) => Row;

  constructor(
    private readonly write: WriteFn<Row>,
    private readonly opts: BatcherOptions<Row>,
  ) {
    this.prepare = opts.prepare ?? ((e) => e as Row);
  }

  /** Events waiting for a batch plus those being written. */
  get queued(): number {
    return this.pending.length - this.head;
  }

  add(event: SinkEvent): Promise<RowResult> {
    return new Promise<RowResult>((resolve) => this.push(event, { rowDone: (_, r) => resolve(r) }, 0));
  }

  /**
   * Adds an event; `waiter` gets its result once its batch is written (at once, before push
   * returns, for an event the sink rejects). No promise or closure per event: the hot path.
   */
  push(event: SinkEvent, waiter: RowWaiter, index: number): void {
    let row: Row;
    try {
      row = this.prepare(event);
    } catch (err) {
      if (err instanceof RowRejectedError) return waiter.rowDone(index, err);
      throw err;
    }
    this.pending.push({ row, at: performance.now(), waiter, index });
    if (this.queued >= this.opts.maxRows) this.pump();
    else this.arm();
  }

  /** Writes whatever is pending without waiting for maxRows or maxDelay. */
  flush(): void {
    if (this.queued === 0) return;
    this.urgent = true;
    this.pump();
  }

  /** Flushes and resolves once nothing is pending or being written. */
  async drain(): Promise<void> {
    this.flush();
    while (this.queued || this.running || this.settling) {
      await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
      this.flush();
    }
  }

  private arm(): void {
    if (this.timer || this.queued === 0) return;
    // Due already, only waiting for a write slot: the end of a running write pumps again. A
    // timer here would fire every millisecond for as long as every slot stays busy.
    const due = this.urgent || this.queued >= this.opts.maxRows;
    if (due && this.running >= this.opts.maxConcurrent) return;
    const wait = Math.max(0, this.pending[this.head]!.at + this.opts.maxDelayMs - performance.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.urgent = true;
      this.pump();
    }, wait);
  }

  private pump(): void {
    while (
      this.queued &&
      this.running < this.opts.maxConcurrent &&
      (this.urgent || this.queued >= this.opts.maxRows)
    ) {
      const batch = this.take(this.opts.maxRows);
      if (this.queued === 0) this.urgent = false;
      void this.run(batch);
    }
    if (this.timer && this.queued === 0) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.arm();
  }

  /** The oldest `n` waiting events. */
  private take(n: number): Entry<Row>[] {
    const end = Math.min(this.pending.length, this.head + n);
    const batch = this.pending.slice(this.head, end);
    this.head = end;
    if (this.head === this.pending.length) {
      this.pending = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.pending.length) {
      this.pending = this.pending.slice(this.head);
      this.head = 0;
    }
    return batch;
  }

  private async run(batch: Entry<Row>[]): Promise<void> {
    this.running++;
    let results: RowResult[];
    try {
      results = await this.write(
        batch.map((e) => e.row),
        batch,
      );
    } catch (err) {
      // A write that throws (instead of reporting per row) failed as a whole: retry all of it.
      const e = new TransientSinkError(errorMessage(err), { cause: err });
      results = batch.map(() => e);
    }
    this.running--;
    this.settling++;
    // The next write starts before this one's rows are settled; a large batch settles in slices,
    // with pending I/O (other sinks' responses, new messages) let in between rather than held up
    // for its whole length.
    this.pump();
    for (let i = 0; i < batch.length; i++) {
      const e = batch[i]!;
      e.waiter.rowDone(e.index, results[i]);
      if (i % SETTLE_SLICE === SETTLE_SLICE - 1 && i < batch.length - 1) await yieldToIo();
    }
    this.settling--;
    this.pump();
    if (this.queued === 0 && this.running === 0 && this.settling === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }
}

/** Writes events through a sink's prepare + writeRows: one result per event, rejections in place. */
export async function writeEvents<Row>(
  sink: { prepare(event: SinkEvent): Row; writeRows(rows: readonly Row[]): Promise<RowResult[]> },
  events: readonly SinkEvent[],
): Promise<RowResult[]> {
  const out = new Array<RowResult>(events.length).fill(undefined);
  const rows: Row[] = [];
  const idx: number[] = [];
  for (let i = 0; i < events.length; i++) {
    try {
      rows.push(sink.prepare(events[i]!));
      idx.push(i);
    } catch (err) {
      if (!(err instanceof RowRejectedError)) throw err;
      out[i] = err;
    }
  }
  if (rows.length) {
    const written = await sink.writeRows(rows);
    for (let j = 0; j < idx.length; j++) out[idx[j]!] = written[j];
  }
  return out;
}
