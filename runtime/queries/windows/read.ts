// Small readers for checkpoint JSON: a checkpoint comes from storage, so every field is checked
// before state is rebuilt from it. They throw plain Errors; restoreState wraps them.
import { isRecord } from '../values.js';

export function readNumber(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${what} must be a finite number`);
  return v;
}

export function readString(v: unknown, what: string): string {
  if (typeof v !== 'string') throw new Error(`${what} must be a string`);
  return v;
}

export function readArray(v: unknown, what: string): unknown[] {
  if (!Array.isArray(v)) throw new Error(`${what} must be an array`);
  return v;
}

export function readRecord(v: unknown, what: string): Record<string, unknown> {
  if (!isRecord(v)) throw new Error(`${what} must be an object`);
  return v;
}

/** Own field of a checkpoint object (never an inherited one). */
export function field(o: Record<string, unknown>, name: string): unknown {
  return Object.hasOwn(o, name) ? o[name] : undefined;
}
