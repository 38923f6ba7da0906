// Cassandra's Murmur3Partitioner token of a partition key, computed on 32-bit halves. The driver
// hashes every write's routing key to find its replicas (token-aware routing) with a 64-bit integer
// built from four 16-bit limbs, allocating some thirty objects per key; at tens of thousands of
// writes a second that is a tenth of the processor's garbage. This is the same function — the
// first 64 bits of MurmurHash3 x64_128 with Cassandra's sign-extended tail bytes — without the
// garbage, and it hands the driver the token object it would have built (checked against the
// driver's own hash and against the server's token()).
//
// The hash itself is plain TypeScript and always loads. Only the token object is the driver's:
// its classes are reached through the guard, and before a client's tokenizer is replaced its own
// hash and this one must agree on a few keys. Otherwise the driver keeps hashing for itself.
import type cassandra from 'cassandra-driver';
import { defaultFastPaths, type FastPaths } from './fast-paths.js';
import { FastPathName, type FastPathSite } from './guard.js';

// The 64-bit state, as unsigned 32-bit halves in module variables: no allocation per step.
let rh = 0;
let rl = 0;

/** (ah,al) * (bh,bl) mod 2^64 into (rh, rl). */
function mul(ah: number, al: number, bh: number, bl: number): void {
  const a0 = al & 0xffff;
  const a1 = al >>> 16;
  const b0 = bl & 0xffff;
  const b1 = bl >>> 16;
  const p00 = a0 * b0;
  const p01 = a0 * b1;
  const p10 = a1 * b0;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  rl = (((mid & 0xffff) << 16) | (p00 & 0xffff)) >>> 0;
  const carry = (mid >>> 16) + (p01 >>> 16) + (p10 >>> 16) + a1 * b1;
  rh = (carry + Math.imul(ah, bl) + Math.imul(al, bh)) >>> 0;
}

/** Rotate (h,l) left by n (0 < n < 64, n ≠ 32) into (rh, rl). */
function rotl(h: number, l: number, n: number): void {
  if (n > 32) {
    const t = h;
    h = l;
    l = t;
    n -= 32;
  }
  rh = ((h << n) | (l >>> (32 - n))) >>> 0;
  rl = ((l << n) | (h >>> (32 - n))) >>> 0;
}

/** (ah,al) + (bh,bl) mod 2^64 into (rh, rl). */
function add(ah: number, al: number, bh: number, bl: number): void {
  const lo = al + bl;
  rl = lo >>> 0;
  rh = (ah + bh + (lo > 0xffffffff ? 1 : 0)) >>> 0;
}

/** fmix64 of (h,l) into (rh, rl). */
function fmix(h: number, l: number): void {
  l = (l ^ (h >>> 1)) >>> 0; // ^= >>> 33
  mul(h, l, 0xff51afd7, 0xed558ccd);
  h = rh;
  l = (rl ^ (h >>> 1)) >>> 0;
  mul(h, l, 0xc4ceb9fe, 0x1a85ec53);
  h = rh;
  rl = (rl ^ (h >>> 1)) >>> 0;
}

const C1H = 0x87c37b91;
const C1L = 0x114253d5;
const C2H = 0x4cf5ad43;
const C2L = 0x2745937f;

const u32 = (d: Uint8Array, i: number) =>
  (d[i]! | (d[i + 1]! << 8) | (d[i + 2]! << 16) | (d[i + 3]! << 24)) >>> 0;

/** The signed byte, sign-extended to 64 bits and shifted left, into (rh, rl). */
function signedShifted(byte: number, shift: number): void {
  const v = byte > 127 ? byte - 256 : byte;
  let vh = v < 0 ? 0xffffffff : 0;
  let vl = v >>> 0;
  if (shift >= 32) {
    vh = (vl << (shift - 32)) >>> 0;
    vl = 0;
  } else if (shift > 0) {
    vh = ((vh << shift) | (vl >>> (32 - shift))) >>> 0;
    vl = (vl << shift) >>> 0;
  }
  rh = vh;
  rl = vl;
}

