// The run-time value model of GRL over JSON: nil (undefined or JSON null), booleans, numbers,
// strings, arrays, plain objects, and times (Date, from Now()/MakeTime()). Operators follow Grule
// where Grule is well-defined and fail with EvalFailure where Grule reports an error; see
// docs/rules.md for where we deliberately differ.
import { fail } from './errors.js';

export type Value = unknown;

export function isNil(v: Value): v is null | undefined {
  return v === undefined || v === null;
}

export function typeName(v: Value): string {
  if (isNil(v)) return 'nil';
  if (Array.isArray(v)) return 'array';
  if (v instanceof Date) return 'time';
  if (typeof v === 'object') return 'map';
  return typeof v === 'boolean' ? 'bool' : typeof v;
}

/**
 * Names that an object may inherit (Object.prototype, Array.prototype, Date.prototype members and
 * `length`). Reading one of these must go through an own-property check, so that a rule can never
 * reach `constructor`, `__proto__` or a method of a built-in prototype.
 */
const INHERITED = new Set<string>([
  ...Object.getOwnPropertyNames(Object.prototype),
  ...Object.getOwnPropertyNames(Array.prototype),
  ...Object.getOwnPropertyNames(Date.prototype),
  ...Object.getOwnPropertyNames(String.prototype),
  'length',
]);

export function isInheritedName(name: string): boolean {
  return INHERITED.has(name);
}

/** Reads field `key` of `obj`; anything but an own field of a JSON object reads as nil. */
export function getField(obj: Value, key: string): Value {
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj) || obj instanceof Date) return undefined;
  return Object.hasOwn(obj, key) ? (obj as Record<string, Value>)[key] : undefined;
}

/** `x[i]`: array element by integer index, or object field by string key; otherwise nil. */
export function getIndex(obj: Value, key: Value): Value {
  if (Array.isArray(obj)) {
    return typeof key === 'number' && Number.isInteger(key) && key >= 0 && key < obj.length
      ? obj[key]
      : undefined;
  }
  return typeof key === 'string' ? getField(obj, key) : undefined;
}

/** Writes a field on a JSON object without ever invoking an inherited setter such as __proto__. */
export function setField(obj: Value, key: string, value: Value, path: string): void {
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj) || obj instanceof Date) {
    fail(`cannot set ${path}: its parent is ${typeName(obj)}, not a map`);
  }
  if (INHERITED.has(key)) {
    Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
  } else {
    (obj as Record<string, Value>)[key] = value;
  }
}

export function setIndex(obj: Value, key: Value, value: Value, path: string): void {
  if (Array.isArray(obj)) {
    if (typeof key !== 'number' || !Number.isInteger(key) || key < 0 || key >= obj.length) {
      fail(
        `cannot set ${path}: index ${formatValue(key)} is out of range for an array of length ${obj.length}`,
      );
    }
    obj[key] = value;
    return;
  }
  if (typeof key !== 'string') fail(`cannot set ${path}: a map key must be a string, got ${typeName(key)}`);
  setField(obj, key, value, path);
}

/**
 * Values stored into the event are JSON: times become RFC 3339 strings, and arrays/maps are copied
 * so that two fields never alias one object (rules then cannot change a field they did not name).
 */
export function toStored(v: Value): Value {
  if (v === undefined) return null;
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'object' && v !== null) return structuredClone(v);
  return v;
}

/** Textual form used by `+` on strings and by DeadLetter/Log: numbers print as JavaScript prints them. */
export function formatValue(v: Value): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (isNil(v)) return 'nil';
  if (v instanceof Date) return v.toISOString();
  return JSON.stringify(v);
}

function deepEqual(a: Value, b: Value): boolean {
  if (a === b) return true;
  if (isNil(a) || isNil(b)) return isNil(a) && isNil(b);
  if (a instanceof Date || b instanceof Date) {
    return a instanceof Date && b instanceof Date && a.getTime() === b.getTime();
  }
  if (typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  }
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => Object.hasOwn(b as object, k) && deepEqual(getField(a, k), getField(b, k)));
}

