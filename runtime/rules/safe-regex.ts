// Regular expressions for `s.MatchString(re)`. User patterns run on re2js, a pure-JavaScript port
// of RE2: matching is linear in the input, so no pattern can backtrack catastrophically, and the
// syntax is Go's (RE2), the same as Grule's `regexp.MatchString`. Patterns known at compile time
// are compiled once; patterns computed at run time go through a small bounded cache.
import { RE2JS } from 're2js';
import { fail } from './errors.js';

export type SafeRegex = RE2JS;

/** Compiles a pattern, or returns the RE2 syntax error message. */
export function compileRegex(pattern: string): SafeRegex | string {
  try {
    return RE2JS.compile(pattern);
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

const CACHE_LIMIT = 256;
const cache = new Map<string, SafeRegex>();

/** Run-time compile with a bounded cache (oldest entry evicted first). */
export function regexFor(pattern: string): SafeRegex {
  let re = cache.get(pattern);
  if (re) return re;
  const compiled = compileRegex(pattern);
  if (typeof compiled === 'string')
    return fail(`invalid regular expression ${JSON.stringify(pattern)}: ${compiled}`);
  re = compiled;
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
  cache.set(pattern, re);
  return re;
}

/** Unanchored match, as Go's regexp.MatchString. */
export function regexMatch(re: SafeRegex, s: string): boolean {
  return re.test(s);
}
