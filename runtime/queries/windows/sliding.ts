// SLIDING windows: a row per event, aggregating its key's events in (t − SIZE, t] — events at the
// same time t included, whichever arrived first. A row is emitted once the watermark has passed t
// (watermark > t), when no event that belongs in it can still arrive; so an event is late when
// t < watermark. Each key keeps its events in (time, seq, source) order until they can no longer
// be in any pending row (time ≤ watermark − SIZE). Rows may read the event they are for.
//
// Layout: a key's events are three arrays, not an object per event, so that events kept for SIZE
// of event time are a few array slots rather than objects that survive young collections: their
// times and sequences interleaved (unboxed doubles); their sources, ids and events interleaved;
// and the aggregates' arguments flattened, `nArgs` per event (an array of its own, which V8 keeps
// unboxed when they are all numbers, so that they do not keep the events' number objects alive).
// Few arrays rather than one per field because a key is reached from cold memory a SIZE apart
// (its event added and its row emitted, then the event evicted); for the same reason a key's
// evicted front is dropped once it is half of its entries, which keeps the arrays short, and when
// the key gets its next event (eviction itself reads only the times).
// An event never goes before one whose row was emitted (that one is older than the watermark, the
// new one is not late), so a key's rows are emitted from its oldest pending event on (`next`):
// rows due are counted per key from a queue of pending times — a FIFO while events arrive in time
// order, a heap for those that do not — and each count emits the key's next row.
// Emitted events stay (their event and id released) until the watermark is SIZE past them.
// Pending and emitted rows are queued in ring buffers, which a steady flow reuses.
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
import { TimeQueue } from './time-queue.js';

interface KeyEvents extends Keyed {
  /** Events from `head` on, by (time, seq, source): entry i's time at 2i, its seq at 2i + 1. */
  nums: number[];
  /**
   * Entry i from 3i: its source, its id while its row is still to be emitted (then ''), and the
   * event while its row is still to be emitted (then null).
   */
  refs: unknown[];
  /** Entry i's arguments from i·nArgs. */
  args: Value[];
  /**
   * Entries in use: the arrays are reused when the key empties and may hold stale entries from
   * `n` on (growing and shrinking their storage would cost more than the slots).
   */
  n: number;
  head: number;
  /** First entry whose row is still to be emitted. */
  next: number;
}

/** Slots of an entry in `refs`. */
const SRC = 0;
const ID = 1;
const EV = 2;
const REFS = 3;

/** A pending row that arrived out of time order: its time and key. */
interface Pending {
  t: number;
  kb: KeyEvents;
}

export class SlidingWindows implements WindowOperator {
  private readonly size: number;
  private readonly nArgs: number;
  private readonly keys = new KeyIndex<KeyEvents>();
  /** Keys holding events (the state entries). */
  private live = 0;
  /** Pending rows in time order: their times and keys. */
  private readonly pending = new TimeQueue<KeyEvents>();
  /** Pending rows of events that arrived before the FIFO's last time. */
  private readonly unordered = new MinHeap<Pending>((a, b) => a.t < b.t);
  /** Emitted rows in emission order (= time order): their times and keys, to evict from. */
  private readonly done = new TimeQueue<KeyEvents>();
  /**
   * Keys left without events, forgotten a SIZE of event time later if still empty: keys recur,
   * and keeping them saves building them again.
   */
  private idle: KeyEvents[] = [];
  private idleBefore: KeyEvents[] = [];
  private idleUntil = -Infinity;
  private readonly probe;
  /** Accumulators of the row being emitted, emptied for each row. */
  private readonly scratch: unknown[];
  private readonly argScratch: Value[];

  constructor(
    private readonly plan: Plan,
    private readonly ctx: RowContext,
  ) {
    this.size = plan.window!.size;
    this.nArgs = plan.aggs.length;
    this.probe = newProbe(plan);
    this.scratch = createAccs(plan);
    this.argScratch = new Array<Value>(this.nArgs);
  }

  get stateKeys(): number {
    return this.live;
  }

  get nextDue(): number {
    let t = this.pending.firstTime;
    const top = this.unordered.peek();
    if (top !== undefined && top.t < t) t = top.t;
    return t + 1;
  }

  add(ctx: RowContext, t: number, input: QueryInput, w: number): AddStatus {
    if (t < w) return LATE;
    probeKey(this.plan, ctx, this.probe);
    let kb = this.keys.get(this.probe);
    if (kb === undefined || kb.head === kb.n) {
      if (this.live >= this.plan.maxStateKeys) return STATE_LIMIT;
      if (kb === undefined) {
        const key = keyOfProbe(this.plan, this.probe);
        kb = newKey(key.keyText, key.keyValues);
        this.keys.set(kb);
      }
      this.live++;
    }
    const args = this.argScratch;
    evalArgs(this.plan, ctx, args);
    const id = typeof ctx.ev.id === 'string' ? ctx.ev.id : '';
    this.insert(kb, t, input.seq, input.source, id, ctx.ev, args);
    if (this.pending.lastTime <= t) this.pending.push(t, kb);
    else this.unordered.push({ t, kb });
    return ADDED;
  }

