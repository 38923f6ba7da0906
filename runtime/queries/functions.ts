// Scalar functions and the names and arities of aggregates. Every scalar function returns NULL for
// a NULL argument (except COALESCE and CONCAT, which exist to handle NULLs) and for an argument of
// the wrong type, and never a non-finite number.
import { finite, isNull, toText, type Value } from './values.js';

export interface Signature {
  min: number;
  max: number;
  /** Example call for error messages. */
  example: string;
}

export const AGGREGATES: Record<string, Signature> = {
  count: { min: 1, max: 1, example: 'count(*), count(x) or count(DISTINCT x)' },
  sum: { min: 1, max: 1, example: 'sum(data.amount)' },
  avg: { min: 1, max: 1, example: 'avg(data.amount)' },
  min: { min: 1, max: 1, example: 'min(data.amount)' },
  max: { min: 1, max: 1, example: 'max(data.amount)' },
  stddev: { min: 1, max: 1, example: 'stddev(data.amount)' },
  first: { min: 1, max: 1, example: 'first(data.status)' },
  last: { min: 1, max: 1, example: 'last(data.status)' },
};

type Scalar = (args: Value[]) => Value;

interface ScalarFunction extends Signature {
  fn: Scalar;
}

const num = (v: Value): number | undefined => (typeof v === 'number' ? v : undefined);
/** -0 reads as 0 everywhere a result can show it. */
const noNegZero = (n: number): number => (n === 0 ? 0 : n);

/** Moves the decimal point of a finite non-negative number by `k` places without binary error. */
function shift(n: number, k: number): number {
  const [mantissa, exponent] = String(n).split('e');
  return Number(`${mantissa}e${Number(exponent ?? 0) + k}`);
}

/**
 * ROUND(x, d): to `d` decimal places (negative `d` rounds to tens, hundreds…), halves away from
 * zero, on the number's shortest decimal form, so ROUND(1.005, 2) is 1.01 as written.
 */
export function roundHalfAway(x: number, d: number): number {
  if (d > 300 || d < -300) return d > 0 ? x : 0;
  const abs = Math.abs(x);
  const shifted = d === 0 ? abs : shift(abs, d);
  if (shifted >= 2 ** 52) return x;
  const r = Math.round(shifted);
  const back = d === 0 ? r : shift(r, -d);
  return noNegZero(x < 0 ? -back : back);
}

export const SCALARS: Record<string, ScalarFunction> = {
  coalesce: {
    min: 1,
    max: Infinity,
    example: 'coalesce(data.nickname, data.name)',
    fn: (args) => {
      for (const a of args) if (!isNull(a)) return a;
      return null;
    },
  },
  lower: {
    min: 1,
    max: 1,
    example: 'lower(data.email)',
    fn: ([s]) => (typeof s === 'string' ? s.toLowerCase() : null),
  },
  upper: {
    min: 1,
    max: 1,
    example: 'upper(data.country)',
    fn: ([s]) => (typeof s === 'string' ? s.toUpperCase() : null),
  },
  concat: {
    min: 1,
    max: Infinity,
    example: "concat(data.first, ' ', data.last)",
    fn: (args) => {
      let out = '';
      for (const a of args) if (!isNull(a)) out += toText(a);
      return out;
    },
  },
  abs: {
    min: 1,
    max: 1,
    example: 'abs(data.delta)',
    fn: ([x]) => {
      const n = num(x);
      return n === undefined ? null : Math.abs(n);
    },
  },
  floor: {
    min: 1,
    max: 1,
    example: 'floor(data.amount)',
    fn: ([x]) => {
      const n = num(x);
      return n === undefined ? null : noNegZero(Math.floor(n));
    },
  },
  ceil: {
    min: 1,
    max: 1,
    example: 'ceil(data.amount)',
    fn: ([x]) => {
      const n = num(x);
      return n === undefined ? null : noNegZero(Math.ceil(n));
    },
  },
  round: {
    min: 1,
    max: 2,
    example: 'round(data.amount, 2)',
    fn: ([x, digits]) => {
      const n = num(x);
      const d = digits === undefined ? 0 : num(digits);
      if (n === undefined || d === undefined || !Number.isInteger(d)) return null;
      return finite(roundHalfAway(n, d));
    },
  },
};

/** Functions of other SQL dialects that users reach for, with what to write instead. */
export const DID_YOU_MEAN: Record<string, string> = {
  ceiling: 'ceil',
  ifnull: 'coalesce',
  nvl: 'coalesce',
  lcase: 'lower',
  ucase: 'upper',
  mean: 'avg',
  stddev_samp: 'stddev',
  first_value: 'first',
  last_value: 'last',
  latest_by_offset: 'last',
  earliest_by_offset: 'first',
};
