import { describe, expect, it } from 'vitest';
import { FUNCTIONS } from '../../../runtime/rules/functions.js';
import { METHODS } from '../../../runtime/rules/methods.js';
import { matches, value } from './helpers.js';

describe('string methods', () => {
  const s = { s: 'Hello, World' };
  it.each([
    ['event.data.s.Len()', 12],
    ['"héllo".Len()', 6], // UTF-8 bytes, as Go's len()
    ['event.data.s.Compare("Hello")', 1],
    ['"a".Compare("b")', -1],
    ['"a".Compare("a")', 0],
    ['event.data.s.Contains("lo, W")', true],
    ['event.data.s.Count("l")', 3],
    ['"cheese".Count("")', 7],
    ['"aaaa".Count("aa")', 2],
    ['event.data.s.HasPrefix("Hell")', true],
    ['event.data.s.HasSuffix("world")', false],
    ['event.data.s.Index("o")', 4],
    ['"héllo".Index("l")', 3],
    ['event.data.s.Index("z")', -1],
    ['event.data.s.LastIndex("o")', 8],
    ['"ab".Repeat(3)', 'ababab'],
    ['"a-b-c".Replace("-", "+")', 'a+b+c'],
    ['"ab".Replace("", "_")', '_a_b_'],
    ['"a,b,,c".Split(",")', ['a', 'b', '', 'c']],
    ['"ab".Split("")', ['a', 'b']],
    ['event.data.s.ToLower()', 'hello, world'],
    ['event.data.s.ToUpper()', 'HELLO, WORLD'],
    ['"  x y \\t\\n".Trim()', 'x y'],
    ['"b".In("a", "b")', true],
    ['"c".In("a", "b")', false],
    ['"c".In()', false],
    ['"order-123".MatchString("[0-9]+$")', true],
    ['"order".MatchString("^[0-9]+$")', false],
  ])('%s', (expr, expected) => {
    expect(value(expr, s)).toEqual(expected);
  });

  it('fails on a string method called on a non-string, and on bad arguments', () => {
    expect(() => value('event.data.n.ToUpper()', { n: 1 })).toThrow(
      /ToUpper\(\) is a string method, called on number/,
    );
    expect(() => value('"a".Contains(1)')).toThrow(/Contains\(\) needs a string argument/);
    expect(() => value('"a".Repeat(-1)')).toThrow(/zero or more/);
    expect(() => value('"a".MatchString(event.data.re)', { re: '(' })).toThrow(/invalid regular expression/);
    expect(matches('event.data.missing.HasPrefix("a")')).toBe(false);
  });

  it('refuses to build huge strings', () => {
    expect(() => value('"abcd".Repeat(1000000)')).toThrow(/over 1048576 bytes/);
  });

  it('matches regular expressions in linear time (no catastrophic backtracking)', () => {
    const started = performance.now();
    expect(value('event.data.s.MatchString("^(a+)+$")', { s: 'a'.repeat(5000) + '!' })).toBe(false);
    expect(
      value('event.data.s.MatchString(event.data.re)', { s: 'a'.repeat(5000) + '!', re: '^(a|aa)+$' }),
    ).toBe(false);
    expect(performance.now() - started).toBeLessThan(2000);
  });
});

describe('array and map methods', () => {
  it('Len works on arrays and maps', () => {
    expect(value('event.data.list.Len()', { list: [1, 2, 3] })).toBe(3);
    expect(value('event.data.Len()', { a: 1, b: 2 })).toBe(2);
    expect(() => value('event.data.n.Len()', { n: 1 })).toThrow(/Len\(\) needs a string, array or map/);
  });

  it('Append adds to an array in place, copying values', () => {
    const out = value('event.data.list.Append(3, "x").Len()', { list: [1, 2] });
    expect(out).toBe(4);
  });
});

