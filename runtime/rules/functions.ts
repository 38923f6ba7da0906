// Grule's built-in functions (`Now()`, `IsNil(x)`, `Max(a, b)`, …) as a table the checker reads for
// names and argument counts and the compiler reads for implementations. Names are case-sensitive,
// as in Grule. Actions (Route, Retract, Complete, …) change the evaluation itself and are compiled
// by the statement compiler; they are listed here so the checker knows them.
import { fail } from './errors.js';
import { formatGoLayout, makeTime, toTime } from './time.js';
import { isNil, typeName, type Value } from './values.js';

export interface FunctionSpec {
  minArgs: number;
  maxArgs: number;
  /** An action may only be a statement of a `then`; it returns nothing. */
  action?: boolean;
  /** The result changes between calls with the same arguments, so results are never cached. */
  volatile?: boolean;
  impl?: (args: Value[]) => Value;
}

function num(v: Value, fn: string): number {
  if (typeof v !== 'number') fail(`${fn} needs a number, got ${typeName(v)}`);
  return v;
}

function int(v: Value, fn: string): number {
  const n = num(v, fn);
  if (!Number.isInteger(n)) fail(`${fn} needs an integer, got ${n}`);
  return n;
}

function str(v: Value, fn: string): string {
  if (typeof v !== 'string') fail(`${fn} needs a string, got ${typeName(v)}`);
  return v;
}

const math1 =
  (name: string, f: (x: number) => number): FunctionSpec['impl'] =>
  (a) =>
    f(num(a[0], name));
const math2 =
  (name: string, f: (x: number, y: number) => number): FunctionSpec['impl'] =>
  (a) =>
    f(num(a[0], name), num(a[1], name));

/** Go's math.Round: half away from zero (JavaScript's Math.round goes half up). */
function goRound(x: number): number {
  if (!Number.isFinite(x)) return x;
  return Math.sign(x) * Math.round(Math.abs(x));
}

