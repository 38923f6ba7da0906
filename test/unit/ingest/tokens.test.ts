import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bearerToken, parseTokens, TokenStore } from '../../../runtime/ingest/tokens.js';
import { RateLimiter } from '../../../runtime/ingest/rate-limit.js';

describe('tokens file', () => {
  it('reads anonymous and named tokens, skipping comments and blank lines', () => {
    const entries = parseTokens('# comment\n\nabc123\nshop: s3cr3t\n  def456  \nbilling:b1ll\n', 'f');
    expect(entries.map((e) => e.client)).toEqual(['token-1', 'shop', 'token-2', 'billing']);
  });

  it('rejects malformed lines without echoing them', () => {
    let msg = '';
    try {
      parseTokens('good\ntwo words here\n', 'tokens');
    } catch (err) {
      msg = (err as Error).message;
    }
    expect(msg).toBe('tokens:2: expected "<token>" or "<name>: <token>"');
    expect(() => parseTokens('a: x\na: y\n', 't')).toThrow(/client name "a" appears twice/);
  });

  it('authenticates by constant-time digest comparison and reloads rotated files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'eventrunner-tokens-'));
    const path = join(dir, 'tokens');
    writeFileSync(path, 'shop: one\nbilling: two\n');
    const store = new TokenStore(path);
    expect(await store.load()).toBe(true);
    expect(store.authenticate('one')).toBe('shop');
    expect(store.authenticate('two')).toBe('billing');
    expect(store.authenticate('on')).toBeUndefined();
    expect(store.authenticate('')).toBeUndefined();
    expect(await store.load()).toBe(false);
    writeFileSync(path, 'shop: three\n');
    expect(await store.load()).toBe(true);
    expect(store.authenticate('one')).toBeUndefined();
    expect(store.authenticate('three')).toBe('shop');
    writeFileSync(path, '# nothing\n');
    await expect(store.load()).rejects.toThrow(/holds no tokens/);
    expect(store.authenticate('three')).toBe('shop');
  });

  it('extracts bearer tokens', () => {
    expect(bearerToken('Bearer abc')).toBe('abc');
    expect(bearerToken('bearer   abc ')).toBe('abc');
    expect(bearerToken('Basic abc')).toBeUndefined();
    expect(bearerToken('Bearer a b')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });
});

describe('rate limiter', () => {
  it('refills continuously up to the burst and admits batches whole', () => {
    let t = 0;
    const rl = new RateLimiter(10, 20, () => t);
    expect(rl.take('a', 20)).toBe(0);
    expect(rl.take('a', 1)).toBeCloseTo(0.1);
    expect(rl.take('b', 5)).toBe(0); // its own bucket
    t = 500; // +5 tokens
    expect(rl.take('a', 6)).toBeCloseTo(0.1);
    expect(rl.take('a', 5)).toBe(0);
    t = 100_000;
    expect(rl.take('a', 20)).toBe(0); // capped at burst, not 1000
    expect(rl.take('a', 1)).toBeGreaterThan(0);
  });

  it('is off at rate 0', () => {
    const rl = new RateLimiter(0, 1);
    for (let i = 0; i < 100; i++) expect(rl.take('a', 1000)).toBe(0);
  });
});
