// The shapes the compatibility checker and its per-keyword checks share.
import type { JsonSchema } from './json-schema.js';

/** One way the new schema refuses something the old one accepted. */
export interface BreakingChange {
  /** JSON pointer into the new schema where the change is (`''` for the root). */
  path: string;
  message: string;
}

export interface Checker {
  /** Does `nw` accept every instance that satisfies all of `old`? The first counterexample path if not. */
  check(old: readonly JsonSchema[], nw: JsonSchema, path: string): BreakingChange | undefined;
}