describe('functions', () => {
  it.each([
    ['IsNil(event.data.x)', true],
    ['IsNil(1)', false],
    ['IsZero(0)', true],
    ['IsZero("")', true],
    ['IsZero(false)', true],
    ['IsZero(event.data.x)', true],
    ['IsZero("a")', false],
    ['StringContains("abc", "b")', true],
    ['ContainsStr(event.data.tags, "vip")', true],
    ['Max(1, 5.5, 3)', 5.5],
    ['Min(4, -2, 3)', -2],
    ['Abs(-2.5)', 2.5],
    ['Ceil(1.2)', 2],
    ['Floor(-1.2)', -2],
    ['Round(2.5)', 3],
    ['Round(-2.5)', -3],
    ['RoundToEven(2.5)', 2],
    ['Trunc(-1.7)', -1],
    ['Pow(2, 10)', 1024],
    ['Sqrt(16)', 4],
    ['Cbrt(27)', 3],
    ['Mod(7.5, 2)', 1.5],
    ['MathLog(1)', 0],
    ['Log10(1000)', 3],
    ['Log2(8)', 3],
    ['Exp(0)', 1],
    ['Hypot(3, 4)', 5],
    ['Dim(5, 3)', 2],
    ['Dim(3, 5)', 0],
    ['Copysign(3, -1)', -3],
    ['Signbit(-1)', true],
    ['IsNaN(NaN())', true],
    ['Pow10(3)', 1000],
    ['Ldexp(0.5, 3)', 4],
    ['Remainder(5, 3)', -1],
    ['Sin(0) + Cos(0) + Tan(0)', 1],
    ['MakeTime(2024, 2, 29, 13, 4, 5)', '2024-02-29T13:04:05.000Z'],
    ['GetTimeYear(MakeTime(2024, 2, 29, 13, 4, 5))', 2024],
    ['GetTimeMonth(MakeTime(2024, 2, 29, 13, 4, 5))', 2],
    ['GetTimeDay(MakeTime(2024, 2, 29, 13, 4, 5))', 29],
    ['GetTimeHour(MakeTime(2024, 2, 29, 13, 4, 5))', 13],
    ['GetTimeMinute(MakeTime(2024, 2, 29, 13, 4, 5))', 4],
    ['GetTimeSecond(MakeTime(2024, 2, 29, 13, 4, 5))', 5],
    ['GetTimeHour("2024-05-01T07:30:00Z")', 7],
    ['IsTimeBefore(MakeTime(2020, 1, 1, 0, 0, 0), Now())', true],
    ['IsTimeAfter(MakeTime(2020, 1, 1, 0, 0, 0), Now())', false],
    [
      'TimeFormat(MakeTime(2024, 3, 9, 15, 4, 5), "2006-01-02 15:04:05 Mon Jan _2 3PM")',
      '2024-03-09 15:04:05 Sat Mar  9 3PM',
    ],
    ['TimeFormat(MakeTime(2024, 3, 9, 15, 4, 5), "2006-01-02T15:04:05Z07:00")', '2024-03-09T15:04:05Z'],
    ['IsZero(MakeTime(1, 1, 1, 0, 0, 0))', true],
  ])('%s', (expr, expected) => {
    expect(value(expr, { tags: ['a', 'vip'] })).toEqual(expected);
  });

  it('Now() is a time near the present', () => {
    const iso = value('Now()') as string;
    expect(Math.abs(Date.parse(iso) - Date.now())).toBeLessThan(5000);
  });

  it('math functions fail on non-numbers', () => {
    expect(() => value('Abs("x")')).toThrow(/Abs needs a number, got string/);
    expect(() => value('GetTimeYear("yesterday")')).toThrow(/GetTimeYear needs a time/);
  });

  it('every function and method in the tables is covered by a test above', () => {
    // Guards against adding a function without testing it: keep this list equal to the tables.
    const tested = new Set(
      [
        ...'IsNil IsZero StringContains ContainsStr Max Min Abs Ceil Floor Round RoundToEven Trunc Pow Sqrt Cbrt Mod MathLog Log10 Log2 Exp Hypot Dim Copysign Signbit IsNaN NaN Pow10 Ldexp Remainder Sin Cos Tan MakeTime GetTimeYear GetTimeMonth GetTimeDay GetTimeHour GetTimeMinute GetTimeSecond IsTimeBefore IsTimeAfter TimeFormat Now IsInf'.split(
          ' ',
        ),
        // Thin wrappers over Math.*: the table below.
        ...'Acos Acosh Asin Asinh Atan Atan2 Atanh Cosh Exp2 Expm1 Ilogb Log1p Logb Sinh Tanh'.split(' '),
        // Actions: covered by the semantics tests.
        ...'Route Drop DeadLetter Retract Complete Changed Forget Log LogFormat'.split(' '),
      ].sort(),
    );
    expect([...tested]).toEqual(Object.keys(FUNCTIONS).sort());
    expect(Object.keys(METHODS).sort()).toEqual(
      'Append Compare Contains Count HasPrefix HasSuffix In Index LastIndex Len MatchString Repeat Replace Split ToLower ToUpper Trim'.split(
        ' ',
      ),
    );
  });

  it.each([
    ['Acos(1)', 0],
    ['Acosh(1)', 0],
    ['Asin(0)', 0],
    ['Asinh(0)', 0],
    ['Atan(0)', 0],
    ['Atan2(0, 1)', 0],
    ['Atanh(0)', 0],
    ['Cosh(0)', 1],
    ['Exp2(3)', 8],
    ['Expm1(0)', 0],
    ['Ilogb(8)', 3],
    ['Log1p(0)', 0],
    ['Logb(10)', 3],
    ['Sinh(0)', 0],
    ['Tanh(0)', 0],
  ])('%s', (expr, expected) => {
    expect(value(expr)).toBe(expected);
  });
});
