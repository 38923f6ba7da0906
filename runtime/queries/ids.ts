// Deterministic identities. A result's id is the first 128 bits of SHA-256 over the canonical
// JSON array of what identifies the row, as 32 lower-case hex digits:
//
//   windows (TUMBLING, HOPPING, SESSION): [namespace, pipeline, query, "window", start ms, end ms, key]
//   COUNT windows:                        [namespace, pipeline, query, "count", key, window ordinal]
//   a row per event (no window, SLIDING, lookup joins): [namespace, pipeline, query, "event", event id]
//   patterns:                             [namespace, pipeline, query, "pattern", key, first event's source, its seq]
//   interval joins:                       [namespace, pipeline, query, "join", left event id, right event id or 0]
//
// `key` is the partition key text (canonical JSON of the GROUP BY values, '' without GROUP BY).
// The namespace and pipeline are part of every id so that two pipelines writing to one table never
// collide. A partition is FNV-1a (32-bit) of the key's UTF-8 bytes, modulo the partition count.
import { hash } from 'node:crypto';

export function resultId(parts: readonly (string | number)[]): string {
  return hash('sha256', JSON.stringify(parts), 'hex').slice(0, 32);
}

/**
 * Ids of one query: `idPrefix` is the JSON text of [namespace, pipeline, query] without its `]`,
 * so the hashed text is exactly JSON.stringify([namespace, pipeline, query, ...rest]).
 */
export function idPrefixOf(namespace: string, pipeline: string, query: string): string {
  return `${JSON.stringify([namespace, pipeline, query]).slice(0, -1)},`;
}

export function queryResultId(idPrefix: string, rest: readonly (string | number)[]): string {
  return idOfText(idPrefix + JSON.stringify(rest).slice(1));
}

/** The id of a row per event: the id items ["event", event id], without building the array. */
export function eventResultId(idPrefix: string, eventId: string): string {
  return idOfText(`${idPrefix}"event",${jsonString(eventId)}]`);
}

/**
 * The JSON text of a window's id items up to its key — `[namespace, pipeline, query, "window",
 * start, end,` — to which the key's item and `]` are joined (idTailOf in windows/operator.ts).
 */
export function windowIdHead(idPrefix: string, start: number, end: number): string {
  return `${idPrefix}"window",${msText(start)},${msText(end)},`;
}

/**
 * `JSON.stringify(s)` for a string, without its general escaping when `s` is printable ASCII
 * other than a backslash or a quote (event ids usually are): `s` in quotes. Anything else, key
 * texts among them (JSON with quotes), is JSON.stringify's: 100 ns where escaping the quotes with
 * replaceAll took 200.
 */
export function jsonString(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x5c || c === 0x22) return JSON.stringify(s);
  }
  return `"${s}"`;
}

const ZEROS = '00000000';

/**
 * An integer time as JSON writes it. Times since January 1970 are past V8's small integers (2^31
 * ms), and writing such a double is slow; two small integers, the digits above and below 10^8,
 * are much quicker to write. The floor of the quotient is exact for safe integers: it is at most
 * 2^53 / 10^8, where doubles are spaced by less than 2 × 10^-8, so ms / 10^8 never rounds up to
 * the next integer.
 */
export function msText(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < 1e8) return `${ms}`;
  const hi = Math.floor(ms / 1e8);
  const low = `${ms - hi * 1e8}`;
  return `${hi}${ZEROS.slice(low.length)}${low}`;
}

/** The id of an already built JSON array text. */
export function idOfText(text: string): string {
  return hash('sha256', text, 'hex').slice(0, 32);
}

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** FNV-1a, 32 bits, over the UTF-8 encoding of `s` (lone surrogates as U+FFFD, as TextEncoder). */
export function fnv1a32(s: string): number {
  let h = FNV_OFFSET;
  const byte = (b: number): void => {
    h = Math.imul(h ^ b, FNV_PRIME);
  };
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      byte(c);
      continue;
    }
    if (c < 0x800) {
      byte(0xc0 | (c >> 6));
      byte(0x80 | (c & 0x3f));
      continue;
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      const next = s.charCodeAt(i + 1);
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
        i++;
        byte(0xf0 | (c >> 18));
        byte(0x80 | ((c >> 12) & 0x3f));
        byte(0x80 | ((c >> 6) & 0x3f));
        byte(0x80 | (c & 0x3f));
        continue;
      }
      c = 0xfffd;
    }
    byte(0xe0 | (c >> 12));
    byte(0x80 | ((c >> 6) & 0x3f));
    byte(0x80 | (c & 0x3f));
  }
  return h >>> 0;
}

export function partitionOf(key: string, partitions: number): number {
  if (!Number.isSafeInteger(partitions) || partitions < 1) {
    throw new RangeError(`partitions must be a positive integer, got ${partitions}`);
  }
  return partitions === 1 ? 0 : fnv1a32(key) % partitions;
}
