// Pods on a NATS that requires decentralized JWT authentication, with the users the operator mints:
// ingest and a processor (chaining into a second EventSource, dead letters on) run with exactly the
// permissions derived from their config files, and those users cannot reach another namespace's
// streams, consumers or inboxes — nor, for ingest, its own namespace's consumers.
import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { parseCreds } from '@nats-io/jwt';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { credsAuthenticator, type NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import {
  AckPolicy,
  DeliverPolicy,
  jetstream,
  jetstreamManager,
  type JetStreamManager,
} from '@nats-io/jetstream';
import type { IngestConfigInput, ProcessorConfigInput } from '../../../api/generated/types.js';
import { createLogger } from '../../../runtime/common/logger.js';
import { parseIngestConfig } from '../../../runtime/ingest/config.js';
import { startIngest } from '../../../runtime/ingest/app.js';
import {
  consumerName,
  deadLetterStreamName,
  deadLetterSubject,
  streamName,
  subjectPrefix,
} from '../../../operator/names.js';
import {
  inboxPrefixFor,
  ingestPermissions,
  processorPermissions,
  type NatsPermissions,
} from '../../../operator/nats-permissions.js';
import { loadSigner, mintCreds, type NatsSigner } from '../../../operator/nats-credentials.js';
import { startNats, type NatsServer } from '../../stack/nats.js';
import { natsJwtSetup, type NatsJwtSetup } from '../../stack/nats-jwt.js';
import { consumerState } from './checks.js';
import { startProcess, stopProcess, waitFor, writeConfig } from './support.js';

const TOKEN = 'shop-token-0123456789';

describe('pods with operator-minted NATS users on a server that requires JWT authentication', () => {
  const dir = mkdtempSync(join(tmpdir(), 'eventrunner-nats-auth-'));
  const suffix = Math.random().toString(36).slice(2, 7);
  const nsA = `team-a${suffix}`;
  const nsB = `team-b${suffix}`;
  let setup: NatsJwtSetup;
  let server: NatsServer;
  let admin: NatsConnection;
  let jsm: JetStreamManager;
  let signer: NatsSigner;

  const file = (name: string, content: string) => {
    const f = join(dir, name);
    writeFileSync(f, content, { mode: 0o600 });
    return f;
  };
  const connectAs = (creds: string, inboxPrefix?: string) =>
    connect({
      servers: server.url,
      authenticator: credsAuthenticator(new TextEncoder().encode(creds)),
      ...(inboxPrefix ? { inboxPrefix } : {}),
    });
  const mint = async (name: string, perms: NatsPermissions) =>
    (await mintCreds(signer, name, perms, Date.now())).creds;

  /** An EventSource's stream and a Pipeline's consumer and dead-letter stream, as the operator names them. */
  async function tenant(ns: string) {
    const shop = { stream: streamName(ns, 'shop'), prefix: subjectPrefix(ns, 'shop') };
    const alerts = { stream: streamName(ns, 'alerts'), prefix: subjectPrefix(ns, 'alerts') };
    const dlq = { stream: deadLetterStreamName(ns, 'orders'), subject: deadLetterSubject(ns, 'orders') };
    const consumer = consumerName(ns, 'orders');
    await jsm.streams.add({ name: shop.stream, subjects: [`${shop.prefix}.>`], duplicate_window: 120e9 });
    await jsm.streams.add({ name: alerts.stream, subjects: [`${alerts.prefix}.>`], duplicate_window: 120e9 });
    await jsm.streams.add({ name: dlq.stream, subjects: [dlq.subject], duplicate_window: 120e9 });
    await jsm.consumers.add(shop.stream, {
      durable_name: consumer,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      max_deliver: 5,
      // Events in flight at a rotation's reconnect come again after ackWait.
      ack_wait: 5e9,
    });
    return { ns, shop, alerts, dlq, consumer };
  }

  beforeAll(async () => {
    setup = await natsJwtSetup();
    server = await startNats('nats-jwt', { config: setup.config });
    admin = await connectAs(setup.adminCreds);
    jsm = await jetstreamManager(admin);
    signer = loadSigner(file('signing.seed', setup.signingKeySeed), setup.account, 3_600_000);
  });
  afterAll(async () => {
    await admin?.close();
    await server?.stop();
  });

  it(
    'runs ingest and a chaining processor, and keeps each user to its own subjects',
    { timeout: 120_000 },
    async () => {
      // The server takes no connection without a user of its account.
      await expect(connect({ servers: server.url, reconnect: false })).rejects.toThrow(/authorization/i);
      const a = await tenant(nsA);
      const b = await tenant(nsB);

      // Ingest of team A's shop EventSource.
      const ingestInbox = inboxPrefixFor(nsA, 'shop-ingest');
      const ingestRaw: IngestConfigInput = {
        nats: { url: server.url, credentialsFile: '', inboxPrefix: ingestInbox },
        stream: { name: a.shop.stream, subjectPrefix: a.shop.prefix },
        http: { enabled: true, port: 0, host: '127.0.0.1' },
        grpc: { enabled: false },
        ops: { port: 0, host: '127.0.0.1' },
        auth: { enabled: true, tokensFile: file('tokens', `shop: ${TOKEN}\n`) },
        conversion: { defaultType: 'com.shop.order.created', defaultSource: '/shop' },
      };
      const ingestPerms = ingestPermissions(ingestRaw);
      const ingestCreds = await mint(`${nsA}/shop-ingest`, ingestPerms);
      ingestRaw.nats.credentialsFile = file('ingest.creds', ingestCreds);
      const stopIngest = new AbortController();
      const ingest = await startIngest(
        parseIngestConfig(ingestRaw, { source: 'ingest-config', baseDir: dir }),
        createLogger({ name: 'ingest', level: 'warn' }),
        stopIngest.signal,
      );

      // Team A's processor: every order chained to the alerts EventSource.
      const processorInbox = inboxPrefixFor(nsA, 'orders-processor');
      const processorRaw: ProcessorConfigInput = {
        pipeline: { namespace: nsA, name: 'orders' },
        nats: { url: server.url, inboxPrefix: processorInbox },
        sources: [{ eventSource: 'shop', stream: a.shop.stream, consumer: a.consumer }],
        rules: { source: '' },
        outputs: [
          {
            name: 'alerts',
            sink: { eventSource: { name: 'alerts' } },
            eventSource: { stream: a.alerts.stream, subjectPrefix: a.alerts.prefix },
          },
        ],
        delivery: { maxDeliver: 5, backoff: ['100ms'], maxAckPending: 100 },
        deadLetter: { stream: a.dlq.stream, subject: a.dlq.subject },
        ops: { port: 0, host: '127.0.0.1' },
      };
      const processorPerms = processorPermissions(processorRaw);
      const processorCreds = await mint(`${nsA}/orders-processor`, processorPerms);
      processorRaw.nats.credentialsFile = file('processor.creds', processorCreds);
      const processor = await startProcess(writeConfig(processorRaw));

      try {
        const n = 40;
        const body = JSON.stringify(
          Array.from({ length: n }, (_, i) => ({
            specversion: '1.0',
            id: `order-${i}`,
            source: '/shop',
            type: 'com.shop.order.created',
            data: { amount: i },
          })),
        );
        const res = await fetch(`http://127.0.0.1:${ingest.ports.http}/events`, {
          method: 'POST',
          body,
          headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/cloudevents-batch+json' },
        });
        expect(res.status).toBeLessThan(300);
        await waitFor(
          async () => (await jsm.streams.info(a.alerts.stream)).state.messages === n,
          60_000,
          'alerts',
        );
        await waitFor(
          async () => {
            const s = await consumerState(admin, a.shop.stream, a.consumer);
            return s.pending + s.ackPending === 0;
          },
          30_000,
          'source drained',
        );
        expect((await jsm.streams.info(a.shop.stream)).state.messages).toBe(n);
        expect((await jsm.streams.info(a.dlq.stream)).state.messages).toBe(0);

        // The processor's user, as a client: its own consumer yes, anything of team B no.
        const asProcessor = await connectAs(processorCreds, processorInbox);
        try {
          const pjsm = await jetstreamManager(asProcessor, { checkAPI: false });
          const pjs = jetstream(asProcessor);
          expect((await pjsm.consumers.info(a.shop.stream, a.consumer)).name).toBe(a.consumer);
          await expect(pjsm.streams.info(b.shop.stream)).rejects.toThrow(/permission/i);
          await expect(pjsm.consumers.info(b.shop.stream, b.consumer)).rejects.toThrow(/permission/i);
          await expect(pjs.publish(`${b.shop.prefix}.com.shop.order.created`, 'x')).rejects.toThrow(
            /permission/i,
          );
          await expect(pjsm.streams.delete(a.shop.stream)).rejects.toThrow(/permission/i);
          await expect(pjsm.consumers.delete(a.shop.stream, a.consumer)).rejects.toThrow(/permission/i);
          await expect(firstMessage(asProcessor, `${b.shop.prefix}.>`)).rejects.toThrow(/permission/i);
          await expect(firstMessage(asProcessor, '_INBOX.>')).rejects.toThrow(/permission/i);
          // Fetching from B's consumer, and publishing into B's dead letters.
          await expect(
            asProcessor.request(`$JS.API.CONSUMER.MSG.NEXT.${b.shop.stream}.${b.consumer}`, '{"batch":1}', {
              timeout: 5000,
            }),
          ).rejects.toThrow(/permission/i);
          await expect(pjs.publish(b.dlq.subject, 'x')).rejects.toThrow(/permission/i);
        } finally {
          await asProcessor.close();
        }

        // Ingest's user publishes into its stream only; it cannot read events back.
        const asIngest = await connectAs(ingestCreds, ingestInbox);
        try {
          const ijsm = await jetstreamManager(asIngest, { checkAPI: false });
          await expect(ijsm.consumers.info(a.shop.stream, a.consumer)).rejects.toThrow(/permission/i);
          await expect(jetstream(asIngest).publish(`${a.alerts.prefix}.x`, 'x')).rejects.toThrow(
            /permission/i,
          );
          await expect(firstMessage(asIngest, `${a.shop.prefix}.>`)).rejects.toThrow(/permission/i);
          await expect(
            jetstream(asIngest).publish(`${b.shop.prefix}.com.shop.order.created`, 'x'),
          ).rejects.toThrow(/permission/i);
        } finally {
          await asIngest.close();
        }
        // Team B's stream was never touched.
        expect((await jsm.streams.info(b.shop.stream)).state.messages).toBe(0);

        // Rotation: new users replace both credentials files (as the kubelet swaps a Secret's files)
        // while orders keep coming; both pods move to their new users and nothing accepted is lost.
        const rotated = {
          ingest: await mint(`${nsA}/shop-ingest`, ingestPerms),
          processor: await mint(`${nsA}/orders-processor`, processorPerms),
        };
        const acceptedIds = new Set(Array.from({ length: n }, (_, i) => `order-${i}`));
        let sending = true;
        let retried = 0;
        const sender = (async () => {
          for (let i = n; sending; i++) {
            // A 503 asks the producer to send the same event again (it may have been stored
            // already: the stream deduplicates its id); a producer does until it is accepted.
            for (;;) {
              const r = await fetch(`http://127.0.0.1:${ingest.ports.http}/events`, {
                method: 'POST',
                body: JSON.stringify({
                  specversion: '1.0',
                  id: `order-${i}`,
                  source: '/shop',
                  type: 'com.shop.order.created',
                  data: { amount: i },
                }),
                headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/cloudevents+json' },
              });
              if (r.status < 300) break;
              expect(r.status).toBe(503);
              retried++;
            }
            acceptedIds.add(`order-${i}`);
          }
        })();
        replaceFile(ingestRaw.nats.credentialsFile, rotated.ingest);
        replaceFile(processorRaw.nats.credentialsFile, rotated.processor);
        const users = new Set([await userOf(rotated.ingest), await userOf(rotated.processor)]);
        await waitFor(
          async () => (await connectedUsers(server.monitorUrl)).filter((u) => users.has(u)).length === 2,
          30_000,
          'both pods connected as their new users',
        );
        const old = new Set([await userOf(ingestCreds), await userOf(processorCreds)]);
        expect((await connectedUsers(server.monitorUrl)).filter((u) => old.has(u))).toEqual([]);
        sending = false;
        await sender;
        expect(acceptedIds.size).toBeGreaterThan(n);
        expect(retried).toBeLessThan(acceptedIds.size);
        await waitFor(
          async () => (await jsm.streams.info(a.alerts.stream)).state.messages >= acceptedIds.size,
          60_000,
          'every accepted order chained',
        );
        await waitFor(
          async () => {
            const s = await consumerState(admin, a.shop.stream, a.consumer);
            return s.pending + s.ackPending === 0;
          },
          30_000,
          'source drained after rotation',
        );
        expect((await jsm.streams.info(a.dlq.stream)).state.messages).toBe(0);
        // Per id: every accepted order in the chained stream, once.
        const chainedIds = await streamIds(admin, a.alerts.stream);
        expect(chainedIds.length).toBe(new Set(chainedIds).size);
        expect(new Set(chainedIds)).toEqual(acceptedIds);
      } finally {
        await stopProcess(processor);
        stopIngest.abort();
        await ingest.done;
      }
    },
  );
});

/** The event ids (Nats-Msg-Id) of every message in a stream, in order. */
async function streamIds(nc: NatsConnection, stream: string): Promise<string[]> {
  const consumer = await jetstream(nc).consumers.get(stream);
  const total = (await (await jetstreamManager(nc)).streams.info(stream)).state.messages;
  const ids: string[] = [];
  while (ids.length < total) {
    const batch = await consumer.fetch({ max_messages: Math.min(500, total - ids.length), expires: 5000 });
    for await (const m of batch) ids.push(m.headers?.get('Nats-Msg-Id') ?? '');
  }
  return ids;
}

/** Replaces a file in one step, as the kubelet swaps the files of an updated Secret volume. */
function replaceFile(path: string, content: string): void {
  writeFileSync(`${path}.new`, content, { mode: 0o600 });
  renameSync(`${path}.new`, path);
}

async function userOf(creds: string): Promise<string> {
  return (await parseCreds(new TextEncoder().encode(creds))).uc.sub;
}

/** The user (nkey) of every client connection the server has, from its monitoring endpoint. */
async function connectedUsers(monitorUrl: string): Promise<string[]> {
  const res = await fetch(`${monitorUrl}/connz?auth=true&limit=1024`);
  const body = (await res.json()) as { connections?: { nkey?: string; authorized_user?: string }[] };
  return (body.connections ?? []).map((c) => c.nkey ?? c.authorized_user ?? '');
}

/** Subscribes and waits for one message; a refused subscription rejects with the server's error. */
async function firstMessage(nc: NatsConnection, subject: string): Promise<unknown> {
  const sub = nc.subscribe(subject, { max: 1, timeout: 5000 });
  for await (const m of sub) return m;
  return undefined;
}
