// HOPPING windows with EMIT FINAL, as panes. Window k is [k·ADVANCE, k·ADVANCE + SIZE); its bounds
// are multiples of G = gcd(SIZE, ADVANCE), so time cuts into panes [p·G, (p + 1)·G) that each lie
// wholly inside the windows k with k·ADVANCE ≤ p·G < k·ADVANCE + SIZE. An event is added once, to
// one accumulator per (key, pane), instead of once per window it belongs to; a window's row is its
// panes merged when it closes. Every aggregate merges exactly (aggregates.ts: exact sums, and
// min/max/first/last by a total order), so the rows are those the per-window layout (fixed.ts)
// computes, bit for bit. When every aggregate can also take a merge back (counts and sums), a key
// keeps one running merge instead: a closing window merges in the panes it is the first window of
// and takes out those it is the last of, two merges per row whatever its number of panes. Keys
// live in one index across windows, not in one per window. Used when a window spans at most
// MAX_PANES panes; EMIT CHANGES, which re-emits every window an event changes, keeps the
// per-window layout.
//
// State per key: its slices in (first window, last window) order. A slice is a pane, or — after a
// restore — a whole window as the checkpoint held it (the checkpoint keeps the per-window layout
// of fixed.ts, so checkpoints of both layouts are one format: a pane cannot be recovered from a
// window's total, but a window's total merges with the panes added after the restore). Per open
// window, the keys holding data in it, in the order they first did: the window's groups, counted
// against maxStateKeys as in fixed.ts. Lateness is fixed.ts's: an event is late when the earliest
// window it belongs to has closed.
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
  copyAccsInto,
  createAccs,
  emitGroup,
  evalArgs,
  idTailOf,
  KeyIndex,
  keyOfProbe,
  loadAccs,
  mergeAccs,
  newProbe,
  probeKey,
  resetAccs,
  saveAccs,
  type AddStatus,
  type Keyed,
  type WindowOperator,
} from './operator.js';
import { field, readArray, readNumber, readRecord, readString } from './read.js';
import { covered, coversTo, insert, type KeyPanes, type Slice } from './pane-slices.js';

/** Above this many panes per window, merging at close costs more than adding to every window. */
export const MAX_PANES = 64;

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/**
 * Whether a query's windows run as panes: HOPPING, EMIT FINAL, at most MAX_PANES per window.
 * (TUMBLING windows are their own panes; fixed.ts measured faster for them.)
 */
export function usesPanes(plan: Plan): boolean {
  const w = plan.window;
  if (w?.kind !== 'hopping' || plan.emit !== 'final' || w.advance >= w.size) return false;
  return w.size / gcd(w.size, w.advance) <= MAX_PANES;
}

interface Win {
  k: number;
  start: number;
  end: number;
  keys: KeyPanes[];
}

export class PaneWindows implements WindowOperator {
  private readonly size: number;
  private readonly advanceBy: number;
  private readonly paneSize: number;
  private readonly keys = new KeyIndex<KeyPanes>();
  private readonly windows = new Map<number, Win>();
  /** Open windows by index (and so by end). */
  private readonly order: Win[] = [];
  private last: Win | undefined;
  /** Windows with data per key, summed: the groups of the per-window layout. */
  private groups = 0;
  /**
   * Keys left without slices when the last window closed, forgotten when the next one closes if
   * still empty: keys recur from window to window, and keeping them saves building them again.
   */
  private idle: KeyPanes[] = [];
  private idleBefore: KeyPanes[] = [];
  /**
   * Slices dropped when their last window closed, emptied, reused for the panes that follow
   * (a slice lives a window's length, long enough to be promoted, so reuse saves old-space GC).
   */
  private readonly spare: Slice[] = [];
  private readonly probe;
  private readonly args: Value[];
  /** A window's panes merged, for the row being emitted or saved. */
  private readonly scratch: unknown[];
  /** Whether keys keep a running merge (KeyPanes.run): every aggregate can unmerge. */
  private readonly runs: boolean;
  nextDue = Infinity;

  constructor(
    private readonly plan: Plan,
    private readonly ctx: RowContext,
  ) {
    this.size = plan.window!.size;
    this.advanceBy = plan.window!.advance;
    this.paneSize = gcd(this.size, this.advanceBy);
    this.probe = newProbe(plan);
    this.args = new Array<Value>(plan.aggs.length);
    this.scratch = createAccs(plan);
    this.runs = plan.aggs.every((a) => a.unmerge !== undefined);
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
    let kp = this.keys.get(probe);
    const fresh = kp === undefined ? kLast - kFirst + 1 : this.newWindows(kp, kFirst, kLast);
    if (this.groups + fresh > this.plan.maxStateKeys) return STATE_LIMIT;
    evalArgs(this.plan, ctx, this.args);
    if (kp === undefined) {
      kp = this.newKey(keyOfProbe(this.plan, probe));
      this.keys.set(kp);
    }
    if (fresh > 0) this.join(kp, kFirst, kLast, fresh);
    const slice = this.sliceOf(kp, Math.floor(t / this.paneSize), kFirst, kLast);
    addArgs(this.plan, slice.accs, this.args, t, input.seq, input.source);
    return ADDED;
  }

