// What every window operator shares: the interface the partition driver calls, group keys (looked
// up by the raw value when there is one scalar GROUP BY value, so the hot path builds no key
// text), accumulator arrays, and turning a group into a result.
import type { RowContext } from '../compile-expr.js';
import { formatTime } from '../event-time.js';
import { idOfText, jsonString, queryResultId } from '../ids.js';
import { buildRow, keyTextOf, keyValue, type Plan } from '../plan.js';
import type { QueryInput, QueryResult } from '../types.js';
import { canonicalJson, type Value } from '../values.js';

export const ADDED = 0;
export const LATE = 1;
export const STATE_LIMIT = 2;
export type AddStatus = typeof ADDED | typeof LATE | typeof STATE_LIMIT;

export interface WindowOperator {
  /**
   * Adds the event in `ctx.ev` (already accepted by WHERE) with event time `t`; `w` is the
   * watermark, already moved by `t` itself. Rows complete at once (no window) go to `out`.
   */
  add(ctx: RowContext, t: number, input: QueryInput, w: number, out: QueryResult[]): AddStatus;
  /** Emits and drops what watermark `w` completes. Called only when `w >= nextDue`. */
  advance(w: number, out: QueryResult[]): void;
  /** Smallest watermark at which advance() has work; Infinity when none. */
  readonly nextDue: number;
  /** End of a push or tick: EMIT CHANGES rows for groups updated since the last flush. */
  flush(out: QueryResult[]): void;
  readonly stateKeys: number;
  save(): unknown;
  load(saved: unknown): void;
}

/** The key of the event being added. `prim` is set when the key is one scalar (or no GROUP BY). */
export interface KeyProbe {
  isPrim: boolean;
  prim: unknown;
  /** Key values (scratch: copy before keeping). */
  values: Value[];
  /** Canonical JSON of `values`, once computed for this event. */
  text: string | undefined;
}

export function newProbe(plan: Plan): KeyProbe {
  return { isPrim: true, prim: '', values: new Array<Value>(plan.keyFns.length).fill(null), text: undefined };
}

export function probeKey(plan: Plan, ctx: RowContext, probe: KeyProbe): void {
  const fns = plan.keyFns;
  if (fns.length === 0) {
    probe.isPrim = true;
    probe.prim = '';
    return;
  }
  let scalar = fns.length === 1;
  probe.text = undefined;
  for (let i = 0; i < fns.length; i++) {
    const v = keyValue(fns[i]!(ctx));
    probe.values[i] = v;
    if (v !== null && typeof v === 'object') scalar = false;
  }
  probe.isPrim = scalar;
  if (scalar) probe.prim = probe.values[0];
}

export interface Keyed {
  keyText: string;
  keyValues: Value[];
  /** The end of window ids, once computed: the key's item (its text as a JSON string) and `]`. */
  idTail?: string;
}

/**
 * The end of the key's window ids: its item — the key text as a JSON string — and the closing
 * bracket, so that an id's text is two strings joined (the window's part, this), which hashing
 * flattens faster than the several pieces it was built from before.
 */
export function idTailOf(key: Keyed): string {
  return (key.idTail ??= `${jsonString(key.keyText)}]`);
}

/** Entries by key: scalar single keys by value, other keys by their canonical JSON text. */
export class KeyIndex<T extends Keyed> {
  private readonly prim = new Map<unknown, T>();
  private readonly text = new Map<string, T>();

  get size(): number {
    return this.prim.size + this.text.size;
  }

  get(probe: KeyProbe): T | undefined {
    return probe.isPrim
      ? this.prim.get(probe.prim)
      : this.text.get((probe.text ??= canonicalJson(probe.values)));
  }

  /** Stores an entry under its own key. */
  set(entry: T): void {
    const scalar =
      entry.keyValues.length <= 1 && (entry.keyValues[0] === null || typeof entry.keyValues[0] !== 'object');
    if (scalar) this.prim.set(entry.keyValues.length === 0 ? '' : entry.keyValues[0], entry);
    else this.text.set(entry.keyText, entry);
  }

  /** Stores an entry under the key of `probe` (which must be the entry's key). */
  setAt(probe: KeyProbe, entry: T): void {
    if (probe.isPrim) this.prim.set(probe.prim, entry);
    else this.text.set(entry.keyText, entry);
  }

  /** The entry stored under a key given by its values and text (as an entry holds them). */
  find(keyValues: readonly Value[], keyText: string): T | undefined {
    const scalar = keyValues.length <= 1 && (keyValues[0] === null || typeof keyValues[0] !== 'object');
    return scalar ? this.prim.get(keyValues.length === 0 ? '' : keyValues[0]) : this.text.get(keyText);
  }

  /** Removes this entry (not a newer one stored under the same key since). */
  delete(entry: T): void {
    const scalar =
      entry.keyValues.length <= 1 && (entry.keyValues[0] === null || typeof entry.keyValues[0] !== 'object');
    if (scalar) {
      const k = entry.keyValues.length === 0 ? '' : entry.keyValues[0];
      if (this.prim.get(k) === entry) this.prim.delete(k);
    } else if (this.text.get(entry.keyText) === entry) this.text.delete(entry.keyText);
  }

