// Webhook outputs against a real HTTP(S) receiver in the test, with `eventrunner process` as a
// child process on the stack's NATS: retried answers (500, dropped connections, 429 with
// Retry-After) end with every event accepted once and none lost; 404 dead-letters with the status
// and the answer's start; a receiver slower than AckWait gets no redelivered copies and no
// duplicate dead letters; TLS with a CA, bearer auth, structured and batch modes.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { CloudEvent } from '../../../runtime/events/index.js';
import { natsEnv } from '../../stack/context.js';
import { makeServerTls } from '../../stack/tls.js';
import { startReceiver, type Receiver } from '../../support/webhook-receiver.js';
import { consumerState } from './checks.js';
import {
  metric,
  names,
  natsSetup,
  publish,
  readDeadLetters,
  secretFiles,
  startProcess,
  stopProcess,
  waitFor,
  writeConfig,
  type Names,
} from './support.js';

function orders(n: number, run: string): CloudEvent[] {
  return Array.from({ length: n }, (_, i) => ({
    specversion: '1.0',
    id: `${run}-${i}`,
    source: '/shop/web',
    type: 'com.shop.order.created',
    subject: `order/${i}`,
    datacontenttype: 'application/json',
    data: { amount: 100 + i, n: i },
  }));
}

/** A processor config with one webhook output that every event goes to. */
function webhookConfig(
  n: Names,
  http: Record<string, unknown>,
  extra: { maxDeliver?: number; backoff?: string[]; credentials?: Record<string, string> } = {},
): object {
  return {
    pipeline: { namespace: 'test', name: n.consumer },
    nats: { url: natsEnv().url },
    sources: [{ eventSource: 'shop', stream: n.stream, consumer: n.consumer }],
    rules: { source: '' },
    outputs: [
      { name: 'notify', sink: { http }, ...(extra.credentials ? { credentials: extra.credentials } : {}) },
    ],
    delivery: {
      maxDeliver: extra.maxDeliver ?? 10,
      backoff: extra.backoff ?? ['100ms'],
      maxAckPending: 1000,
    },
    deadLetter: { stream: n.dlqStream, subject: n.dlqSubject },
    ops: { port: 0, host: '127.0.0.1' },
    shutdownGracePeriod: '10s',
    // The tests find the ops port in the info log.
    logLevel: 'info',
  };
}

