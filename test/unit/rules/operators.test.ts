import { describe, expect, it } from 'vitest';
import { matches, value } from './helpers.js';

describe('arithmetic', () => {
  it('adds, subtracts and multiplies numbers', () => {
    expect(value('2 + 3')).toBe(5);
    expect(value('2.5 + 1')).toBe(3.5);
    expect(value('7 - 10')).toBe(-3);
    expect(value('6 * 7')).toBe(42);
    expect(value('event.data.a * 2', { a: 1.5 })).toBe(3);
  });

  it('divides as floating point, as Grule does', () => {
    expect(value('5 / 2')).toBe(2.5);
    expect(value('6 / 3')).toBe(2);
    expect(value('IsInf(1 / 0, 1)')).toBe(true);
  });

  it('takes the integer remainder with the sign of the dividend, and rejects non-integers', () => {
    expect(value('7 % 3')).toBe(1);
    expect(value('-7 % 3')).toBe(-1);
    expect(value('event.data.n % 2', { n: 10 })).toBe(0);
    expect(() => value('7.5 % 2')).toThrow(/% needs integers/);
    expect(() => value('7 % 0')).toThrow(/integer divide by zero/);
  });

  it('does bitwise and/or on integers, including beyond 32 bits', () => {
    expect(value('6 & 3')).toBe(2);
    expect(value('6 | 3')).toBe(7);
    expect(value('0x100000000 | 1')).toBe(4294967297);
    expect(() => value('1.5 & 1')).toThrow(/& needs integers/);
  });

  it('joins strings with +, printing numbers as JavaScript does', () => {
    expect(value('"a" + "b"')).toBe('ab');
    expect(value('"n=" + 5')).toBe('n=5');
    expect(value('1.5 + "x"')).toBe('1.5x');
    expect(value('"b:" + true')).toBe('b:true');
    expect(value('"x" + event.data.a', { a: 5 })).toBe('x5');
  });

  it('fails on arithmetic with nil or mismatched types', () => {
    expect(() => value('event.data.missing + 1')).toThrow(/cannot add nil \+ number/);
    expect(() => value('"a" - 1')).toThrow(/cannot apply -/);
    expect(() => value('true * 2')).toThrow(/cannot apply \*/);
    expect(() => value('"a" + nil')).toThrow(/cannot add/);
  });
});

describe('comparison', () => {
  it('compares numbers, mixing integer and float', () => {
    expect(matches('1 < 2')).toBe(true);
    expect(matches('2 <= 2.0')).toBe(true);
    expect(matches('3 > 2.5')).toBe(true);
    expect(matches('2 >= 3')).toBe(false);
    expect(matches('event.data.amount >= 1000', { amount: 1000 })).toBe(true);
    expect(matches('1000 <= event.data.amount', { amount: 999.5 })).toBe(false);
  });

  it('orders strings by code point (Go orders UTF-8 bytes)', () => {
    expect(matches('"B" < "a"')).toBe(true);
    expect(matches('"abc" < "abd"')).toBe(true);
    expect(matches('"ab" < "abc"')).toBe(true);
    // U+FF61 sorts before U+1F600 by code point, although its UTF-16 unit is larger.
    expect(matches(String.raw`"\uFF61" < "\U0001F600"`)).toBe(true);
    expect(matches(String.raw`"\U0001F600" < "\uFF61"`)).toBe(false);
  });

  it('treats ordering against nil as false, never as an error', () => {
    expect(matches('event.data.missing < 5')).toBe(false);
    expect(matches('event.data.missing >= 5')).toBe(false);
    expect(matches('event.data.a.b.c > 0')).toBe(false);
    expect(matches('!(event.data.missing > 5)')).toBe(true);
  });

  it('makes a when that orders a string against a number not match', () => {
    expect(matches('event.data.s > 3', { s: 'x' })).toBe(false);
    expect(matches('!(event.data.s > 3)', { s: 'x' })).toBe(false);
  });

  it('tests equality: nil equals only nil, different types are unequal', () => {
    expect(matches('event.data.missing == nil')).toBe(true);
    expect(matches('event.data.a == nil', { a: null })).toBe(true);
    expect(matches('event.data.a != nil', { a: 0 })).toBe(true);
    expect(matches('"x" == 1')).toBe(false);
    expect(matches('"x" != 1')).toBe(true);
    expect(matches('1 == 1.0')).toBe(true);
    expect(matches('event.data.a == event.data.b', { a: [1, { x: 2 }], b: [1, { x: 2 }] })).toBe(true);
    expect(matches('event.data.a == event.data.b', { a: { x: 1 }, b: { x: 2 } })).toBe(false);
    expect(matches('event.type == "com.example.test"')).toBe(true);
  });
});

describe('logic', () => {
  it('short-circuits && and ||', () => {
    expect(matches('false && event.data.missing > "x"')).toBe(false);
    expect(matches('true || event.data.s > 1', { s: 'x' })).toBe(true);
  });

  it('requires booleans', () => {
    expect(matches('event.data.flag', { flag: true })).toBe(true);
    expect(matches('event.data.flag', { flag: 1 })).toBe(false);
    expect(matches('event.data.missing')).toBe(false);
    expect(matches('!event.data.flag', { flag: false })).toBe(true);
    expect(() => value('!1')).toThrow(/! needs a bool/);
    expect(() => value('1 && true')).toThrow(/&& needs a bool/);
  });
});

describe('field access', () => {
  it('reads context attributes and extensions', () => {
    expect(matches('event.source == "/test" && event.priority == 3', {}, { priority: 3 })).toBe(true);
  });

  it('reads missing fields and paths through them as nil', () => {
    expect(value('IsNil(event.data.a.b.c)')).toBe(true);
    expect(value('IsNil(event.data.list[5])', { list: [1] })).toBe(true);
    expect(value('IsNil(event.data.list[-1])', { list: [1] })).toBe(true);
    expect(value('IsNil(event.data.list["x"])', { list: [1] })).toBe(true);
    expect(value('IsNil(event.data.s.x)', { s: 'str' })).toBe(true);
  });

  it('never reaches prototypes, constructors or built-in methods', () => {
    expect(value('IsNil(event.constructor)')).toBe(true);
    expect(value('IsNil(event.data["__proto__"])')).toBe(true);
    expect(value('IsNil(event.data.x["__proto__"].polluted)', { x: {} })).toBe(true);
    expect(value('IsNil(event.data["constructor"])')).toBe(true);
    expect(value('IsNil(event.data.list.length)', { list: [1, 2] })).toBe(true);
    expect(value('IsNil(event.data.list["length"])', { list: [1, 2] })).toBe(true);
    expect(value('IsNil(event.data.s.length)', { s: 'abc' })).toBe(true);
    expect(value('IsNil(event.data.toString)')).toBe(true);
    expect(value('IsNil(Now().getTime)')).toBe(true);
    expect(value('IsNil(event.data.x.hasOwnProperty)', { x: {} })).toBe(true);
  });

  it('reads own fields even when they are named like prototype members', () => {
    const data = JSON.parse('{"constructor": "c", "__proto__": "p", "length": 3}') as unknown;
    expect(value('event.data.constructor + event.data["__proto__"] + event.data.length', data)).toBe('cp3');
  });
});
