// Every way HTTP ingest refuses input: the status, the message, and nothing stored.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { natsEnv } from '../../stack/context.js';
import { bearer, post, startHarness, TOKENS, type Harness } from './harness.js';

const CE = 'application/cloudevents+json';
const BATCH = 'application/cloudevents-batch+json';
const ev = (id: string, extra: Record<string, unknown> = {}) => ({
  specversion: '1.0',
  id,
  source: '/rej',
  type: 'com.example.rej',
  data: { n: 1 },
  ...extra,
});

describe('HTTP ingest refusals', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      natsUrl: natsEnv().url,
      config: {
        limits: { maxBodyBytes: '2Ki', maxBatchEvents: 5 },
        schemas: {
          'com.example.order': {
            type: 'object',
            required: ['amount'],
            properties: { amount: { type: 'number', minimum: 0 } },
          },
        },
      },
    });
  });
  afterAll(async () => {
    await h?.close();
  });

  const send = (body: unknown, contentType = CE, token = TOKENS.shop) =>
    post(h.httpUrl, typeof body === 'string' ? body : JSON.stringify(body), {
      ...bearer(token),
      'content-type': contentType,
    });

  it('requires a known bearer token and never logs it', async () => {
    const none = await post(h.httpUrl, JSON.stringify(ev('a1')), { 'content-type': CE });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toContain('Bearer');
    expect(none.body.message).toContain('bearer token');
    const wrong = await send(ev('a2'), CE, 'not-a-token');
    expect(wrong.status).toBe(401);
    const basic = await post(h.httpUrl, JSON.stringify(ev('a3')), {
      authorization: `Basic ${TOKENS.shop}`,
      'content-type': CE,
    });
    expect(basic.status).toBe(401);
    const text = h.logLines.join('\n');
    expect(text).not.toContain(TOKENS.shop);
    expect(text).not.toContain(TOKENS.billing);
    expect(text).not.toContain('not-a-token');
  });

  it('answers 400 naming the problem for invalid events', async () => {
    const cases: [unknown, string, RegExp][] = [
      ['{not json', CE, /not valid JSON/],
      [{ ...ev('b1'), id: undefined }, CE, /required attribute "id" is missing/],
      [ev('bad\r\nid'), CE, /attribute "id" must not contain a line break/],
      [ev('b2', { specversion: '0.3' }), CE, /only CloudEvents 1.0/],
      [ev('b3', { time: 'tomorrow' }), CE, /"time" must be an RFC 3339 timestamp/],
      [
        ev('b4', { type: 'order created' }),
        CE,
        /attribute "type" "order created" cannot be used as a NATS subject/,
      ],
      [ev('b5', { type: 'com.example.*' }), CE, /wildcard "\*"/],
      [{ eventType: 'bad..type' }, 'application/json', /attribute "type" "bad..type" .*empty token/],
      ['[1,', 'application/json', /request body is not valid JSON/],
      [{ not: 'an array' }, BATCH, /must be a JSON array/],
    ];
    for (const [body, ct, message] of cases) {
      const r = await send(body, ct);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error).toBe('invalid');
      expect(r.body.message).toMatch(message);
    }
  });

  it('rejects data that fails its type JSON Schema with the schema error', async () => {
    const r = await send(ev('s1', { type: 'com.example.order', data: { amount: -5 } }));
    expect(r.status).toBe(400);
    expect(r.body.error).toBe('schema');
    expect(r.body.message).toBe(
      'event "s1" does not match the schema for type com.example.order: data/amount must be >= 0',
    );
    const missing = await send(ev('s2', { type: 'com.example.order', data: {} }));
    expect(missing.body.message).toContain("must have required property 'amount'");
    const ok = await send(ev('s3', { type: 'com.example.order', data: { amount: 5 } }));
    expect(ok.status).toBe(202);
  });

  it('answers 413 for oversized bodies and batches, 415 for other media types, 404/405 elsewhere', async () => {
    const big = await send(ev('big', { data: 'x'.repeat(3000) }));
    expect(big.status).toBe(413);
    expect(big.body.message).toContain('limit of 2048 bytes (limits.maxBodyBytes)');
    const many = await send(
      [1, 2, 3, 4, 5, 6].map((i) => ev(`m${i}`)),
      BATCH,
    );
    expect(many.status).toBe(413);
    expect(many.body.message).toContain('batch has 6 events, over the limit of 5');
    const xml = await send('<event/>', 'application/xml');
    expect(xml.status).toBe(415);
    expect(xml.body.message).toContain('application/cloudevents+json');
    expect((await post(h.httpUrl.replace('/events', '/other'), '{}', bearer(TOKENS.shop))).status).toBe(404);
    expect((await fetch(h.httpUrl, { headers: bearer(TOKENS.shop) })).status).toBe(405);
  });

  it('reports a partly invalid batch event by event with 207', async () => {
    const r = await send(
      [ev('p1'), { specversion: '1.0', id: 'p2', type: 'x' }, ev('p3', { type: 'a b' })],
      BATCH,
      TOKENS.billing,
    );
    expect(r.status).toBe(207);
    expect(r.body.accepted).toBe(1);
    expect(r.body.rejected).toBe(2);
    const results = r.body.results as Record<string, unknown>[];
    expect(results[0]).toEqual({ index: 0, id: 'p1', status: 202, duplicate: false });
    expect(results[1]).toMatchObject({ index: 1, status: 400, error: 'invalid' });
    expect(results[1]!.message).toContain('"source" is missing');
    expect(results[2]).toMatchObject({ index: 2, id: 'p3', status: 400, error: 'invalid' });
    const all = await send([{ nope: 1 }], BATCH, TOKENS.billing);
    expect(all.status).toBe(400);
  });

  it('stores none of the refused events', async () => {
    const stored = new Set((await h.read()).map((s) => s.event.id));
    for (const id of ['a1', 'a2', 'a3', 'b1', 'b2', 'b5', 's1', 's2', 'big', 'm1', 'p2', 'p3']) {
      expect(stored.has(id), id).toBe(false);
    }
    expect(stored.has('p1')).toBe(true);
    expect(stored.has('s3')).toBe(true);
  });

  it('counts accepted and rejected events by reason in /metrics', async () => {
    const text = await (await fetch(`${h.opsUrl}/metrics`)).text();
    expect(text).toMatch(/eventrunner_ingest_events_rejected_total\{[^}]*reason="unauthenticated"[^}]*\} 3/);
    expect(text).toMatch(
      /eventrunner_ingest_events_rejected_total\{[^}]*reason="schema"[^}]*client="shop"[^}]*\} 2/,
    );
    expect(text).toMatch(
      /eventrunner_ingest_events_accepted_total\{[^}]*mode="batch",client="billing"[^}]*\} 1/,
    );
    expect(text).toMatch(/eventrunner_ingest_publish_duration_seconds_count\{[^}]*\} [1-9]/);
    expect(text).toMatch(/eventrunner_ingest_requests_total\{[^}]*code="413"[^}]*\} 2/);
  });
});