describe('webhook outputs', () => {
  let nc: NatsConnection;
  let receiver: Receiver;

  beforeAll(async () => {
    nc = await connect({ servers: natsEnv().url });
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await receiver?.close();
    await nc?.close();
  });

  /** Runs `events` through a processor to a webhook until `done`, then stops it cleanly. */
  async function run(
    tag: string,
    http: Record<string, unknown>,
    events: CloudEvent[],
    done: () => Promise<boolean> | boolean,
    extra: Parameters<typeof webhookConfig>[2] & { ackWaitMs?: number } = {},
  ) {
    const n = names(tag);
    const { nc: admin } = await natsSetup(natsEnv().url, n, {
      maxDeliver: extra.maxDeliver ?? 10,
      ...(extra.ackWaitMs ? { ackWaitMs: extra.ackWaitMs } : {}),
    });
    const proc = await startProcess(writeConfig(webhookConfig(n, http, extra)));
    try {
      await publish(admin, n.prefix, events);
      await waitFor(done, 90_000, `${tag}: deliveries settled`);
      await waitFor(
        async () => {
          const s = await consumerState(nc, n.stream, n.consumer);
          return s.pending === 0 && s.ackPending === 0;
        },
        60_000,
        `${tag}: every event settled`,
      );
      return { n, proc, deadLetters: await readDeadLetters(nc, n.dlqStream) };
    } finally {
      expect((await stopProcess(proc)).code).toBe(0);
      await admin.close();
    }
  }

  it('delivers every event once after 500s and dropped connections, each retry carrying the same id', async () => {
    const events = orders(300, 'retry');
    // Every third event fails twice first: a 500, then a dropped connection.
    receiver.setRespond((ids, attempt) => {
      const i = Number(ids[0]!.split('-')[1]);
      if (i % 3 === 0 && attempt === 1) return { status: 500, body: 'try again' };
      if (i % 3 === 0 && attempt === 2) return { drop: true };
      return { status: 204 };
    });
    const { deadLetters } = await run(
      'hook',
      { url: `${receiver.url}/orders`, maxConcurrency: 8 },
      events,
      () => events.every((e) => receiver.accepted().get(e.id) === 1),
    );
    expect(deadLetters).toEqual([]);
    for (const [i, e] of events.entries()) {
      const tries = receiver.attempts(e.id);
      // Duplicates only as retries of a failed attempt: exactly one accepted, never lost.
      expect(tries.map((t) => t.status)).toEqual(i % 3 === 0 ? [500, 0, 204] : [204]);
      expect(receiver.accepted().get(e.id)).toBe(1);
    }
    // Binary mode: attributes in ce-* headers, the data as the body.
    const first = receiver.attempts(events[1]!.id)[0]!;
    expect(first.method).toBe('POST');
    expect(first.path).toBe('/orders');
    expect(first.headers).toMatchObject({
      'ce-id': events[1]!.id,
      'ce-type': 'com.shop.order.created',
      'ce-source': '/shop/web',
      'content-type': 'application/json',
    });
    expect(JSON.parse(first.body.toString())).toEqual(events[1]!.data);
    expect(receiver.maxInFlight()).toBeLessThanOrEqual(8);
  });

  it('dead-letters 404s with the status and the start of the answer, and delivers the rest', async () => {
    const events = orders(60, 'gone');
    receiver.setRespond((ids) =>
      Number(ids[0]!.split('-')[1]) % 4 === 0
        ? { status: 404, body: '{"error": "no subscriber for this order"}' }
        : { status: 200 },
    );
    const poison = new Set(events.filter((_, i) => i % 4 === 0).map((e) => e.id));
    const { deadLetters, proc } = await run(
      'h404',
      { url: `${receiver.url}/hook`, mode: 'structured' },
      events,
      () =>
        events.every((e) =>
          poison.has(e.id) ? receiver.attempts(e.id).length > 0 : receiver.accepted().get(e.id) === 1,
        ),
    );
    expect(new Set(deadLetters.map((d) => d.id))).toEqual(poison);
    expect(deadLetters).toHaveLength(poison.size);
    for (const d of deadLetters) {
      expect(d.reason).toBe(
        'output notify rejected the event: HTTP 404 Not Found: {"error": "no subscriber for this order"}',
      );
      expect(d.output).toBe('notify');
      // Poison is not retried.
      expect(receiver.attempts(d.id!)).toHaveLength(1);
    }
    for (const e of events) if (!poison.has(e.id)) expect(receiver.accepted().get(e.id)).toBe(1);
    expect(proc.child.exitCode).toBe(0);
  });

  it('waits out Retry-After before retrying a 429, whatever the shorter backoff says', async () => {
    const events = orders(20, 'limit');
    receiver.setRespond((_, attempt) =>
      attempt === 1 ? { status: 429, headers: { 'Retry-After': '2' }, body: 'slow down' } : { status: 200 },
    );
    const { deadLetters } = await run(
      'h429',
      { url: `${receiver.url}/hook` },
      events,
      () => events.every((e) => receiver.accepted().get(e.id) === 1),
      { backoff: ['100ms'] },
    );
    expect(deadLetters).toEqual([]);
    for (const e of events) {
      const [first, second, ...more] = receiver.attempts(e.id);
      expect(more).toEqual([]);
      expect(first!.status).toBe(429);
      expect(second!.status).toBe(200);
      // Asked for 2s; the Pipeline's own backoff would have retried after 100ms.
      expect(second!.at - first!.at).toBeGreaterThanOrEqual(1900);
      expect(second!.at - first!.at).toBeLessThan(6000);
    }
  });

  it('sends a receiver slower than AckWait no redelivered copies and dead-letters each failure once', async () => {
    const events = orders(30, 'slow');
    // Each answer takes 2.5s, with AckWait 1s: half are accepted, half fail every time.
    receiver.setRespond((ids) => ({
      delayMs: 2500,
      status: Number(ids[0]!.split('-')[1]) % 2 === 0 ? 200 : 503,
    }));
    const failing = new Set(events.filter((_, i) => i % 2 === 1).map((e) => e.id));
    const { deadLetters, proc } = await run(
      'slow',
      { url: `${receiver.url}/hook`, timeout: '5s' },
      events,
      () =>
        events.every((e) =>
          failing.has(e.id) ? receiver.attempts(e.id).length >= 2 : receiver.accepted().get(e.id) === 1,
        ),
      { ackWaitMs: 1000, maxDeliver: 2, backoff: ['100ms'] },
    );
    // One dead letter per failing event, none for the others.
    expect(deadLetters.map((d) => d.id).sort()).toEqual([...failing].sort());
    for (const d of deadLetters)
      expect(d.reason).toMatch(/^delivered 2 times \(maxDeliver\); last error: output notify: HTTP 503/);
    for (const e of events) {
      const tries = receiver.attempts(e.id);
      // No copies from AckWait redeliveries while the slow answer was pending: one request per
      // delivery, and deliveries only after a failure.
      expect(tries).toHaveLength(failing.has(e.id) ? 2 : 1);
      for (let i = 1; i < tries.length; i++)
        expect(tries[i]!.at - tries[i - 1]!.at).toBeGreaterThanOrEqual(2400);
    }
    expect(proc.child.exitCode).toBe(0);
  });

  it('speaks TLS with the Sink’s CA, sends the bearer token and extra headers, in structured mode', async () => {
    const dir = mkdtempSync(`${tmpdir()}/eventrunner-hook-tls-`);
    const tls = makeServerTls(dir, 'hook');
    const secure = await startReceiver({ tls });
    try {
      const files = secretFiles({ token: 's3cret-token' });
      const events = orders(25, 'tls');
      await run(
        'htls',
        {
          url: `${secure.url}/secure?team=shop`,
          mode: 'structured',
          headers: { 'X-Team': 'shop' },
          auth: { bearerTokenSecretRef: { name: 'hook-token' } },
          tls: { caSecretRef: { name: 'hook-ca' } },
        },
        events,
        () => events.every((e) => secure.accepted().get(e.id) === 1),
        { credentials: { tokenFile: files.token!, caFile: tls.caFile } },
      );
      const d = secure.attempts(events[0]!.id)[0]!;
      expect(d.path).toBe('/secure?team=shop');
      expect(d.headers.authorization).toBe('Bearer s3cret-token');
      expect(d.headers['x-team']).toBe('shop');
      expect(d.headers['content-type']).toBe('application/cloudevents+json; charset=utf-8');
      expect(JSON.parse(d.body.toString())).toEqual(events[0]);
    } finally {
      await secure.close();
    }
  });

  it('batches in batch mode and isolates the one event the endpoint rejects', async () => {
    const events = orders(200, 'batch');
    const bad = events[37]!.id;
    receiver.setRespond((ids) =>
      ids.includes(bad) ? { status: 422, body: 'amount missing' } : { status: 202 },
    );
    const { deadLetters, proc } = await run(
      'hbatch',
      { url: `${receiver.url}/batch`, mode: 'batch', batch: { maxEvents: 50, maxDelay: '20ms' } },
      events,
      () => events.every((e) => e.id === bad || receiver.accepted().get(e.id) === 1),
    );
    expect(deadLetters.map((d) => d.id)).toEqual([bad]);
    expect(deadLetters[0]!.reason).toBe(
      'output notify rejected the event: HTTP 422 Unprocessable Entity: amount missing',
    );
    const batches = receiver.deliveries.filter((d) => d.path === '/batch' && d.ids.length > 1);
    expect(batches.length).toBeGreaterThan(0);
    expect(batches[0]!.headers['content-type']).toBe('application/cloudevents-batch+json; charset=utf-8');
    expect(Math.max(...batches.map((b) => b.ids.length))).toBeLessThanOrEqual(50);
    for (const e of events) if (e.id !== bad) expect(receiver.accepted().get(e.id)).toBe(1);
    expect(proc.child.exitCode).toBe(0);
  });

  it('counts requests by outcome class and times them', async () => {
    const events = orders(10, 'metrics');
    receiver.setRespond((ids, attempt) =>
      ids[0]!.endsWith('-0') && attempt === 1 ? { status: 500 } : { status: 200 },
    );
    const n = names('hmet');
    const { nc: admin } = await natsSetup(natsEnv().url, n, { maxDeliver: 5 });
    const proc = await startProcess(writeConfig(webhookConfig(n, { url: `${receiver.url}/m` })));
    try {
      await publish(admin, n.prefix, events);
      await waitFor(() => events.every((e) => receiver.accepted().get(e.id) === 1), 30_000, 'delivered');
      await waitFor(
        async () => (await metric(proc, 'eventrunner_output_requests_total')) >= 11,
        10_000,
        'request metrics',
      );
      const res = await fetch(`http://127.0.0.1:${proc.opsPort()}/metrics`);
      const text = await res.text();
      const sample = (name: string, labels: string) =>
        Number(new RegExp(`^${name}\\{${labels}[^}]*\\} (\\d+)$`, 'm').exec(text)?.[1]);
      expect(sample('eventrunner_output_requests_total', 'output="notify",kind="http",outcome="2xx"')).toBe(
        10,
      );
      expect(sample('eventrunner_output_requests_total', 'output="notify",kind="http",outcome="5xx"')).toBe(
        1,
      );
      expect(text).toMatch(
        /^eventrunner_output_request_duration_seconds_count\{[^}]*output="notify"[^}]*\} 11$/m,
      );
    } finally {
      expect((await stopProcess(proc)).code).toBe(0);
      await admin.close();
    }
  });
});
