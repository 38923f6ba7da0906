import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Registry } from 'prom-client';
import type cassandra from 'cassandra-driver';
import { FastPaths } from '../../../runtime/internals/fast-paths.js';
import { checkSite, defaultLoadContext, type LoadContext } from '../../../runtime/internals/guard.js';
import {
  cassandraMurmur3Token,
  murmur3String,
  murmur3Token,
  useFastMurmur3,
} from '../../../runtime/internals/murmur3.js';
import { captureLog, fastPathMetricValues } from './capture.js';

const require = createRequire(import.meta.url);
type DriverToken = { toString(): string; compare(o: unknown): number; equals(o: unknown): boolean };
const { Murmur3Tokenizer } = require('cassandra-driver/lib/tokenizer.js') as {
  Murmur3Tokenizer: new () => { hash(b: Buffer): DriverToken };
};
const driver = new Murmur3Tokenizer();

/** What useFastMurmur3 reads of a connected client: its metadata's tokenizer. */
function clientWith(tokenizer: { hash(b: Buffer): unknown }): cassandra.Client {
  return { metadata: { tokenizer } } as unknown as cassandra.Client;
}

describe('Murmur3 tokens', () => {
  const status = checkSite(cassandraMurmur3Token);
  if (!status.enabled) throw new Error(status.detail);
  const internals = status.internals;

  it('equal the driver’s for keys of every tail length, bytes above 127 included', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 80 }), (bytes) => {
        const b = Buffer.from(bytes);
        const want = driver.hash(b);
        expect(murmur3String(b)).toBe(want.toString());
        const got = murmur3Token(b, internals) as { toString(): string };
        expect(got.toString()).toBe(want.toString());
        expect(want.compare(got)).toBe(0);
      }),
      { numRuns: 3000 },
    );
  });

  it('hash the empty key to 0, as MurmurHash3 with seed 0 does', () => {
    expect(murmur3String(Buffer.alloc(0))).toBe('0');
  });
});

describe('useFastMurmur3', () => {
  const keys = fc.sample(fc.uint8Array({ maxLength: 40 }), 300).map((b) => Buffer.from(b));

  it('replaces the tokenizer’s hash with one giving the same tokens', () => {
    const tokenizer = new Murmur3Tokenizer();
    expect(useFastMurmur3(clientWith(tokenizer), new FastPaths())).toBe(true);
    expect(tokenizer.hash).not.toBe(Murmur3Tokenizer.prototype.hash);
    for (const k of keys) expect(tokenizer.hash(k).equals(driver.hash(k))).toBe(true);
  });

  it('leaves the driver’s hash, which gives the pure hash’s tokens, when its files moved', () => {
    const moved: LoadContext = {
      ...defaultLoadContext,
      require: (id) => {
        if (id.endsWith('lib/token.js'))
          throw Object.assign(new Error(`Cannot find module '${id}'`), { code: 'MODULE_NOT_FOUND' });
        return defaultLoadContext.require(id);
      },
    };
    const { log, lines } = captureLog();
    const registry = new Registry();
    const fastPaths = new FastPaths({ log, registry, loadContext: moved });
    const tokenizer = new Murmur3Tokenizer();
    expect(useFastMurmur3(clientWith(tokenizer), fastPaths)).toBe(false);
    expect(useFastMurmur3(clientWith(new Murmur3Tokenizer()), fastPaths)).toBe(false);
    expect(tokenizer.hash).toBe(Murmur3Tokenizer.prototype.hash);
    for (const k of keys) expect(tokenizer.hash(k).toString()).toBe(murmur3String(k));
    expect(lines()).toEqual([
      expect.objectContaining({
        level: 'warn',
        path: 'cassandra-murmur3-token',
        reason: 'missing',
        detail: 'MODULE_NOT_FOUND',
      }),
    ]);
    return expect(fastPathMetricValues(registry)).resolves.toEqual({
      enabled: { 'cassandra-murmur3-token': 0 },
      fallbacks: { 'cassandra-murmur3-token': 2 },
    });
  });

  it('leaves a tokenizer alone whose own hash disagrees on the probe keys', () => {
    const { log, lines } = captureLog();
    const fastPaths = new FastPaths({ log });
    const other = { hash: (b: Buffer) => driver.hash(Buffer.concat([b, Buffer.of(1)])) };
    Object.defineProperty(other, 'constructor', { value: Murmur3Tokenizer });
    const before = other.hash;
    expect(useFastMurmur3(clientWith(other), fastPaths)).toBe(false);
    expect(other.hash).toBe(before);
    expect(lines()).toEqual([expect.objectContaining({ level: 'warn', reason: 'shape' })]);
  });

  it('changes nothing for another partitioner', () => {
    class RandomTokenizer {
      hash = (b: Buffer) => b;
    }
    const t = new RandomTokenizer();
    const before = t.hash;
    expect(useFastMurmur3(clientWith(t), new FastPaths())).toBe(false);
    expect(t.hash).toBe(before);
  });
});