describe('HTTP ingest rate limits', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      natsUrl: natsEnv().url,
      config: { limits: { maxBatchEvents: 3, ratePerSecond: 0.1, burst: 3 } },
    });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('limits each client to its rate with 429 and Retry-After, independently of other clients', async () => {
    const batch = (token: string, ids: string[]) =>
      post(h.httpUrl, JSON.stringify(ids.map((id) => ev(id))), { ...bearer(token), 'content-type': BATCH });
    const first = await batch(TOKENS.shop, ['r1', 'r2']);
    expect(first.status).toBe(200);
    // One token left in the bucket; a batch of two is refused whole, not half-admitted.
    const limited = await batch(TOKENS.shop, ['r3', 'r4']);
    expect(limited.status).toBe(429);
    expect(limited.body.message).toContain('client shop is over its rate limit');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const single = await post(h.httpUrl, JSON.stringify(ev('r5')), {
      ...bearer(TOKENS.shop),
      'content-type': CE,
    });
    expect(single.status).toBe(202);
    const after = await post(h.httpUrl, JSON.stringify(ev('r6')), {
      ...bearer(TOKENS.shop),
      'content-type': CE,
    });
    expect(after.status).toBe(429);
    // Another client has its own bucket.
    const other = await batch(TOKENS.billing, ['o1', 'o2', 'o3']);
    expect(other.status).toBe(200);

    const stored = (await h.read()).map((s) => s.event.id).sort();
    expect(stored).toEqual(['o1', 'o2', 'o3', 'r1', 'r2', 'r5']);
    const text = await (await fetch(`${h.opsUrl}/metrics`)).text();
    expect(text).toMatch(
      /eventrunner_ingest_events_rejected_total\{[^}]*reason="rate_limited",client="shop"[^}]*\} 3/,
    );
  });
});