  private newKey(key: Keyed): KeyPanes {
    return {
      keyText: key.keyText,
      keyValues: key.keyValues,
      idTail: undefined,
      slices: [],
      top: undefined,
      maxWin: -Infinity,
      wholes: 0,
      // Made with the key, so that it lies next to the key's other state in memory.
      run: this.runs ? createAccs(this.plan) : undefined,
      merged: 0,
    };
  }

  /** How many of windows kFirst..kLast hold no data of this key yet. */
  private newWindows(kp: KeyPanes, kFirst: number, kLast: number): number {
    if (kFirst > kp.maxWin) return kLast - kFirst + 1;
    // In time order, the key's latest pane covers every window from kFirst to its last one.
    if (coversTo(kp, kFirst)) return Math.max(0, kLast - kp.maxWin);
    let n = 0;
    for (let j = kFirst; j <= kLast; j++) if (!covered(kp, j)) n++;
    return n;
  }

  /** Records the key in each of windows kFirst..kLast that had no data of it. */
  private join(kp: KeyPanes, kFirst: number, kLast: number, fresh: number): void {
    let from = kFirst;
    let all = fresh === kLast - kFirst + 1;
    if (!all && coversTo(kp, kFirst)) {
      from = kp.maxWin + 1;
      all = true;
    }
    for (let j = from; j <= kLast; j++) {
      if (!all && j <= kp.maxWin && covered(kp, j)) continue;
      this.windowAt(j).keys.push(kp);
      this.groups++;
    }
  }

  /** The key's slice for pane `p` (which counts in windows lo..hi), created in order if missing. */
  private sliceOf(kp: KeyPanes, p: number, lo: number, hi: number): Slice {
    const top = kp.top;
    if (top !== undefined && top.pane === p) return top;
    const slices = kp.slices;
    // Several panes can count in the same windows; a pane's slice is among those of its range.
    for (let i = slices.length - 1; i >= 0; i--) {
      const s = slices[i]!;
      if (s.pane === p) return s;
      if (s.lo < lo) break;
    }
    let s = this.spare.pop();
    if (s === undefined) s = { lo, hi, pane: p, accs: createAccs(this.plan) };
    else {
      s.lo = lo;
      s.hi = hi;
      s.pane = p;
    }
    insert(kp, s);
    return s;
  }

  private windowAt(k: number): Win {
    if (this.last?.k === k) return this.last;
    let win = this.windows.get(k);
    if (!win) {
      const start = k * this.advanceBy;
      win = { k, start, end: start + this.size, keys: [] };
      this.windows.set(k, win);
      let i = this.order.length;
      while (i > 0 && this.order[i - 1]!.k > k) i--;
      this.order.splice(i, 0, win);
      this.nextDue = this.order[0]!.end;
    }
    this.last = win;
    return win;
  }

  /**
   * The key's accumulators over window k: its one slice there, or its slices there merged into
   * the scratch accumulators (valid until the next call).
   */
  private accsIn(kp: KeyPanes, k: number): unknown[] {
    let one: Slice | undefined;
    let merged: unknown[] | undefined;
    const slices = kp.slices;
    for (let i = 0; i < slices.length; i++) {
      const s = slices[i]!;
      if (s.lo > k) break;
      if (s.hi < k) continue;
      if (one === undefined) one = s;
      else {
        if (merged === undefined) {
          merged = this.scratch;
          copyAccsInto(this.plan, merged, one.accs);
        }
        mergeAccs(this.plan, merged, s.accs);
      }
    }
    return merged ?? one!.accs;
  }

  /**
   * The key's accumulators over window k, the window closing: its running merge, with the slices
   * that start counting in k merged in (the key's slices that ended before k are unmerged).
   */
  private runIn(kp: KeyPanes, k: number): unknown[] {
    const run = kp.run!;
    const slices = kp.slices;
    let i = kp.merged;
    while (i < slices.length && slices[i]!.lo <= k) mergeAccs(this.plan, run, slices[i++]!.accs);
    kp.merged = i;
    return run;
  }