/** k scrambled (k * a, rotated left by r, * b) into (rh, rl). */
function scramble(kh: number, kl: number, ah: number, al: number, r: number, bh: number, bl: number): void {
  mul(kh, kl, ah, al);
  rotl(rh, rl, r);
  mul(rh, rl, bh, bl);
}

/** h rotated left by r, plus o, times 5, plus c, into (rh, rl). */
function mix(hh: number, hl: number, r: number, oh: number, ol: number, c: number): void {
  rotl(hh, hl, r);
  add(rh, rl, oh, ol);
  mul(rh, rl, 0, 5);
  add(rh, rl, 0, c);
}

/**
 * Tail bytes from..to-1 as one 64-bit lane into (rh, rl): Cassandra reads them as signed Java
 * bytes, sign-extended to 64 bits before they are shifted into place.
 */
function tailLane(data: Uint8Array, from: number, to: number): void {
  let kh = 0;
  let kl = 0;
  for (let j = to - 1; j >= from; j--) {
    signedShifted(data[j]!, (j - from) * 8);
    kh = (kh ^ rh) >>> 0;
    kl = (kl ^ rl) >>> 0;
  }
  rh = kh;
  rl = kl;
}

/** The token of `data` into (rh, rl). */
function hashInto(data: Uint8Array): void {
  const length = data.length;
  const nblocks = length >> 4;
  let h1h = 0;
  let h1l = 0;
  let h2h = 0;
  let h2l = 0;
  for (let i = 0; i < nblocks; i++) {
    const o = i * 16;
    scramble(u32(data, o + 4), u32(data, o), C1H, C1L, 31, C2H, C2L);
    mix((h1h ^ rh) >>> 0, (h1l ^ rl) >>> 0, 27, h2h, h2l, 0x52dce729);
    h1h = rh;
    h1l = rl;
    scramble(u32(data, o + 12), u32(data, o + 8), C2H, C2L, 33, C1H, C1L);
    mix((h2h ^ rh) >>> 0, (h2l ^ rl) >>> 0, 31, h1h, h1l, 0x38495ab5);
    h2h = rh;
    h2l = rl;
  }
  const tail = nblocks * 16;
  const rest = length & 15;
  if (rest > 8) {
    tailLane(data, tail + 8, tail + rest);
    scramble(rh, rl, C2H, C2L, 33, C1H, C1L);
    h2h = (h2h ^ rh) >>> 0;
    h2l = (h2l ^ rl) >>> 0;
  }
  if (rest > 0) {
    tailLane(data, tail, tail + Math.min(rest, 8));
    scramble(rh, rl, C1H, C1L, 31, C2H, C2L);
    h1h = (h1h ^ rh) >>> 0;
    h1l = (h1l ^ rl) >>> 0;
  }
  // The length, as a non-negative 64-bit value.
  h1l = (h1l ^ length) >>> 0;
  h2l = (h2l ^ length) >>> 0;
  add(h1h, h1l, h2h, h2l);
  h1h = rh;
  h1l = rl;
  add(h2h, h2l, h1h, h1l);
  h2h = rh;
  h2l = rl;
  fmix(h1h, h1l);
  h1h = rh;
  h1l = rl;
  fmix(h2h, h2l);
  add(h1h, h1l, rh, rl);
}

/** The token as [high, low]: unsigned 32-bit halves of the signed 64-bit value. */
export function murmur3(data: Uint8Array): [number, number] {
  hashInto(data);
  return [rh, rl];
}

/** The token as a decimal string, as the server's token() prints it. */
export function murmur3String(data: Uint8Array): string {
  hashInto(data);
  return BigInt.asIntN(64, (BigInt(rh) << 32n) | BigInt(rl)).toString();
}

type MutableLongClass = new (b00: number, b16: number, b32: number, b48: number) => unknown;
type Murmur3TokenClass = new (value: unknown) => { toString(): string; equals(other: unknown): boolean };

