// SLIDING windows: a row per event, aggregating its key's events in (t − SIZE, t] — events at the
// same time t included, whichever arrived first. A row is emitted once the watermark has passed t
// (watermark > t), when no event that belongs in it can still arrive; so an event is late when
// t < watermark. Each key keeps its events in (time, seq, source) order until they can no longer
// be in any pending row (time ≤ watermark − SIZE). Rows may read the event they are for.
import type { RowContext } from '../compile-expr.js';
import { compareOrder } from '../aggregates.js';
import { formatTime } from '../event-time.js';
import { eventResultId } from '../ids.js';
import { buildRow, type Plan } from '../plan.js';
import type { QueryInput, QueryResult } from '../types.js';
import { isRecord, type Value } from '../values.js';
import { MinHeap } from './heap.js';
import {
  ADDED,
  LATE,
  STATE_LIMIT,
  addArgs,
  createAccs,
  resetAccs,
  evalArgs,
  KeyIndex,
  keyOfProbe,
  newProbe,
  probeKey,
  type AddStatus,
  type Keyed,
  type WindowOperator,
} from './operator.js';
import { field, readArray, readNumber, readRecord, readString } from './read.js';

interface Entry {
  t: number;
  seq: number;
  src: string;
  args: Value[];
  /** The event, while its row is still to be emitted. */
  ev: Record<string, unknown> | null;
  id: string;
  owner: KeyEvents;
}

interface KeyEvents extends Keyed {
  /** Events from `head` on, by (time, seq, source). */
  entries: Entry[];
  head: number;
}

const before = (a: Entry, b: Entry): boolean => compareOrder(a.t, a.seq, a.src, b.t, b.seq, b.src) < 0;

export class SlidingWindows implements WindowOperator {
  private readonly size: number;
  private readonly keys = new KeyIndex<KeyEvents>();
  private readonly pending = new MinHeap<Entry>(before);
  /** Entries whose row was emitted, in that order (= time order), to evict once out of range. */
  private done: Entry[] = [];
  private doneHead = 0;
  private readonly probe;
  /** Accumulators of the row being emitted, emptied for each row. */
  private readonly scratch: unknown[];

  constructor(
    private readonly plan: Plan,
    private readonly ctx: RowContext,
  ) {
    this.size = plan.window!.size;
    this.probe = newProbe(plan);
    this.scratch = createAccs(plan);
  }

  get stateKeys(): number {
    return this.keys.size;
  }

  get nextDue(): number {
    const top = this.pending.peek();
    return top === undefined ? Infinity : top.t + 1;
  }

  add(ctx: RowContext, t: number, input: QueryInput, w: number): AddStatus {
    if (t < w) return LATE;
    probeKey(this.plan, ctx, this.probe);
    let kb = this.keys.get(this.probe);
    if (kb === undefined) {
      if (this.keys.size >= this.plan.maxStateKeys) return STATE_LIMIT;
      const key = keyOfProbe(this.plan, this.probe);
      kb = { keyText: key.keyText, keyValues: key.keyValues, entries: [], head: 0 };
      this.keys.set(kb);
    }
    const args = new Array<Value>(this.plan.aggs.length);
    evalArgs(this.plan, ctx, args);
    const id = typeof ctx.ev.id === 'string' ? ctx.ev.id : '';
    const e: Entry = { t, seq: input.seq, src: input.source, args, ev: ctx.ev, id, owner: kb };
    this.insert(kb, e);
    this.pending.push(e);
    return ADDED;
  }

  private insert(kb: KeyEvents, e: Entry): void {
    const list = kb.entries;
    let i = list.length;
    while (i > kb.head && before(e, list[i - 1]!)) i--;
    if (i === list.length) list.push(e);
    else list.splice(i, 0, e);
  }

  advance(w: number, out: QueryResult[]): void {
    for (let e = this.pending.peek(); e !== undefined && e.t < w; e = this.pending.peek()) {
      this.pending.pop();
      this.emitRow(e, out);
      e.ev = null;
      this.done.push(e);
    }
    this.evict(w);
  }