  advance(w: number, out: QueryResult[]): void {
    while (this.order.length > 0 && this.order[0]!.end <= w) {
      const win = this.order.shift()!;
      this.windows.delete(win.k);
      this.forgetIdle();
      if (this.last === win) this.last = undefined;
      const bounds = boundsOf(win.start, win.end, win.end);
      const idHead = windowIdHead(this.plan.idPrefix, win.start, win.end);
      for (const kp of win.keys) {
        const accs = this.runs ? this.runIn(kp, win.k) : this.accsIn(kp, win.k);
        emitGroup(this.plan, this.ctx, kp, accs, bounds, idHead + idTailOf(kp), out);
        this.drop(kp, win.k);
      }
      this.groups -= win.keys.length;
    }
    this.nextDue = this.order[0]?.end ?? Infinity;
  }

  /** Drops the key's slices that count in no window after k, and the key once it has none. */
  private drop(kp: KeyPanes, k: number): void {
    const slices = kp.slices;
    const spare = this.spare;
    const merged = kp.merged;
    const len = slices.length;
    let n = 0;
    for (let i = 0; i < len; i++) {
      const s = slices[i]!;
      if (s.hi > k) {
        if (kp.wholes === 0) {
          // A later pane starts and ends counting no earlier, so with panes only `hi` never
          // falls in (lo, hi) order: the rest stay too.
          if (n === i) n = len;
          else for (let j = i; j < len; j++) slices[n++] = slices[j]!;
          break;
        }
        slices[n++] = s;
        continue;
      }
      if (i < merged && !this.unmerge(kp, s)) kp.merged = 0;
      if (Number.isNaN(s.pane)) kp.wholes--;
      // Emptied now, so that it holds no values until it is reused.
      resetAccs(this.plan, s.accs);
      spare.push(s);
    }
    if (n === len) return;
    // pop() rather than setting the length: it is inlined (this runs once per row).
    while (slices.length > n) slices.pop();
    kp.top = slices[n - 1];
    if (kp.run !== undefined) {
      // Every slice dropped was merged: it counted in window k, which merged what it counts in.
      kp.merged = kp.merged === 0 ? 0 : kp.merged - (len - n);
      // Nothing left merged: start again from empty, not from exact zero partials.
      if (kp.merged === 0) resetAccs(this.plan, kp.run);
    }
    if (n === 0) this.idle.push(kp);
  }

  /**
   * Takes slice `s` out of the key's running merge. False when an aggregate cannot (a sum that
   * overflowed): the run is then emptied, to be merged again from the slices.
   */
  private unmerge(kp: KeyPanes, s: Slice): boolean {
    const aggs = this.plan.aggs;
    const run = kp.run!;
    for (let i = 0; i < aggs.length; i++) {
      const a = aggs[i]!.unmerge!(run[i], s.accs[i]);
      if (a === undefined) return false;
      run[i] = a;
    }
    return true;
  }

  /** Forgets the keys idle since before the previous window closed; starts a new idle list. */
  private forgetIdle(): void {
    const old = this.idleBefore;
    for (const kp of old) if (kp.slices.length === 0) this.keys.delete(kp);
    old.length = 0;
    this.idleBefore = this.idle;
    this.idle = old;
  }

  flush(): void {}

  save(): unknown {
    const groups: unknown[] = [];
    for (const win of this.order) {
      const sorted = [...win.keys].sort((x, y) =>
        x.keyText < y.keyText ? -1 : x.keyText > y.keyText ? 1 : 0,
      );
      for (const kp of sorted) {
        groups.push({
          start: win.start,
          key: kp.keyText,
          values: kp.keyValues,
          accs: saveAccs(this.plan, this.accsIn(kp, win.k)),
          dirty: false,
        });
      }
    }
    return { groups };
  }

  load(saved: unknown): void {
    const groups = readArray(field(readRecord(saved, 'state'), 'groups'), 'state.groups');
    for (const item of groups) {
      const o = readRecord(item, 'group');
      const start = readNumber(field(o, 'start'), 'group.start');
      const k = start / this.advanceBy;
      if (!Number.isInteger(k)) throw new Error('group.start is not a window start of this query');
      const keyValues = readArray(field(o, 'values'), 'group.values') as Value[];
      if (keyValues.length !== this.plan.keyFns.length) throw new Error('group.values do not match GROUP BY');
      const keyText = readString(field(o, 'key'), 'group.key');
      const accs = loadAccs(this.plan, field(o, 'accs'));
      let kp = this.keys.find(keyValues, keyText);
      if (kp === undefined) {
        kp = this.newKey({ keyText, keyValues });
        this.keys.set(kp);
      }
      if (kp.slices.some((s) => s.lo === k)) throw new Error('group repeats a window and key');
      insert(kp, { lo: k, hi: k, pane: NaN, accs });
      kp.wholes++;
      this.windowAt(k).keys.push(kp);
      this.groups++;
    }
  }
}
