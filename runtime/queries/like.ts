// SQL LIKE: `%` matches any run of characters, `_` exactly one character (code point), and a
// backslash makes the next character literal (as in PostgreSQL). Matching is case-sensitive and
// runs in O(text × pattern) at worst — no backtracking blow-up, no regular expression. Patterns
// known at compile time are compiled once; computed patterns go through a small bounded cache.

export type LikeMatcher = (text: string) => boolean;

const ANY = -1;
const ONE = -2;

function codePoints(s: string): number[] {
  const out: number[] = [];
  for (const ch of s) out.push(ch.codePointAt(0)!);
  return out;
}

function parsePattern(pattern: string): number[] {
  const out: number[] = [];
  const cps = codePoints(pattern);
  for (let i = 0; i < cps.length; i++) {
    const c = cps[i]!;
    if (c === 0x5c && i + 1 < cps.length) out.push(cps[++i]!);
    else if (c === 0x25) {
      if (out[out.length - 1] !== ANY) out.push(ANY);
    } else if (c === 0x5f) out.push(ONE);
    else out.push(c);
  }
  return out;
}

function matchCodePoints(s: number[], p: number[]): boolean {
  let si = 0;
  let pi = 0;
  let starP = -1;
  let starS = 0;
  while (si < s.length) {
    const pc = pi < p.length ? p[pi]! : undefined;
    if (pc === ANY) {
      starP = pi++;
      starS = si;
    } else if (pc !== undefined && (pc === ONE || pc === s[si])) {
      si++;
      pi++;
    } else if (starP >= 0) {
      pi = starP + 1;
      si = ++starS;
    } else return false;
  }
  while (pi < p.length && p[pi] === ANY) pi++;
  return pi === p.length;
}

/** The literal text of pattern parts that hold no wildcard, or undefined. */
function literal(parts: number[]): string | undefined {
  if (parts.some((c) => c < 0)) return undefined;
  return String.fromCodePoint(...parts);
}

export function compileLike(pattern: string): LikeMatcher {
  const parts = parsePattern(pattern);
  // Fast paths for the common shapes: 'abc', 'abc%', '%abc', '%abc%'.
  const lead = parts[0] === ANY ? 1 : 0;
  const trail = parts.length > lead && parts[parts.length - 1] === ANY ? 1 : 0;
  const middle = literal(parts.slice(lead, parts.length - trail));
  if (middle !== undefined) {
    if (lead && trail) return (s) => s.includes(middle);
    if (lead) return (s) => s.endsWith(middle);
    if (trail) return (s) => s.startsWith(middle);
    return (s) => s === middle;
  }
  return (s) => matchCodePoints(codePoints(s), parts);
}

const CACHE_LIMIT = 256;
const cache = new Map<string, LikeMatcher>();

/** Matcher for a pattern computed at run time (bounded cache, oldest evicted first). */
export function likeFor(pattern: string): LikeMatcher {
  let m = cache.get(pattern);
  if (m) return m;
  m = compileLike(pattern);
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
  cache.set(pattern, m);
  return m;
}