  /** Adds an event to the key's arrays in (time, seq, source) order (at the end when in order). */
  private insert(
    kb: KeyEvents,
    t: number,
    seq: number,
    src: string,
    id: string,
    ev: Record<string, unknown> | null,
    args: readonly Value[],
  ): void {
    // Here rather than at eviction, which would otherwise reach the key's other arrays too.
    if (kb.head > 0 && kb.head * 2 >= kb.n) this.compact(kb);
    const n = kb.n++;
    const nums = kb.nums;
    const refs = kb.refs;
    const nA = this.nArgs;
    let i = n;
    while (
      i > kb.next &&
      compareOrder(t, seq, src, nums[2 * i - 2]!, nums[2 * i - 1]!, refs[(i - 1) * REFS + SRC] as string) < 0
    )
      i--;
    if (i === n) {
      nums[2 * n] = t;
      nums[2 * n + 1] = seq;
      const base = n * REFS;
      refs[base + SRC] = src;
      refs[base + ID] = id;
      refs[base + EV] = ev;
      const at = n * nA;
      for (let j = 0; j < nA; j++) kb.args[at + j] = args[j];
      return;
    }
    nums.splice(2 * i, 0, t, seq);
    refs.splice(i * REFS, 0, src, id, ev);
    kb.args.splice(i * nA, 0, ...args.slice(0, nA));
  }

  advance(w: number, out: QueryResult[]): void {
    const pending = this.pending;
    while (pending.firstTime < w) {
      const kb = pending.first!;
      pending.shift();
      this.emitNext(kb, out);
    }
    for (let p = this.unordered.peek(); p !== undefined && p.t < w; p = this.unordered.peek()) {
      this.unordered.pop();
      this.emitNext(p.kb, out);
    }
    this.evict(w);
  }

  /** Emits the row of the key's next pending event. */
  private emitNext(kb: KeyEvents, out: QueryResult[]): void {
    const i = kb.next++;
    const t = kb.nums[2 * i]!;
    this.emitRow(kb, i, t, out);
    // Neither is read again: released now, they die young instead of living a SIZE longer.
    const base = i * REFS;
    kb.refs[base + EV] = null;
    kb.refs[base + ID] = '';
    this.done.push(t, kb);
  }

  private emitRow(kb: KeyEvents, i: number, t: number, out: QueryResult[]): void {
    const plan = this.plan;
    const ctx = this.ctx;
    const aggs = plan.aggs;
    const nA = this.nArgs;
    const from = t - this.size;
    const accs = this.scratch;
    resetAccs(plan, accs);
    const nums = kb.nums;
    const refs = kb.refs;
    const args = kb.args;
    for (let k = kb.head, n = kb.n; k < n; k++) {
      const x = nums[2 * k]!;
      if (x > t) break;
      if (x <= from) continue;
      const seq = nums[2 * k + 1]!;
      const src = refs[k * REFS + SRC] as string;
      const at = k * nA;
      for (let j = 0; j < nA; j++) accs[j] = aggs[j]!.add(accs[j], args[at + j], x, seq, src);
    }
    for (let j = 0; j < aggs.length; j++) ctx.aggs[j] = aggs[j]!.result(accs[j]);
    const base = i * REFS;
    ctx.ev = refs[base + EV] as Record<string, unknown>;
    ctx.keys = kb.keyValues;
    ctx.ws = plan.readsWindowStart ? formatTime(from) : null;
    ctx.we = formatTime(t);
    const data = buildRow(plan, ctx);
    if (!data) return;
    out.push({
      query: plan.name,
      id: eventResultId(plan.idPrefix, refs[base + ID] as string),
      time: ctx.we,
      data,
      key: kb.keyText,
    });
  }

  /** Drops emitted events that no pending row can include: time ≤ watermark − SIZE. */
  private evict(w: number): void {
    const limit = w - this.size;
    const done = this.done;
    while (done.size > 0 && done.firstTime <= limit) {
      const kb = done.first!;
      done.shift();
      let head = kb.head;
      const nums = kb.nums;
      while (head < kb.next && nums[2 * head]! <= limit) head++;
      if (head === kb.head) continue;
      kb.head = head;
      if (head === kb.n) {
        // Emptied: its slots are reused (events released at emission, ids and arguments kept
        // until overwritten or the key is forgotten).
        kb.n = 0;
        kb.head = 0;
        kb.next = 0;
        this.live--;
        this.idle.push(kb);
      }
    }
    if (limit >= this.idleUntil) this.forgetIdle(limit);
  }

