// Interval join of two streams: `FROM orders o [LEFT] JOIN payments p WITHIN d ON o.k = p.k`.
// A pair joins when its keys are equal, the rest of ON holds and its times are at most d apart
// (inclusive). Each event waits in its key's state until no partner can arrive any more: one at
// time t leaves when the watermark passes t + d (a partner would be at most t + d, and anything
// below the watermark is late). A pair is emitted when its second event arrives, so it does not
// matter which side comes first; a LEFT join emits a left event that never joined, with NULLs on
// the right, when it leaves. Ids: [namespace, pipeline, query, "join", left event id, right event
// id, or 0 when there is none].
import type { BoundEvent, RowContext } from '../compile-expr.js';
import { formatTime } from '../event-time.js';
import { queryResultId } from '../ids.js';
import { boundOf, joinKeyValues, type JoinPlan } from '../join-plan.js';
import { buildRow, keyTextOf, type Plan } from '../plan.js';
import type { QueryInput, QueryResult } from '../types.js';
import type { Value } from '../values.js';
import { MinHeap } from './heap.js';
import { ADDED, LATE, STATE_LIMIT, type AddStatus, type WindowOperator } from './operator.js';
import { field, readArray, readNumber, readRecord, readString } from './read.js';

interface Entry extends BoundEvent {
  matched: boolean;
}

interface JoinKey {
  text: string;
  values: Value[];
  left: Entry[];
  right: Entry[];
}

interface Expiry {
  time: number;
  key: JoinKey;
  entry: Entry;
  side: 0 | 1;
}

const idOf = (b: BoundEvent | undefined): string | null =>
  b === undefined ? null : typeof b.ev.id === 'string' ? b.ev.id : '';

export class IntervalJoin implements WindowOperator {
  private readonly j: JoinPlan;
  private readonly keys = new Map<string, JoinKey>();
  private readonly expiries = new MinHeap<Expiry>((a, b) => a.time < b.time);
  private entries = 0;

  constructor(
    private readonly plan: Plan,
    private readonly ctx: RowContext,
  ) {
    this.j = plan.join!;
  }

  get stateKeys(): number {
    return this.entries;
  }

  get nextDue(): number {
    const e = this.expiries.peek();
    return e ? e.time + 1 : Infinity;
  }

  add(ctx: RowContext, t: number, input: QueryInput, w: number, out: QueryResult[]): AddStatus {
    if (t < w) return LATE;
    const side = input.source === this.j.leftSource ? 0 : 1;
    const entry: Entry = { ...boundOf(input, t), matched: false };
    const values = joinKeyValues(side === 0 ? this.j.leftKeys : this.j.rightKeys, side, entry, ctx);
    if (values === undefined) {
      // A NULL key joins nothing; a LEFT join still gives its row.
      if (side === 0 && this.j.left) this.emit(entry, undefined, '', out);
      return ADDED;
    }
    if (this.entries >= this.plan.maxStateKeys) return STATE_LIMIT;
    const text = keyTextOf(values);
    let key = this.keys.get(text);
    if (!key) {
      key = { text, values, left: [], right: [] };
      this.keys.set(text, key);
    }
    const within = this.j.within;
    for (const other of side === 0 ? key.right : key.left) {
      if (Math.abs(other.t - t) > within) continue;
      const [l, r] = side === 0 ? [entry, other] : [other, entry];
      if (!this.on(l, r)) continue;
      l.matched = true;
      this.emit(l, r, text, out);
    }
    this.store(key, entry, side);
    return ADDED;
  }

  private store(key: JoinKey, entry: Entry, side: 0 | 1): void {
    (side === 0 ? key.left : key.right).push(entry);
    this.entries++;
    this.expiries.push({ time: entry.t + this.j.within, key, entry, side });
  }

  private on(l: Entry, r: Entry): boolean {
    if (!this.j.residual) return true;
    this.ctx.bound = [[l], [r]];
    return this.j.residual(this.ctx) === true;
  }

  private emit(l: BoundEvent, r: BoundEvent | undefined, key: string, out: QueryResult[]): void {
    const ctx = this.ctx;
    ctx.bound = r ? [[l], [r]] : [[l], undefined];
    if (this.j.where && this.j.where(ctx) !== true) return;
    const data = buildRow(this.plan, ctx);
    ctx.bound = [];
    if (!data) return;
    out.push({
      query: this.plan.name,
      id: queryResultId(this.plan.idPrefix, ['join', idOf(l) ?? '', idOf(r) ?? 0]),
      time: formatTime(r && r.t > l.t ? r.t : l.t),
      data,
      key,
    });
  }

  advance(w: number, out: QueryResult[]): void {
    for (let x = this.expiries.peek(); x !== undefined && x.time < w; x = this.expiries.peek()) {
      this.expiries.pop();
      const list = x.side === 0 ? x.key.left : x.key.right;
      const i = list.indexOf(x.entry);
      if (i >= 0) list.splice(i, 1);
      this.entries--;
      if (x.side === 0 && this.j.left && !x.entry.matched) this.emit(x.entry, undefined, x.key.text, out);
      if (x.key.left.length === 0 && x.key.right.length === 0) this.keys.delete(x.key.text);
    }
  }

  flush(): void {}

  save(): unknown {
    const entry = (e: Entry) => ({ t: e.t, seq: e.seq, src: e.src, event: e.ev, matched: e.matched });
    const keys = [...this.keys.values()].sort((a, b) => (a.text < b.text ? -1 : a.text > b.text ? 1 : 0));
    return {
      keys: keys.map((k) => ({
        key: k.text,
        values: k.values,
        left: k.left.map(entry),
        right: k.right.map(entry),
      })),
    };
  }

  load(saved: unknown): void {
    const o = readRecord(saved, 'join state');
    const entry = (x: unknown): Entry => {
      const e = readRecord(x, 'entry');
      return {
        t: readNumber(field(e, 't'), 't'),
        seq: readNumber(field(e, 'seq'), 'seq'),
        src: readString(field(e, 'src'), 'src'),
        ev: readRecord(field(e, 'event'), 'event'),
        matched: field(e, 'matched') === true,
      };
    };
    for (const x of readArray(field(o, 'keys'), 'keys')) {
      const k = readRecord(x, 'key');
      const values = readArray(field(k, 'values'), 'values');
      readString(field(k, 'key'), 'key');
      const key: JoinKey = { text: keyTextOf(values), values, left: [], right: [] };
      this.keys.set(key.text, key);
      for (const e of readArray(field(k, 'left'), 'left')) this.store(key, entry(e), 0);
      for (const e of readArray(field(k, 'right'), 'right')) this.store(key, entry(e), 1);
    }
  }
}
