// Pure helpers of `eventrunner test`: turning input lines into CloudEvents, shaping the printed
// result, and comparing results with expectations. Kept apart from the CLI so they are unit-tested.
import type { CloudEventLike, RuleOutcome } from './engine.js';

export interface RawWrapOptions {
  /** CloudEvents `type` given to raw JSON lines. */
  type: string;
  /** CloudEvents `source` given to raw JSON lines. */
  source: string;
}

export const DEFAULT_RAW_TYPE = 'eventrunner.test.raw';
export const DEFAULT_RAW_SOURCE = 'eventrunner-test';

export class InputLineError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
    this.name = 'InputLineError';
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * One input line to a CloudEvent. A JSON object with `specversion` is a structured CloudEvent and
 * is used as it is (after checking the required attributes); any other JSON value is raw data and
 * is wrapped: id `line-N` (N = line number in the file), the given type and source,
 * datacontenttype application/json, data = the value. Returns undefined for blank lines.
 */
export function eventFromLine(text: string, line: number, wrap: RawWrapOptions): CloudEventLike | undefined {
  if (text.trim() === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new InputLineError(line, `not valid JSON: ${(err as Error).message}`);
  }
  if (isObject(value) && 'specversion' in value) {
    for (const attr of ['specversion', 'id', 'type', 'source']) {
      if (typeof value[attr] !== 'string' || value[attr] === '') {
        throw new InputLineError(line, `CloudEvent needs a non-empty string "${attr}"`);
      }
    }
    return value as CloudEventLike;
  }
  return {
    specversion: '1.0',
    id: `line-${line}`,
    type: wrap.type,
    source: wrap.source,
    datacontenttype: 'application/json',
    data: value,
  };
}

/** The printed result, with DESIGN.md's field order: id, outcome, routes, reason, event. */
export interface TestResult {
  id: string;
  outcome: RuleOutcome['outcome'];
  routes: string[];
  reason?: string;
  event: CloudEventLike;
}

export function testResult(outcome: RuleOutcome): TestResult {
  const r: TestResult = {
    id: String(outcome.event.id),
    outcome: outcome.outcome,
    routes: [...outcome.routes],
  } as TestResult;
  if (outcome.outcome === 'deadletter') r.reason = outcome.reason ?? '';
  r.event = outcome.event;
  return r;
}

/** One difference between an expectation and a result, at a JSON path such as `event.data.tier`. */
export interface Mismatch {
  path: string;
  expected: unknown;
  actual: unknown;
}

function deepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (isObject(v)) {
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, canonical(v[k])]),
    );
  }
  return v;
}

/** Objects in the expectation match when each of their fields matches (extra fields are fine); anything else must be equal. */
function subsetDiff(expected: unknown, actual: unknown, path: string, out: Mismatch[]): void {
  if (isObject(expected) && isObject(actual)) {
    for (const k of Object.keys(expected)) {
      const p = `${path}.${k}`;
      if (!Object.hasOwn(actual, k)) out.push({ path: p, expected: expected[k], actual: undefined });
      else subsetDiff(expected[k], actual[k], p, out);
    }
    return;
  }
  if (typeof expected === 'number' && typeof actual === 'number' && closeEnough(expected, actual)) return;
  if (!deepEqual(expected, actual)) out.push({ path, expected, actual });
}

/** Floating results (avg, stddev) are equal when they agree to 1e-9 relative. */
function closeEnough(a: number, b: number): boolean {
  return a === b || Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
}

/**
 * Compares an expectation line with a result. `outcome`, `routes` and `reason` must be equal when
 * given; `event` matches as a subset (only the fields written in the expectation are compared), so
 * an expectation can assert `{"event": {"data": {"tier": "gold"}}}` without repeating the event.
 * A query result's `data` matches the same way, numbers to 1e-9 relative.
 */
export function compareExpectation(expected: Record<string, unknown>, result: object): Mismatch[] {
  const out: Mismatch[] = [];
  const actual = result as Record<string, unknown>;
  for (const key of Object.keys(expected)) {
    if (key === 'id') continue;
    if (key === 'event' || key === 'data') subsetDiff(expected[key], actual[key], key, out);
    else if (!deepEqual(expected[key], actual[key]))
      out.push({ path: key, expected: expected[key], actual: actual[key] });
  }
  return out;
}

export function formatMismatch(m: Mismatch): string {
  const show = (v: unknown): string => (v === undefined ? '(missing)' : JSON.stringify(v));
  return `${m.path}: expected ${show(m.expected)}, got ${show(m.actual)}`;
}
