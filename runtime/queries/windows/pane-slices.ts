// A key's state in the pane layout of HOPPING windows (panes.ts): its slices in (first window,
// last window) order, and the questions the operator asks of them.
import type { Keyed } from './operator.js';

export interface Slice {
  /** First and last window index the slice counts in. */
  lo: number;
  hi: number;
  /** Pane index; NaN for a whole window restored from a checkpoint. */
  pane: number;
  accs: unknown[];
}

export interface KeyPanes extends Keyed {
  /** By (lo, hi). */
  slices: Slice[];
  /** The last of `slices` (the pane events in time order go to), read without the array. */
  top: Slice | undefined;
  /** Largest `hi` of the slices: the last window holding data of this key. */
  maxWin: number;
  /** Slices that are whole restored windows (NaN pane). */
  wholes: number;
  /**
   * When every aggregate can unmerge: the first `merged` slices merged. Those are the ones
   * that count in a closed window; a slice is merged when the first window it counts in closes,
   * and unmerged when the last one does, so the window closing merges the slices it starts and
   * unmerges those it ends instead of merging all of its own. A slice of a closed window takes
   * no more events (they would be late), so `run` never misses one.
   */
  run: unknown[] | undefined;
  merged: number;
}

/** Whether the key's latest slice counts in every window from kFirst to the key's last one. */
export function coversTo(kp: KeyPanes, kFirst: number): boolean {
  const top = kp.top;
  return top !== undefined && top.lo <= kFirst && top.hi === kp.maxWin;
}

/** Adds a slice in (lo, hi) order. */
export function insert(kp: KeyPanes, s: Slice): void {
  const slices = kp.slices;
  let i = slices.length;
  while (i > 0 && (slices[i - 1]!.lo > s.lo || (slices[i - 1]!.lo === s.lo && slices[i - 1]!.hi > s.hi))) i--;
  if (i === slices.length) {
    slices.push(s);
    kp.top = s;
  } else slices.splice(i, 0, s);
  if (s.hi > kp.maxWin) kp.maxWin = s.hi;
}

/** Whether a slice of the key counts in window j. */
export function covered(kp: KeyPanes, j: number): boolean {
  for (const s of kp.slices) {
    if (s.lo > j) return false;
    if (s.hi >= j) return true;
  }
  return false;
}