  /** Forgets the keys idle since before the previous turn if still empty; starts a new turn. */
  private forgetIdle(limit: number): void {
    const old = this.idleBefore;
    for (const kb of old) if (kb.n === 0) this.keys.delete(kb);
    old.length = 0;
    this.idleBefore = this.idle;
    this.idle = old;
    this.idleUntil = limit + this.size;
  }

  /**
   * Drops the key's evicted front from its arrays, moving the rest down in place (no allocation;
   * called when the front is at least half of the entries, so entries moved never outnumber those
   * dropped).
   */
  private compact(kb: KeyEvents): void {
    const h = kb.head;
    const n = kb.n;
    const nums = kb.nums;
    const refs = kb.refs;
    const args = kb.args;
    const nA = this.nArgs;
    for (let k = 2 * h; k < 2 * n; k++) nums[k - 2 * h] = nums[k]!;
    for (let k = h * REFS; k < n * REFS; k++) refs[k - h * REFS] = refs[k];
    for (let k = h * nA; k < n * nA; k++) args[k - h * nA] = args[k];
    // The slots left behind hold no event: a pending one's event would otherwise be kept after
    // its row released it.
    for (let k = n - h; k < n; k++) {
      refs[k * REFS + ID] = '';
      refs[k * REFS + EV] = null;
    }
    kb.n = n - h;
    kb.next -= h;
    kb.head = 0;
    // Queued references to this key stay valid: they name the key, not a position.
  }

  flush(): void {}

  save(): unknown {
    const nA = this.nArgs;
    const keys = [...this.keys.values()]
      .filter((kb) => kb.head < kb.n)
      .sort((a, b) => (a.keyText < b.keyText ? -1 : a.keyText > b.keyText ? 1 : 0))
      .map((kb) => {
        const events = [];
        for (let i = kb.head; i < kb.n; i++) {
          const base = i * REFS;
          const args = kb.args.slice(i * nA, (i + 1) * nA).map((a) => a ?? null);
          events.push({
            t: kb.nums[2 * i]!,
            seq: kb.nums[2 * i + 1]!,
            src: kb.refs[base + SRC] as string,
            id: kb.refs[base + ID] as string,
            args,
            event: kb.refs[base + EV] as Record<string, unknown> | null,
          });
        }
        return { key: kb.keyText, values: kb.keyValues, events };
      });
    return { keys };
  }

  load(saved: unknown): void {
    const done: { t: number; seq: number; src: string; kb: KeyEvents }[] = [];
    for (const item of readArray(field(readRecord(saved, 'state'), 'keys'), 'state.keys')) {
      const o = readRecord(item, 'key');
      const keyValues = readArray(field(o, 'values'), 'key.values') as Value[];
      if (keyValues.length !== this.plan.keyFns.length) throw new Error('key.values do not match GROUP BY');
      const kb = newKey(readString(field(o, 'key'), 'key.key'), keyValues);
      const entries = readArray(field(o, 'events'), 'key.events').map((raw) => {
        const r = readRecord(raw, 'event entry');
        const args = readArray(field(r, 'args'), 'entry.args') as Value[];
        if (args.length !== this.nArgs) throw new Error('entry.args do not match the aggregates');
        const ev = field(r, 'event');
        return {
          t: readNumber(field(r, 't'), 'entry.t'),
          seq: readNumber(field(r, 'seq'), 'entry.seq'),
          src: readString(field(r, 'src'), 'entry.src'),
          id: readString(field(r, 'id'), 'entry.id'),
          args,
          ev: isRecord(ev) ? ev : null,
        };
      });
      entries.sort((a, b) => compareOrder(a.t, a.seq, a.src, b.t, b.seq, b.src));
      // Emitted events (no event kept) come before pending ones.
      for (const e of entries) {
        if (e.ev === null && kb.next < kb.n) throw new Error('an emitted event follows one still pending');
        this.insert(kb, e.t, e.seq, e.src, e.id, e.ev, e.args);
        if (e.ev === null) {
          kb.next = kb.n;
          done.push({ t: e.t, seq: e.seq, src: e.src, kb });
        } else this.unordered.push({ t: e.t, kb });
      }
      this.keys.set(kb);
      if (kb.n > 0) this.live++;
    }
    done.sort((a, b) => compareOrder(a.t, a.seq, a.src, b.t, b.seq, b.src));
    for (const d of done) this.done.push(d.t, d.kb);
  }
}

function newKey(keyText: string, keyValues: Value[]): KeyEvents {
  return {
    keyText,
    keyValues,
    nums: [],
    refs: [],
    args: [],
    n: 0,
    head: 0,
    next: 0,
  };
}
