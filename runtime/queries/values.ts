// The value model of queries over JSON events: NULL (a missing field, JSON null), booleans,
// numbers, strings, and JSON arrays and objects. Operators never throw: where SQL would raise a
// type error (adding a string to a number, comparing a number with a string) the result is NULL,
// so an event with an odd field never stops a query. Field reads see own properties of JSON
// objects only, so `__proto__`, `constructor` and prototype methods are never reachable.

export type Value = unknown;

export function isNull(v: Value): v is null | undefined {
  return v === null || v === undefined;
}

/** NULL is represented by `null` in results and state (never `undefined`). */
export function orNull(v: Value): Value {
  return v === undefined ? null : v;
}

/** A JSON object (not an array). */
export function isRecord(v: Value): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Field `key` of a JSON object, or undefined; own properties only. */
export function ownField(obj: Value, key: string): Value {
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) return undefined;
  return Object.hasOwn(obj, key) ? (obj as Record<string, unknown>)[key] : undefined;
}

/** Element `i` of a JSON array, or undefined. */
export function element(arr: Value, i: number): Value {
  return Array.isArray(arr) && i < arr.length ? (arr[i] as Value) : undefined;
}

/**
 * Canonical JSON: object keys sorted, NULL and undefined as null, -0 as 0, non-finite numbers as
 * null. Two values are equal in SQL exactly when their canonical JSON is equal.
 */
export function canonicalJson(v: Value): string {
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v);
    case 'number':
      return Number.isFinite(v) ? (Object.is(v, -0) ? '0' : String(v)) : 'null';
    case 'boolean':
      return v ? 'true' : 'false';
    case 'object': {
      if (v === null) return 'null';
      if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
      const rec = v as Record<string, unknown>;
      const keys = Object.keys(rec).sort();
      const parts: string[] = [];
      for (const k of keys) {
        if (rec[k] === undefined) continue;
        parts.push(`${JSON.stringify(k)}:${canonicalJson(rec[k])}`);
      }
      return `{${parts.join(',')}}`;
    }
    default:
      return 'null';
  }
}

/** SQL `=`: NULL when either side is NULL; values of different types are never equal. */
export function sqlEquals(a: Value, b: Value): boolean | null {
  if (isNull(a) || isNull(b)) return null;
  const t = typeof a;
  if (t !== typeof b) return false;
  if (t === 'object') return canonicalJson(a) === canonicalJson(b);
  return a === b;
}

/**
 * Ordering of two values of the same scalar type: numbers, strings (by UTF-16 code units) or
 * booleans (false < true). NULL when either is NULL or the types differ.
 */
export function sqlCompare(a: Value, b: Value): number | null {
  const t = typeof a;
  if (t !== typeof b || (t !== 'number' && t !== 'string' && t !== 'boolean')) return null;
  return a === b ? 0 : (a as number) < (b as number) ? -1 : 1;
}

const TYPE_RANK: Record<string, number> = { boolean: 0, number: 1, string: 2 };

/**
 * Total order used by min() and max(): booleans < numbers < strings; undefined for values they
 * skip (NULL, arrays and objects).
 */
export function rankOf(v: Value): number | undefined {
  return TYPE_RANK[typeof v];
}

/** Negative, zero or positive as `a` sorts before, with or after `b` (both ranked). */
export function totalCompare(a: Value, b: Value): number {
  const ra = TYPE_RANK[typeof a]!;
  const rb = TYPE_RANK[typeof b]!;
  if (ra !== rb) return ra - rb;
  return a === b ? 0 : (a as number) < (b as number) ? -1 : 1;
}

/** Text of a value for `||` and CONCAT: strings as they are, other values as JSON. */
export function toText(v: Value): string {
  return typeof v === 'string' ? v : canonicalJson(v);
}

/** SQL truth: only `true` is true. */
export function isTrue(v: Value): boolean {
  return v === true;
}

/** A finite number, or NULL: arithmetic never produces NaN or infinities. */
export function finite(n: number): number | null {
  return Number.isFinite(n) ? n : null;
}