/** `==`: nil equals only nil; values of different types are unequal; maps and arrays by content. */
export function equals(a: Value, b: Value): boolean {
  if (a === b) return true;
  if (typeof a === 'object' || typeof b === 'object' || a === undefined || b === undefined)
    return deepEqual(a, b);
  return false;
}

/** Strings order by Unicode code point (as Go orders UTF-8 bytes), not by UTF-16 code unit. */
export function compareStrings(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) {
      // Surrogates (U+D800–DFFF) encode code points above U+FFFF, which sort after U+E000–FFFF.
      const fx = x >= 0xd800 && x <= 0xdfff ? x + 0x2000 : x >= 0xe000 ? x - 0x800 : x;
      const fy = y >= 0xd800 && y <= 0xdfff ? y + 0x2000 : y >= 0xe000 ? y - 0x800 : y;
      return fx < fy ? -1 : 1;
    }
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/**
 * Ordering for `< <= > >=`: returns the sign of a-b, or NaN when either side is nil (the
 * comparison is then false, as DESIGN.md asks); ordering values of different types fails.
 */
export function order(a: Value, b: Value, op: string): number {
  if (typeof a === 'number' && typeof b === 'number') return a < b ? -1 : a > b ? 1 : a === b ? 0 : NaN;
  if (typeof a === 'string' && typeof b === 'string') return a === b ? 0 : compareStrings(a, b);
  if (isNil(a) || isNil(b)) return NaN;
  if (a instanceof Date && b instanceof Date) return Math.sign(a.getTime() - b.getTime());
  return fail(`cannot compare ${typeName(a)} ${op} ${typeName(b)}`);
}

export function add(a: Value, b: Value): Value {
  if (typeof a === 'number' && typeof b === 'number') return a + b;
  if (typeof a === 'string' || typeof b === 'string') {
    const other = typeof a === 'string' ? b : a;
    if (typeof other === 'string' || typeof other === 'number' || typeof other === 'boolean') {
      return formatValue(a) + formatValue(b);
    }
  }
  return fail(`cannot add ${typeName(a)} + ${typeName(b)}`);
}

function numbers(a: Value, b: Value, op: string): [number, number] {
  if (typeof a !== 'number' || typeof b !== 'number')
    fail(`cannot apply ${op} to ${typeName(a)} and ${typeName(b)}`);
  return [a, b];
}

export function sub(a: Value, b: Value): number {
  const [x, y] = numbers(a, b, '-');
  return x - y;
}

export function mul(a: Value, b: Value): number {
  const [x, y] = numbers(a, b, '*');
  return x * y;
}

/** `/` is always floating-point division in Grule: 5/2 is 2.5 and 1/0 is +Inf. */
export function div(a: Value, b: Value): number {
  const [x, y] = numbers(a, b, '/');
  return x / y;
}

function integers(a: Value, b: Value, op: string): [number, number] {
  const [x, y] = numbers(a, b, op);
  if (!Number.isInteger(x) || !Number.isInteger(y)) fail(`${op} needs integers, got ${x} and ${y}`);
  return [x, y];
}

/** `%`: integer remainder with the sign of the dividend (Go's and JavaScript's). */
export function mod(a: Value, b: Value): number {
  const [x, y] = integers(a, b, '%');
  if (y === 0) fail('integer divide by zero');
  const r = x % y;
  return r === 0 ? 0 : r; // no -0 in JSON output
}

const INT32 = (n: number): boolean => n >= -0x80000000 && n <= 0x7fffffff;

export function bitAnd(a: Value, b: Value): number {
  const [x, y] = integers(a, b, '&');
  if (INT32(x) && INT32(y)) return x & y;
  return Number(BigInt.asIntN(64, BigInt(x) & BigInt(y)));
}

export function bitOr(a: Value, b: Value): number {
  const [x, y] = integers(a, b, '|');
  if (INT32(x) && INT32(y)) return x | y;
  return Number(BigInt.asIntN(64, BigInt(x) | BigInt(y)));
}

export function truthy(v: Value, what: string): boolean {
  if (v === true) return true;
  if (v === false) return false;
  return fail(`${what} needs a bool, got ${typeName(v)}`);
}