function roundToEven(x: number): number {
  if (!Number.isFinite(x)) return x;
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Go's zero time.Time, 0001-01-01T00:00:00Z (Date.UTC would read year 1 as 1901). */
const GO_ZERO_TIME = new Date(0).setUTCFullYear(1, 0, 1);

function isZero(v: Value): boolean {
  if (isNil(v) || v === 0 || v === '' || v === false) return true;
  return v instanceof Date && v.getTime() === GO_ZERO_TIME;
}

function timePart(name: string, part: (t: Date) => number): FunctionSpec {
  return { minArgs: 1, maxArgs: 1, impl: (a) => part(toTime(a[0], name)) };
}

const m1 = (name: string, f: (x: number) => number): FunctionSpec => ({
  minArgs: 1,
  maxArgs: 1,
  impl: math1(name, f),
});
const m2 = (name: string, f: (x: number, y: number) => number): FunctionSpec => ({
  minArgs: 2,
  maxArgs: 2,
  impl: math2(name, f),
});

export const FUNCTIONS: Record<string, FunctionSpec> = {
  // Actions: eventrunner's routing plus Grule's engine controls.
  Route: { minArgs: 1, maxArgs: 1, action: true },
  Drop: { minArgs: 0, maxArgs: 0, action: true },
  DeadLetter: { minArgs: 0, maxArgs: 1, action: true },
  Retract: { minArgs: 1, maxArgs: 1, action: true },
  Complete: { minArgs: 0, maxArgs: 0, action: true },
  Changed: { minArgs: 1, maxArgs: 1, action: true },
  Forget: { minArgs: 1, maxArgs: 1, action: true },
  Log: { minArgs: 1, maxArgs: 1, action: true },
  LogFormat: { minArgs: 2, maxArgs: 2, action: true },

  IsNil: { minArgs: 1, maxArgs: 1, impl: (a) => isNil(a[0]) },
  IsZero: { minArgs: 1, maxArgs: 1, impl: (a) => isZero(a[0]) },
  StringContains: {
    minArgs: 2,
    maxArgs: 2,
    impl: (a) => str(a[0], 'StringContains').includes(str(a[1], 'StringContains')),
  },
  ContainsStr: {
    minArgs: 2,
    maxArgs: 2,
    impl: (a) => {
      const list = a[0];
      if (!Array.isArray(list)) fail(`ContainsStr needs an array, got ${typeName(list)}`);
      const s = str(a[1], 'ContainsStr');
      return list.some((x) => x === s);
    },
  },

  Now: { minArgs: 0, maxArgs: 0, volatile: true, impl: () => new Date() },
  MakeTime: {
    minArgs: 6,
    maxArgs: 6,
    impl: (a) => {
      const [y, mo, d, h, mi, s] = a.map((x) => int(x, 'MakeTime')) as [
        number,
        number,
        number,
        number,
        number,
        number,
      ];
      return makeTime(y, mo, d, h, mi, s);
    },
  },
  GetTimeYear: timePart('GetTimeYear', (t) => t.getUTCFullYear()),
  GetTimeMonth: timePart('GetTimeMonth', (t) => t.getUTCMonth() + 1),
  GetTimeDay: timePart('GetTimeDay', (t) => t.getUTCDate()),
  GetTimeHour: timePart('GetTimeHour', (t) => t.getUTCHours()),
  GetTimeMinute: timePart('GetTimeMinute', (t) => t.getUTCMinutes()),
  GetTimeSecond: timePart('GetTimeSecond', (t) => t.getUTCSeconds()),
  IsTimeBefore: {
    minArgs: 2,
    maxArgs: 2,
    impl: (a) => toTime(a[0], 'IsTimeBefore').getTime() < toTime(a[1], 'IsTimeBefore').getTime(),
  },
  IsTimeAfter: {
    minArgs: 2,
    maxArgs: 2,
    impl: (a) => toTime(a[0], 'IsTimeAfter').getTime() > toTime(a[1], 'IsTimeAfter').getTime(),
  },
  TimeFormat: {
    minArgs: 2,
    maxArgs: 2,
    impl: (a) => formatGoLayout(toTime(a[0], 'TimeFormat'), str(a[1], 'TimeFormat')),
  },

  Max: { minArgs: 1, maxArgs: Infinity, impl: (a) => Math.max(...a.map((x) => num(x, 'Max'))) },
  Min: { minArgs: 1, maxArgs: Infinity, impl: (a) => Math.min(...a.map((x) => num(x, 'Min'))) },
  Abs: m1('Abs', Math.abs),
  Acos: m1('Acos', Math.acos),
  Acosh: m1('Acosh', Math.acosh),
  Asin: m1('Asin', Math.asin),
  Asinh: m1('Asinh', Math.asinh),
  Atan: m1('Atan', Math.atan),
  Atan2: m2('Atan2', Math.atan2),
  Atanh: m1('Atanh', Math.atanh),
  Cbrt: m1('Cbrt', Math.cbrt),
  Ceil: m1('Ceil', Math.ceil),
  Copysign: m2('Copysign', (x, y) => (y < 0 || Object.is(y, -0) ? -Math.abs(x) : Math.abs(x))),
  Cos: m1('Cos', Math.cos),
  Cosh: m1('Cosh', Math.cosh),
  Dim: m2('Dim', (x, y) => Math.max(x - y, 0)),
  Exp: m1('Exp', Math.exp),
  Exp2: m1('Exp2', (x) => 2 ** x),
  Expm1: m1('Expm1', Math.expm1),
  Floor: m1('Floor', Math.floor),
  Hypot: m2('Hypot', Math.hypot),
  Ilogb: m1('Ilogb', (x) => Math.floor(Math.log2(Math.abs(x)))),
  IsInf: {
    minArgs: 2,
    maxArgs: 2,
    impl: (a) => {
      const f = num(a[0], 'IsInf');
      const sign = num(a[1], 'IsInf');
      return (sign >= 0 && f === Infinity) || (sign <= 0 && f === -Infinity);
    },
  },
  IsNaN: { minArgs: 1, maxArgs: 1, impl: (a) => Number.isNaN(num(a[0], 'IsNaN')) },
  Ldexp: m2('Ldexp', (frac, exp) => frac * 2 ** exp),
  MathLog: m1('MathLog', Math.log),
  Log10: m1('Log10', Math.log10),
  Log1p: m1('Log1p', Math.log1p),
  Log2: m1('Log2', Math.log2),
  Logb: m1('Logb', (x) => Math.floor(Math.log2(Math.abs(x)))),
  Mod: m2('Mod', (x, y) => x % y),
  NaN: { minArgs: 0, maxArgs: 0, impl: () => NaN },
  Pow: m2('Pow', (x, y) => x ** y),
  Pow10: m1('Pow10', (n) => 10 ** n),
  Remainder: m2('Remainder', (x, y) => x - y * roundToEven(x / y)),
  Round: m1('Round', goRound),
  RoundToEven: m1('RoundToEven', roundToEven),
  Signbit: { minArgs: 1, maxArgs: 1, impl: (a) => num(a[0], 'Signbit') < 0 || Object.is(a[0], -0) },
  Sin: m1('Sin', Math.sin),
  Sinh: m1('Sinh', Math.sinh),
  Sqrt: m1('Sqrt', Math.sqrt),
  Tan: m1('Tan', Math.tan),
  Tanh: m1('Tanh', Math.tanh),
  Trunc: m1('Trunc', Math.trunc),
};

/** Grule functions we deliberately leave out; the checker names them instead of "unknown". */
export const UNSUPPORTED_FUNCTIONS = new Set([
  'Erf',
  'Erfc',
  'Erfinv',
  'Erfcinv',
  'Gamma',
  'J0',
  'J1',
  'Jn',
  'Float64bits',
  'Float64frombits',
]);

export function lookupFunction(name: string): FunctionSpec | undefined {
  return Object.hasOwn(FUNCTIONS, name) ? FUNCTIONS[name] : undefined;
}
