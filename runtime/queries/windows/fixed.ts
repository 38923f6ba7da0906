// TUMBLING and HOPPING windows: [start, start + SIZE) with starts at multiples of ADVANCE BY (=
// SIZE for tumbling) since the Unix epoch. An event at time t belongs to every window whose start
// is in (t − SIZE, t]. State is a bucket per open window start holding a group per key; a bucket
// closes, emitting its rows (EMIT FINAL) or its last unsent changes (EMIT CHANGES), when the
// watermark reaches its end. An event is late when the earliest window it belongs to has closed;
// a late event changes nothing (none of its windows counts it).
import type { RowContext } from '../compile-expr.js';
import type { Plan } from '../plan.js';
import type { QueryInput, QueryResult } from '../types.js';
import { windowIdHead } from '../ids.js';
import type { Value } from '../values.js';
import {
  ADDED,
  LATE,
  STATE_LIMIT,
  addArgs,
  boundsOf,
  createAccs,
  emitGroup,
  evalArgs,
  idTailOf,
  KeyIndex,
  keyOfProbe,
  loadAccs,
  newProbe,
  probeKey,
  resetAccs,
  saveAccs,
  type AddStatus,
  type Bounds,
  type Keyed,
  type WindowOperator,
} from './operator.js';
import { field, readArray, readNumber, readRecord, readString } from './read.js';

interface Bucket {
  start: number;
  end: number;
  groups: KeyIndex<Group>;
  bounds: Bounds | undefined;
  /** The text of its ids up to the key: the query's prefix and "window", start, end (ids.ts). */
  idHead: string | undefined;
}

interface Group extends Keyed {
  accs: unknown[];
  dirty: boolean;
  bucket: Bucket;
}

/** What a closed group holds instead of its accumulators, so they can be collected. */
const NO_ACCS: unknown[] = [];

/** Closed groups kept for reuse, at most (what a window with many keys leaves is collected). */
const MAX_SPARE = 1 << 16;

/** What a spare group refers to instead of its last window and key, so they can be collected. */
const RETIRED: Bucket = {
  start: NaN,
  end: NaN,
  groups: new KeyIndex<Group>(),
  bounds: undefined,
  idHead: undefined,
};
const NO_VALUES: Value[] = [];

export class FixedWindows implements WindowOperator {
  private readonly size: number;
  private readonly advanceBy: number;
  private readonly changes: boolean;
  private readonly buckets = new Map<number, Bucket>();
  /** Open buckets by start (and so by end). */
  private readonly order: Bucket[] = [];
  private last: Bucket | undefined;
  private groups = 0;
  private readonly dirty: Group[] = [];
  /** Groups of the last closed window, kept for their keys only (see knownKey). */
  private recent: KeyIndex<Group> | undefined;
  /**
   * EMIT FINAL: groups of the window closed before the last, their accumulators emptied, for the
   * groups of windows to come. A group lives a window's length, long enough to be copied by the
   * young-generation collector and promoted; reusing it spares that and the old-space garbage.
   */
  private readonly spare: Group[] = [];
  private readonly probe;
  private readonly args: Value[];
  nextDue = Infinity;

  constructor(
    private readonly plan: Plan,
    private readonly ctx: RowContext,
  ) {
    this.size = plan.window!.size;
    this.advanceBy = plan.window!.advance;
    this.changes = plan.emit === 'changes';
    this.probe = newProbe(plan);
    this.args = new Array<Value>(plan.aggs.length);
  }

  get stateKeys(): number {
    return this.groups;
  }

  add(ctx: RowContext, t: number, input: QueryInput, w: number): AddStatus {
    const adv = this.advanceBy;
    const kLast = Math.floor(t / adv);
    const kFirst = Math.floor((t - this.size) / adv) + 1;
    if (kFirst * adv + this.size <= w) return LATE;
    const probe = this.probe;
    probeKey(this.plan, ctx, probe);
    if (this.groups + (kLast - kFirst + 1) > this.plan.maxStateKeys && !this.fits(kFirst, kLast))
      return STATE_LIMIT;
    evalArgs(this.plan, ctx, this.args);
    let key: Keyed | undefined;
    for (let k = kFirst; k <= kLast; k++) {
      const bucket = this.bucketAt(k * adv);
      let g = bucket.groups.get(probe);
      if (g === undefined) {
        key ??= this.knownKey(bucket) ?? keyOfProbe(this.plan, probe);
        g = this.spare.pop();
        if (g === undefined) {
          g = {
            keyText: key.keyText,
            keyValues: key.keyValues,
            idTail: key.idTail,
            accs: createAccs(this.plan),
            dirty: false,
            bucket,
          };
        } else {
          g.keyText = key.keyText;
          g.keyValues = key.keyValues;
          g.idTail = key.idTail;
          g.bucket = bucket;
        }
        bucket.groups.setAt(probe, g);
        this.groups++;
      }
      addArgs(this.plan, g.accs, this.args, t, input.seq, input.source);
      if (this.changes && !g.dirty) {
        g.dirty = true;
        this.dirty.push(g);
      }
    }
    return ADDED;
  }