  /** Calls `fn` on every entry, as values() yields them, without an iterator result per entry. */
  forEach(fn: (entry: T) => void): void {
    this.prim.forEach((entry) => fn(entry));
    this.text.forEach((entry) => fn(entry));
  }

  *values(): IterableIterator<T> {
    yield* this.prim.values();
    yield* this.text.values();
  }
}

/** Key text and a kept copy of the probe's values, for a new entry. */
export function keyOfProbe(plan: Plan, probe: KeyProbe): Keyed {
  const keyValues = plan.keyFns.length === 0 ? [] : probe.values.slice();
  return {
    keyText: probe.isPrim ? keyTextOf(keyValues) : (probe.text ??= canonicalJson(keyValues)),
    keyValues,
  };
}

export function createAccs(plan: Plan): unknown[] {
  const aggs = plan.aggs;
  const out = new Array<unknown>(aggs.length);
  for (let i = 0; i < aggs.length; i++) out[i] = aggs[i]!.create();
  return out;
}

/** Evaluates each aggregate's argument once for the event in `ctx` (count(*) gets true). */
export function evalArgs(plan: Plan, ctx: RowContext, out: Value[]): void {
  const fns = plan.argFns;
  for (let i = 0; i < fns.length; i++) {
    const f = fns[i];
    out[i] = f === undefined ? true : f(ctx);
  }
}

export function addArgs(
  plan: Plan,
  accs: unknown[],
  args: readonly Value[],
  t: number,
  seq: number,
  src: string,
): void {
  const aggs = plan.aggs;
  for (let i = 0; i < aggs.length; i++) accs[i] = aggs[i]!.add(accs[i], args[i], t, seq, src);
}

export function mergeAccs(plan: Plan, into: unknown[], from: readonly unknown[]): void {
  for (let i = 0; i < plan.aggs.length; i++) into[i] = plan.aggs[i]!.merge(into[i], from[i]);
}

/** Copies of accumulators, to merge into without changing the originals. */
export function cloneAccs(plan: Plan, accs: readonly unknown[]): unknown[] {
  const aggs = plan.aggs;
  const out = new Array<unknown>(aggs.length);
  for (let i = 0; i < aggs.length; i++) out[i] = aggs[i]!.clone(accs[i]);
  return out;
}

/** Empties scratch accumulators (only the caller refers to them) in place, for reuse. */
export function resetAccs(plan: Plan, scratch: unknown[]): void {
  const aggs = plan.aggs;
  for (let i = 0; i < aggs.length; i++) scratch[i] = aggs[i]!.reset(scratch[i]);
}

/** Makes scratch accumulators a copy of `from` (as cloneAccs), reusing their storage. */
export function copyAccsInto(plan: Plan, scratch: unknown[], from: readonly unknown[]): void {
  const aggs = plan.aggs;
  for (let i = 0; i < aggs.length; i++) scratch[i] = aggs[i]!.copyInto(scratch[i], from[i]);
}

export function saveAccs(plan: Plan, accs: readonly unknown[]): unknown[] {
  return plan.aggs.map((a, i) => a.save(accs[i]));
}

export function loadAccs(plan: Plan, saved: unknown): unknown[] {
  if (!Array.isArray(saved) || saved.length !== plan.aggs.length)
    throw new Error('accumulators do not match the query');
  return plan.aggs.map((a, i) => a.load(saved[i]));
}

/** Window bounds as RFC 3339 text, and the result's event time. */
export interface Bounds {
  ws: string;
  we: string;
  time: string;
}

export function boundsOf(ws: number, we: number, time: number): Bounds {
  const wsText = formatTime(ws);
  const weText = formatTime(we);
  return { ws: wsText, we: weText, time: time === we ? weText : formatTime(time) };
}

/**
 * The result for a group, or nothing when HAVING rejects it. `id` gives the id (ids.ts): the id
 * items after [namespace, pipeline, query], or the whole JSON text of the id's items (what
 * `plan.idPrefix` starts).
 */
export function emitGroup(
  plan: Plan,
  ctx: RowContext,
  key: Keyed,
  accs: readonly unknown[],
  bounds: Bounds,
  id: readonly (string | number)[] | string,
  out: QueryResult[],
): void {
  const aggs = plan.aggs;
  for (let i = 0; i < aggs.length; i++) ctx.aggs[i] = aggs[i]!.result(accs[i]);
  ctx.keys = key.keyValues;
  ctx.ws = bounds.ws;
  ctx.we = bounds.we;
  const data = buildRow(plan, ctx);
  if (!data) return;
  out.push({
    query: plan.name,
    id: typeof id === 'string' ? idOfText(id) : queryResultId(plan.idPrefix, id),
    time: bounds.time,
    data,
    key: key.keyText,
  });
}
