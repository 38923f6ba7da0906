// A NATS outage: ingest answers 503 with Retry-After and reports not ready, never acknowledges an
// event that is not in the stream, and recovers by itself when NATS is back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNats, type NatsServer } from '../../stack/nats.js';
import { bearer, post, startHarness, TOKENS, type Harness } from './harness.js';

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('ingest during a NATS outage', () => {
  let nats: NatsServer;
  let h: Harness;
  beforeAll(async () => {
    nats = await startNats('nats-ingest-outage');
    h = await startHarness({ natsUrl: nats.url, config: { publish: { timeoutMs: 1000 } } });
  });
  afterAll(async () => {
    await h?.close();
    await nats?.stop();
  });

  it('refuses with 503 while NATS is away, acknowledges only stored events, and recovers', async () => {
    const headers = { ...bearer(TOKENS.shop), 'content-type': 'application/cloudevents+json' };
    const event = (id: string) =>
      JSON.stringify({ specversion: '1.0', id, source: '/outage', type: 'com.example.outage', data: { id } });
    const readyz = async () => (await fetch(`${h.opsUrl}/readyz`)).status;
    expect(await readyz()).toBe(200);

    // Producers keep sending unique events throughout; every 202 must end up in the stream.
    const accepted = new Set<string>();
    const refused = new Map<string, { status: number; retryAfter: string | null; message: unknown }>();
    let stop = false;
    let seq = 0;
    const producer = async () => {
      while (!stop) {
        const id = `o-${seq++}`;
        try {
          const r = await post(h.httpUrl, event(id), headers);
          if (r.status === 202) accepted.add(id);
          else
            refused.set(id, {
              status: r.status,
              retryAfter: r.headers.get('retry-after'),
              message: r.body.message,
            });
        } catch {
          // A connection reset is no acknowledgement either.
        }
      }
    };
    const producers = [producer(), producer(), producer()];
    await until('events accepted before the outage', async () => (accepted.size >= 20 ? true : undefined));

    await nats.pause();
    await until('readyz to fail', async () => ((await readyz()) === 503 ? true : undefined));
    const body = await (await fetch(`${h.opsUrl}/readyz`)).text();
    expect(body).toContain('nats: disconnected');
    const acceptedAtOutage = accepted.size;
    await until('503s during the outage', async () => (refused.size >= 10 ? true : undefined));
    for (const r of refused.values()) {
      expect(r.status).toBe(503);
      expect(Number(r.retryAfter)).toBeGreaterThanOrEqual(1);
    }
    expect([...refused.values()].some((r) => String(r.message).includes('NATS is unreachable'))).toBe(true);

    await nats.resume();
    await until('readyz to pass again', async () => ((await readyz()) === 200 ? true : undefined));
    await until('events accepted after the outage', async () =>
      accepted.size >= acceptedAtOutage + 20 ? true : undefined,
    );
    stop = true;
    await Promise.all(producers);

    // The test's own connection reconnects on its own schedule.
    await until('the test connection to be back', () =>
      h.jsm.streams.info(h.stream).then(
        () => true,
        () => undefined,
      ),
    );
    const stored = new Set((await h.read()).map((s) => s.event.id));
    const falseAcks = [...accepted].filter((id) => !stored.has(id));
    expect(falseAcks).toEqual([]);

    // A producer retrying refused events with the same ids gets them stored exactly once.
    const retry = [...refused.keys()].slice(0, 5);
    for (const id of retry) expect((await post(h.httpUrl, event(id), headers)).status).toBe(202);
    for (const id of retry) expect((await post(h.httpUrl, event(id), headers)).body.duplicate).toBe(true);
    const after = (await h.read()).map((s) => s.event.id);
    for (const id of retry) expect(after.filter((x) => x === id)).toHaveLength(1);
    expect(h.logLines.some((l) => l.includes('Disconnected from NATS'))).toBe(true);
    expect(h.logLines.some((l) => l.includes('Reconnected to NATS'))).toBe(true);
  });
});