/** The driver's classes a Murmur3 token is built from. */
export interface Murmur3TokenInternals {
  MutableLong: MutableLongClass;
  Murmur3Token: Murmur3TokenClass;
}

/** cassandra-driver's MutableLong and Murmur3Token, checked. */
export const cassandraMurmur3Token: FastPathSite<Murmur3TokenInternals> = {
  path: FastPathName.CassandraMurmur3Token,
  pins: [{ name: 'cassandra-driver', version: '4.10.0' }],
  load(ctx) {
    const MutableLong = ctx.require('cassandra-driver/lib/types/mutable-long.js');
    const { Murmur3Token } = ctx.require('cassandra-driver/lib/token.js') as { Murmur3Token?: unknown };
    if (typeof MutableLong !== 'function') return 'lib/types/mutable-long.js exports no class';
    if (typeof Murmur3Token !== 'function') return 'lib/token.js has no class Murmur3Token';
    for (const name of ['equals', 'compare', 'toString'])
      if (typeof (Murmur3Token.prototype as Record<string, unknown>)[name] !== 'function')
        return `Murmur3Token has no function ${name}`;
    return {
      MutableLong: MutableLong as MutableLongClass,
      Murmur3Token: Murmur3Token as Murmur3TokenClass,
    };
  },
};

/** The driver's Murmur3Token for `data`, built from the driver's classes `internals`. */
export function murmur3Token(data: Uint8Array, internals: Murmur3TokenInternals): unknown {
  hashInto(data);
  return new internals.Murmur3Token(
    new internals.MutableLong(rl & 0xffff, rl >>> 16, rh & 0xffff, rh >>> 16),
  );
}

interface DriverTokenizer {
  hash(value: Buffer): unknown;
}

/** Keys whose lengths cover an empty key, every tail lane and a full block, bytes above 127 included. */
const PROBE_KEYS = [0, 1, 7, 8, 9, 15, 16, 17, 31, 33].map((n) =>
  Buffer.from(Array.from({ length: n }, (_, i) => (i * 97 + n * 31) & 0xff)),
);

/** Whether `mine` gives the tokens the tokenizer's own hash gives, for every probe key. */
function agrees(tokenizer: DriverTokenizer, mine: (b: Buffer) => unknown): boolean {
  try {
    for (const key of PROBE_KEYS) {
      const theirs = tokenizer.hash(key) as { equals?: (o: unknown) => boolean; toString(): string };
      const ours = mine(key) as { toString(): string };
      if (typeof theirs?.equals !== 'function' || !theirs.equals(ours)) return false;
      if (theirs.toString() !== ours.toString() || ours.toString() !== murmur3String(key)) return false;
    }
    return true;
  } catch {
    // Token classes that no longer take what they took: not the tokens the driver makes.
    return false;
  }
}

/**
 * Makes the client's Murmur3 tokenizer use this hash. Returns false (and changes nothing) when the
 * cluster uses another partitioner, the fast path is off or disabled, or the tokenizer looks
 * different; the driver's own hash, which gives the same tokens, is used then.
 */
export function useFastMurmur3(client: cassandra.Client, fastPaths: FastPaths = defaultFastPaths()): boolean {
  const tokenizer = (client.metadata as unknown as { tokenizer?: DriverTokenizer } | undefined)?.tokenizer;
  // Another partitioner, or not connected yet: nothing to replace.
  if (!tokenizer || tokenizer.constructor?.name !== 'Murmur3Tokenizer') return false;
  const path = FastPathName.CassandraMurmur3Token;
  const internals = fastPaths.use(cassandraMurmur3Token);
  if (internals && typeof tokenizer.hash !== 'function')
    fastPaths.miss(path, 'the client’s Murmur3Tokenizer has no function hash');
  else if (internals && !agrees(tokenizer, (b) => murmur3Token(b, internals)))
    fastPaths.miss(path, 'the driver’s Murmur3Tokenizer gives other tokens for the probe keys');
  else if (internals) {
    tokenizer.hash = (b) => murmur3Token(b, internals);
    return true;
  }
  fastPaths.fallbacks(path).inc();
  return false;
}
