// Exact floating-point sums (Shewchuk's non-overlapping partials, as in Python's math.fsum). A sum
// is kept as a short list of doubles whose exact total is the exact sum of every value added, and
// read as that total correctly rounded. So sum(), avg() and stddev() give the same bits whatever
// order the values arrive in and however the work is split and merged: results do not depend on
// partitioning or arrival order, not even in the last bit. The list is one or two numbers long in
// practice; integers below 2^53 stay one number.

/** Partials of an exact sum; `[]` is zero. Overflow past ±1.8e308 leaves one non-finite entry. */
export type Partials = number[];

/**
 * Adds `v` to the exact sum held in `p` from index `from` on (the entries before it are not part
 * of the sum: an accumulator can keep its count there), in place.
 */
export function addExact(p: Partials, v: number, from = 0): void {
  // `x` is a local double (v * 1 is v), and the two orders of Fast2Sum are written out rather
  // than swapping x and y: V8 then keeps the loop's numbers unboxed instead of allocating a heap
  // number per step (about 60 bytes per added value). The loop writes at i <= j only, so the
  // length read before it holds throughout.
  let x = v * 1;
  let i = from;
  const n = p.length;
  for (let j = from; j < n; j++) {
    const y = p[j]!;
    const hi = x + y;
    if (!Number.isFinite(hi)) {
      p.length = from + 1;
      p[from] = hi;
      return;
    }
    const lo = Math.abs(x) < Math.abs(y) ? x - (hi - y) : y - (hi - x);
    if (lo !== 0) p[i++] = lo;
    x = hi;
  }
  p[i] = x;
  // pop() rather than setting the length: it is inlined, and keeps the room for later partials.
  while (p.length > i + 1) p.pop();
}

/** Adds every partial of `from` to `into`. */
export function mergeExact(into: Partials, from: Partials): void {
  for (const x of from) addExact(into, x);
}

/**
 * The exact sum held in `p` from index `from` on, correctly rounded to the nearest double
 * (NaN/±Infinity after an overflow).
 */
export function exactValue(p: Partials, from = 0): number {
  let n = p.length;
  if (n <= from) return 0;
  let hi = p[--n]!;
  if (!Number.isFinite(hi)) return hi;
  let lo = 0;
  while (n > from) {
    const x = hi;
    const y = p[--n]!;
    hi = x + y;
    const yr = hi - x;
    lo = y - yr;
    if (lo !== 0) break;
  }
  // Round half-way cases the way the exact sum would: look at the next partial's sign.
  if (n > from && ((lo < 0 && p[n - 1]! < 0) || (lo > 0 && p[n - 1]! > 0))) {
    const y = lo * 2;
    const x = hi + y;
    const yr = x - hi;
    if (y === yr) hi = x;
  }
  return hi;
}

const SPLITTER = 134217729; // 2^27 + 1

/** Adds the exact product a·b (as two doubles, Dekker's algorithm) to the sum in `p`. */
export function addExactProduct(p: Partials, a: number, b: number): void {
  const prod = a * b;
  if (!Number.isFinite(prod) || Math.abs(a) > 1e150 || Math.abs(b) > 1e150) {
    addExact(p, prod);
    return;
  }
  let t = SPLITTER * a;
  const ah = t - (t - a);
  const al = a - ah;
  t = SPLITTER * b;
  const bh = t - (t - b);
  const bl = b - bh;
  const err = ah * bh - prod + ah * bl + al * bh + al * bl;
  addExact(p, prod);
  if (err !== 0) addExact(p, err);
}

/**
 * Sample standard deviation from n, Σx and Σx² kept exactly: the numerator n·Σx² − (Σx)² is
 * formed from exact products and rounded once, so it never cancels catastrophically and never
 * goes negative. NULL for fewer than two values or after an overflow.
 */
export function sampleStddev(n: number, sum: Partials, sumSquares: Partials): number | null {
  if (n < 2) return null;
  const d: Partials = [];
  for (const q of sumSquares) addExactProduct(d, n, q);
  for (const a of sum) for (const b of sum) addExactProduct(d, -a, b);
  const numerator = exactValue(d);
  const variance = numerator / n / (n - 1);
  if (!Number.isFinite(variance)) return null;
  return Math.sqrt(Math.max(0, variance));
}