  private emitRow(e: Entry, out: QueryResult[]): void {
    const plan = this.plan;
    const ctx = this.ctx;
    const list = e.owner.entries;
    const from = e.t - this.size;
    const accs = this.scratch;
    resetAccs(plan, accs);
    for (let k = e.owner.head; k < list.length; k++) {
      const x = list[k]!;
      if (x.t > e.t) break;
      if (x.t > from) addArgs(plan, accs, x.args, x.t, x.seq, x.src);
    }
    for (let i = 0; i < plan.aggs.length; i++) ctx.aggs[i] = plan.aggs[i]!.result(accs[i]);
    ctx.ev = e.ev!;
    ctx.keys = e.owner.keyValues;
    ctx.ws = plan.readsWindowStart ? formatTime(from) : null;
    ctx.we = formatTime(e.t);
    const data = buildRow(plan, ctx);
    if (!data) return;
    out.push({
      query: plan.name,
      id: eventResultId(plan.idPrefix, e.id),
      time: ctx.we,
      data,
      key: e.owner.keyText,
    });
  }

  /** Drops emitted events that no pending row can include: time ≤ watermark − SIZE. */
  private evict(w: number): void {
    const limit = w - this.size;
    while (this.doneHead < this.done.length && this.done[this.doneHead]!.t <= limit) {
      const kb = this.done[this.doneHead++]!.owner;
      while (kb.head < kb.entries.length) {
        const first = kb.entries[kb.head]!;
        if (first.ev !== null || first.t > limit) break;
        kb.head++;
      }
      if (kb.head === kb.entries.length) this.keys.delete(kb);
      else if (kb.head > 32 && kb.head * 2 > kb.entries.length) {
        kb.entries = kb.entries.slice(kb.head);
        kb.head = 0;
      }
    }
    if (this.doneHead > 1024 && this.doneHead * 2 > this.done.length) {
      this.done = this.done.slice(this.doneHead);
      this.doneHead = 0;
    }
  }

  flush(): void {}

  save(): unknown {
    const keys = [...this.keys.values()]
      .sort((a, b) => (a.keyText < b.keyText ? -1 : a.keyText > b.keyText ? 1 : 0))
      .map((kb) => ({
        key: kb.keyText,
        values: kb.keyValues,
        events: kb.entries.slice(kb.head).map((e) => ({
          t: e.t,
          seq: e.seq,
          src: e.src,
          id: e.id,
          args: e.args.map((a) => a ?? null),
          event: e.ev,
        })),
      }));
    return { keys };
  }

  load(saved: unknown): void {
    const done: Entry[] = [];
    for (const item of readArray(field(readRecord(saved, 'state'), 'keys'), 'state.keys')) {
      const o = readRecord(item, 'key');
      const keyValues = readArray(field(o, 'values'), 'key.values') as Value[];
      if (keyValues.length !== this.plan.keyFns.length) throw new Error('key.values do not match GROUP BY');
      const kb: KeyEvents = {
        keyText: readString(field(o, 'key'), 'key.key'),
        keyValues,
        entries: [],
        head: 0,
      };
      for (const raw of readArray(field(o, 'events'), 'key.events')) {
        const r = readRecord(raw, 'event entry');
        const args = readArray(field(r, 'args'), 'entry.args') as Value[];
        if (args.length !== this.plan.aggs.length) throw new Error('entry.args do not match the aggregates');
        const ev = field(r, 'event');
        const e: Entry = {
          t: readNumber(field(r, 't'), 'entry.t'),
          seq: readNumber(field(r, 'seq'), 'entry.seq'),
          src: readString(field(r, 'src'), 'entry.src'),
          id: readString(field(r, 'id'), 'entry.id'),
          args,
          ev: isRecord(ev) ? ev : null,
          owner: kb,
        };
        this.insert(kb, e);
        if (e.ev) this.pending.push(e);
        else done.push(e);
      }
      this.keys.set(kb);
    }
    this.done = done.sort((a, b) => (before(a, b) ? -1 : before(b, a) ? 1 : 0));
  }
}
