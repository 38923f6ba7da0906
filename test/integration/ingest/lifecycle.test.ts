// Readiness follows the stream, and a rotated tokens file takes effect without a restart.
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { natsEnv } from '../../stack/context.js';
import { bearer, post, startHarness, TOKENS, type Harness } from './harness.js';

async function until(what: string, fn: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const event = (id: string) =>
  JSON.stringify({ specversion: '1.0', id, source: '/life', type: 'com.example.life', data: {} });
const CE = { 'content-type': 'application/cloudevents+json' };

describe('ingest life cycle', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      natsUrl: natsEnv().url,
      createStream: false,
      config: { auth: { reloadIntervalMs: 100 } },
    });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('is unready and answers 503 until its stream exists', async () => {
    const readyz = await fetch(`${h.opsUrl}/readyz`);
    expect(readyz.status).toBe(503);
    expect(await readyz.text()).toMatch(new RegExp(`stream: stream ${h.stream}: .*not found`));
    const r = await post(h.httpUrl, event('l1'), { ...bearer(TOKENS.shop), ...CE });
    expect(r.status).toBe(503);
    expect(r.headers.get('retry-after')).toBe('2');
    expect(r.body.message).toContain(`no JetStream stream answers on ${h.prefix}.com.example.life`);

    await h.jsm.streams.add({ name: h.stream, subjects: [`${h.prefix}.>`] });
    await until('readyz', async () => (await fetch(`${h.opsUrl}/readyz`)).status === 200);
    expect((await post(h.httpUrl, event('l1'), { ...bearer(TOKENS.shop), ...CE })).status).toBe(202);
  });

  it('picks up a rotated tokens file', async () => {
    const tokensFile = h.config.auth.tokensFile!;
    writeFileSync(tokensFile, 'shop: rotated-token-9876\n');
    await until(
      'the new token',
      async () =>
        (await post(h.httpUrl, event('l2'), { ...bearer('rotated-token-9876'), ...CE })).status === 202,
    );
    expect((await post(h.httpUrl, event('l3'), { ...bearer(TOKENS.shop), ...CE })).status).toBe(401);
    expect(h.logLines.some((l) => l.includes('Reloaded bearer tokens'))).toBe(true);
    expect(h.logLines.join('\n')).not.toContain('rotated-token-9876');
  });
});
