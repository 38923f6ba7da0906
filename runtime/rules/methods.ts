// Methods callable on values (`s.HasPrefix("x")`, `list.Len()`), as Grule's JSON data layer offers
// them: string methods from Go's strings package, `Len` on strings, arrays and maps, `Append` on
// arrays. Lengths and indexes of strings count UTF-8 bytes, as in Go, so rules ported from Grule
// compute the same numbers. Dispatch is by our own table, never by property lookup on the value.
import { fail } from './errors.js';
import { regexFor, regexMatch, type SafeRegex } from './safe-regex.js';
import { compareStrings, toStored, typeName, type Value } from './values.js';

export interface MethodSpec {
  minArgs: number;
  maxArgs: number;
  /** Changes its receiver; not allowed in `when` and counted as a write by the rule analysis. */
  mutates?: boolean;
  impl: (recv: Value, args: Value[], precompiled?: SafeRegex) => Value;
  /** Allocation-free forms for calls with no argument or one; the compiler prefers them. */
  call0?: (recv: Value) => Value;
  call1?: (recv: Value, arg: Value) => Value;
}

/** Strings longer than this cannot be produced by Repeat or Replace: a rule must not exhaust memory. */
export const MAX_STRING_BYTES = 1 << 20;

function recvString(v: Value, method: string): string {
  if (typeof v !== 'string') fail(`${method}() is a string method, called on ${typeName(v)}`);
  return v;
}

function argString(v: Value, method: string): string {
  if (typeof v !== 'string') fail(`${method}() needs a string argument, got ${typeName(v)}`);
  return v;
}

const utf8Length = (s: string): number => Buffer.byteLength(s, 'utf8');

function byteIndex(s: string, i: number): number {
  return i < 0 ? -1 : utf8Length(s.slice(0, i));
}

function checkSize(s: string, method: string): string {
  if (s.length > MAX_STRING_BYTES) fail(`${method}() would produce a string over ${MAX_STRING_BYTES} bytes`);
  return s;
}

function stringMethod(
  name: string,
  f: (s: string, args: string[]) => Value,
): (recv: Value, args: Value[]) => Value {
  return (recv, args) =>
    f(
      recvString(recv, name),
      args.map((a) => argString(a, name)),
    );
}

function str0(name: string, f: (s: string) => Value): Pick<MethodSpec, 'impl' | 'call0'> {
  const call0 = (recv: Value): Value => f(recvString(recv, name));
  return { impl: (recv) => call0(recv), call0 };
}

function str1(name: string, f: (s: string, a: string) => Value): Pick<MethodSpec, 'impl' | 'call1'> {
  const call1 = (recv: Value, a: Value): Value => f(recvString(recv, name), argString(a, name));
  return { impl: (recv, args) => call1(recv, args[0]), call1 };
}

function len(recv: Value): Value {
  if (typeof recv === 'string') return utf8Length(recv);
  if (Array.isArray(recv)) return recv.length;
  if (typeof recv === 'object' && recv !== null && !(recv instanceof Date)) return Object.keys(recv).length;
  return fail(`Len() needs a string, array or map, called on ${typeName(recv)}`);
}

export const METHODS: Record<string, MethodSpec> = {
  Len: {
    minArgs: 0,
    maxArgs: 0,
    impl: len,
    call0: len,
  },
  Compare: {
    minArgs: 1,
    maxArgs: 1,
    ...str1('Compare', (s, b) => compareStrings(s, b)),
  },
  Contains: { minArgs: 1, maxArgs: 1, ...str1('Contains', (s, b) => s.includes(b)) },
  Count: {
    minArgs: 1,
    maxArgs: 1,
    ...str1('Count', (s, sub) => {
      // Go's strings.Count: non-overlapping; an empty substring counts code points + 1.
      if (sub === '') return [...s].length + 1;
      let count = 0;
      for (let i = s.indexOf(sub); i >= 0; i = s.indexOf(sub, i + sub.length)) count++;
      return count;
    }),
  },
  HasPrefix: { minArgs: 1, maxArgs: 1, ...str1('HasPrefix', (s, p) => s.startsWith(p)) },
  HasSuffix: { minArgs: 1, maxArgs: 1, ...str1('HasSuffix', (s, p) => s.endsWith(p)) },
  Index: { minArgs: 1, maxArgs: 1, ...str1('Index', (s, b) => byteIndex(s, s.indexOf(b))) },
  LastIndex: {
    minArgs: 1,
    maxArgs: 1,
    ...str1('LastIndex', (s, b) => byteIndex(s, s.lastIndexOf(b))),
  },
  Repeat: {
    minArgs: 1,
    maxArgs: 1,
    impl: (recv, args) => {
      const s = recvString(recv, 'Repeat');
      const n = args[0];
      if (typeof n !== 'number' || !Number.isFinite(n)) fail(`Repeat() needs a number, got ${typeName(n)}`);
      const count = Math.trunc(n);
      if (count < 0) fail('Repeat() needs a count of zero or more');
      if (s.length * count > MAX_STRING_BYTES)
        fail(`Repeat() would produce a string over ${MAX_STRING_BYTES} bytes`);
      return s.repeat(count);
    },
  },
  Replace: {
    minArgs: 2,
    maxArgs: 2,
    impl: stringMethod('Replace', (s, [from, to]) => {
      // Go's strings.ReplaceAll; an empty `from` inserts `to` around every code point.
      if (from === '') return checkSize(to! + [...s].map((c) => c + to!).join(''), 'Replace');
      return checkSize(s.split(from!).join(to!), 'Replace');
    }),
  },
  Split: {
    minArgs: 1,
    maxArgs: 1,
    ...str1('Split', (s, sep) => (sep === '' ? [...s] : s.split(sep))),
  },
  ToLower: { minArgs: 0, maxArgs: 0, ...str0('ToLower', (s) => s.toLowerCase()) },
  ToUpper: { minArgs: 0, maxArgs: 0, ...str0('ToUpper', (s) => s.toUpperCase()) },
  Trim: { minArgs: 0, maxArgs: 0, ...str0('Trim', (s) => s.trim()) },
  In: {
    minArgs: 0,
    maxArgs: Infinity,
    impl: stringMethod('In', (s, options) => options.includes(s)),
  },
  MatchString: {
    minArgs: 1,
    maxArgs: 1,
    impl: (recv, args, precompiled) => {
      const s = recvString(recv, 'MatchString');
      const re = precompiled ?? regexFor(argString(args[0], 'MatchString'));
      return regexMatch(re, s);
    },
  },
  Append: {
    minArgs: 1,
    maxArgs: Infinity,
    mutates: true,
    impl: (recv, args) => {
      if (!Array.isArray(recv)) fail(`Append() is an array method, called on ${typeName(recv)}`);
      for (const a of args) recv.push(toStored(a));
      return recv;
    },
  },
};

export function lookupMethod(name: string): MethodSpec | undefined {
  return Object.hasOwn(METHODS, name) ? METHODS[name] : undefined;
}
