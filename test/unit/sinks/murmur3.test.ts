import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { murmur3String, murmur3Token } from '../../../runtime/sinks/murmur3.js';

const require = createRequire(import.meta.url);
const { Murmur3Tokenizer } = require('cassandra-driver/lib/tokenizer.js') as {
  Murmur3Tokenizer: new () => { hash(b: Buffer): { toString(): string; compare(o: unknown): number } };
};
const driver = new Murmur3Tokenizer();

describe('Murmur3 tokens', () => {
  it('equal the driver’s for keys of every tail length, bytes above 127 included', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 80 }), (bytes) => {
        const b = Buffer.from(bytes);
        const want = driver.hash(b);
        expect(murmur3String(b)).toBe(want.toString());
        const got = murmur3Token(b) as { toString(): string };
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