  /**
   * The probe's key as another open window or the last closed one holds it: keys recur from
   * window to window, and sharing their text and values saves building them again.
   */
  private knownKey(except: Bucket): Keyed | undefined {
    for (let i = this.order.length - 1; i >= 0; i--) {
      const b = this.order[i]!;
      if (b === except) continue;
      const g = b.groups.get(this.probe);
      if (g !== undefined) return g;
    }
    return this.recent?.get(this.probe);
  }

  /** Whether the new groups this event needs stay within maxStateKeys. */
  private fits(kFirst: number, kLast: number): boolean {
    let missing = 0;
    for (let k = kFirst; k <= kLast; k++) {
      const bucket = this.buckets.get(k * this.advanceBy);
      if (!bucket?.groups.get(this.probe)) missing++;
    }
    return this.groups + missing <= this.plan.maxStateKeys;
  }

  private bucketAt(start: number): Bucket {
    if (this.last?.start === start) return this.last;
    let b = this.buckets.get(start);
    if (!b) {
      b = {
        start,
        end: start + this.size,
        groups: new KeyIndex<Group>(),
        bounds: undefined,
        idHead: undefined,
      };
      this.buckets.set(start, b);
      let i = this.order.length;
      while (i > 0 && this.order[i - 1]!.start > start) i--;
      this.order.splice(i, 0, b);
      this.nextDue = this.order[0]!.end;
    }
    this.last = b;
    return b;
  }

  private boundsOf(b: Bucket): Bounds {
    return (b.bounds ??= boundsOf(b.start, b.end, b.end));
  }

  private emit(g: Group, out: QueryResult[]): void {
    const b = g.bucket;
    b.idHead ??= windowIdHead(this.plan.idPrefix, b.start, b.end);
    emitGroup(this.plan, this.ctx, g, g.accs, this.boundsOf(b), b.idHead + idTailOf(g), out);
  }

  advance(w: number, out: QueryResult[]): void {
    while (this.order.length > 0 && this.order[0]!.end <= w) {
      const b = this.order.shift()!;
      this.buckets.delete(b.start);
      if (this.last === b) this.last = undefined;
      b.groups.forEach((g) => {
        if (!this.changes) {
          this.emit(g, out);
          resetAccs(this.plan, g.accs);
        } else {
          if (g.dirty) {
            g.dirty = false;
            this.emit(g, out);
          }
          g.accs = NO_ACCS;
        }
      });
      this.groups -= b.groups.size;
      // With EMIT CHANGES a closed group can still be listed in `dirty` until the next flush, so
      // only EMIT FINAL reuses them.
      if (!this.changes) this.recent?.forEach((g) => this.retire(g));
      this.recent = b.groups;
    }
    this.nextDue = this.order[0]?.end ?? Infinity;
  }

  private retire(g: Group): void {
    if (this.spare.length >= MAX_SPARE) return;
    g.keyText = '';
    g.keyValues = NO_VALUES;
    g.idTail = undefined;
    g.bucket = RETIRED;
    this.spare.push(g);
  }

  flush(out: QueryResult[]): void {
    if (this.dirty.length === 0) return;
    for (const g of this.dirty) {
      if (!g.dirty) continue;
      g.dirty = false;
      this.emit(g, out);
    }
    this.dirty.length = 0;
  }

  save(): unknown {
    const groups: unknown[] = [];
    for (const b of this.order) {
      const sorted = [...b.groups.values()].sort((x, y) =>
        x.keyText < y.keyText ? -1 : x.keyText > y.keyText ? 1 : 0,
      );
      for (const g of sorted) {
        groups.push({
          start: b.start,
          key: g.keyText,
          values: g.keyValues,
          accs: saveAccs(this.plan, g.accs),
          dirty: g.dirty,
        });
      }
    }
    return { groups };
  }

  load(saved: unknown): void {
    const groups = readArray(field(readRecord(saved, 'state'), 'groups'), 'state.groups');
    for (const item of groups) {
      const o = readRecord(item, 'group');
      const bucket = this.bucketAt(readNumber(field(o, 'start'), 'group.start'));
      const keyValues = readArray(field(o, 'values'), 'group.values') as Value[];
      if (keyValues.length !== this.plan.keyFns.length) throw new Error('group.values do not match GROUP BY');
      const g: Group = {
        keyText: readString(field(o, 'key'), 'group.key'),
        keyValues,
        idTail: undefined,
        accs: loadAccs(this.plan, field(o, 'accs')),
        dirty: field(o, 'dirty') === true,
        bucket,
      };
      bucket.groups.set(g);
      this.groups++;
      if (g.dirty) this.dirty.push(g);
    }
  }
}
