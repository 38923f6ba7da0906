// The operator on a NATS that requires decentralized JWT authentication and TLS with a private CA:
// it connects with its own credentials and CA from files, mints a NATS user per ingest and
// processor workload into a Secret next to it and passes the CA on, and the pods the local kubelet
// runs connect with those. Producers reach ingest over HTTPS with the certificate of a tls Secret. Orders posted to ingest reach the
// chained EventSource; a user's permissions name its own streams only; a removed credentials
// Secret is minted again and the pods carry on with the new user. A Replay and a redrive run under
// a user of their own, and the Pipeline's replay bucket goes with the Pipeline.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoreV1Api, type V1Secret } from '@kubernetes/client-node';
import { credsAuthenticator, type NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { parseCreds } from '@nats-io/jwt';
import { startJourney, waitAllReady, type Journey } from '../../hack/journey.js';
import { streamName } from '../../operator/names.js';
import { credsAnnotations, credsKey } from '../../operator/nats-credentials.js';
import { cassandraEnv, clickhouseEnv, kubeEnv } from '../stack/context.js';
import { startNats, type NatsServer } from '../stack/nats.js';
import { natsJwtSetup } from '../stack/nats-jwt.js';
import { makeServerTls } from '../stack/tls.js';

const manifests = `
apiVersion: v1
kind: Secret
metadata: {name: shop-tokens}
type: Opaque
stringData:
  tokens: |
    checkout: checkout-token-0123456789
---
apiVersion: eventrunner.io/v1alpha1
kind: EventSource
metadata: {name: shop}
spec:
  ingest:
    http: {port: 8080}
    grpc: {enabled: false}
    replicas: 1
    auth: {tokensSecretRef: {name: shop-tokens}}
    tls: {secretName: shop-tls}
  conversion: {defaultType: com.shop.order.created}
  stream: {maxBytes: 64Mi}
---
apiVersion: eventrunner.io/v1alpha1
kind: EventSource
metadata: {name: alerts}
spec:
  ingest:
    replicas: 0
    auth: {tokensSecretRef: {name: shop-tokens}}
  stream: {maxBytes: 64Mi}
---
apiVersion: eventrunner.io/v1alpha1
kind: Sink
metadata: {name: alerts-stream}
spec:
  eventSource: {name: alerts}
---
apiVersion: eventrunner.io/v1alpha1
apiVersion: eventrunner.io/v1alpha1
kind: EventSource
metadata: {name: results}
spec:
  ingest:
    replicas: 0
    auth: {tokensSecretRef: {name: shop-tokens}}
  stream: {maxBytes: 64Mi}
---
apiVersion: eventrunner.io/v1alpha1
kind: Sink
metadata: {name: results-stream}
spec:
  eventSource: {name: results}
---
apiVersion: eventrunner.io/v1alpha1
kind: Pipeline
metadata: {name: orders}
spec:
  sources: [{eventSource: shop}]
  rules: ""
  outputs: [{name: alerts, sink: alerts-stream}, {name: results, sink: results-stream}]
  defaultOutputs: [alerts]
  deadLetter: {maxBytes: 64Mi}
  queries:
    - name: amounts
      partitions: 2
      outputs: [results]
      sql: SELECT id AS order_id, data.amount AS amount FROM shop
  queryWorkers: {replicas: 1}
`;

describe('the operator minting NATS users for the pods it runs', () => {
  const namespace = `natsauth-${randomUUID().slice(0, 6)}`;
  const dir = mkdtempSync(join(tmpdir(), 'eventrunner-nats-auth-e2e-'));
  let nats: NatsServer;
  let admin: NatsConnection;
  let jsm: JetStreamManager;
  let journey: Journey;
  let core: CoreV1Api;
  let caFile: string;

  beforeAll(async () => {
    const setup = await natsJwtSetup();
    mkdirSync(join(dir, 'tls'));
    const tls = makeServerTls(join(dir, 'tls'), 'nats');
    nats = await startNats('nats-jwt-e2e', {
      config: `${setup.config}\ntls {\n  cert_file: "${tls.certFile}"\n  key_file: "${tls.keyFile}"\n}`,
    });
    caFile = tls.caFile;
    const file = (name: string, content: string) => {
      writeFileSync(join(dir, name), content, { mode: 0o600 });
      return join(dir, name);
    };
    admin = await connect({
      servers: nats.url,
      authenticator: credsAuthenticator(new TextEncoder().encode(setup.adminCreds)),
      tls: { caFile },
    });
    jsm = await jetstreamManager(admin);
    const stack = {
      kube: kubeEnv(),
      nats: { url: nats.url, monitorUrl: nats.monitorUrl },
      cassandra: cassandraEnv(),
      clickhouse: clickhouseEnv(),
    };
    journey = await startJourney(stack, namespace, [
      '--nats-credentials-file',
      file('operator.creds', setup.adminCreds),
      '--nats-account-signing-key-file',
      file('signing.seed', setup.signingKeySeed),
      '--nats-account',
      setup.account,
      '--nats-ca-file',
      caFile,
    ]);
    core = journey.kc.makeApiClient(CoreV1Api);
  });
  afterAll(async () => {
    await journey?.stop();
    await admin?.close();
    await nats?.stop();
  });

  const secret = (name: string) => core.readNamespacedSecret({ name, namespace });
  const userOf = async (s: V1Secret) => (await parseCreds(Buffer.from(s.data![credsKey]!, 'base64'))).uc;

  it(
    'runs ingest, the processor and a query worker with their own users, and mints a removed one again',
    { timeout: 300_000 },
    async () => {
      writeFileSync(join(dir, 'manifests.yaml'), manifests);
      mkdirSync(join(dir, 'ingest-tls'));
      const ingestTls = makeServerTls(join(dir, 'ingest-tls'), 'shop-ingest');
      journey.kubectl(
        'create',
        'secret',
        'tls',
        'shop-tls',
        `--cert=${ingestTls.certFile}`,
        `--key=${ingestTls.keyFile}`,
      );
      journey.kubectl('apply', '-f', join(dir, 'manifests.yaml'));
      await waitAllReady(journey, 150_000);
      const shop = JSON.parse(journey.kubectl('get', 'eventsource', 'shop', '-o', 'json')) as {
        status: { endpoints: { http: string } };
      };
      expect(shop.status.endpoints.http).toBe(`https://shop-ingest.${namespace}.svc:8080/events`);
      // Plain-text clients are refused: the pods got the CA.
      await expect(connect({ servers: nats.url, reconnect: false })).rejects.toThrow();

      // Each workload's Secret: a user of the account, allowed its own streams only.
      const ingestSecret = await secret('shop-ingest-nats');
      const processorSecret = await secret('orders-processor-nats');
      const workerSecret = await secret('orders-query-nats');
      for (const s of [ingestSecret, processorSecret, workerSecret])
        expect(Date.parse(s.metadata!.annotations![credsAnnotations.expires]!)).toBeGreaterThan(Date.now());
      const ingestUser = await userOf(ingestSecret);
      expect(ingestUser.nats.pub?.allow).toEqual(
        expect.arrayContaining([
          `er.${namespace}.shop.>`,
          `$JS.API.STREAM.INFO.${streamName(namespace, 'shop')}`,
        ]),
      );
      expect(ingestUser.nats.pub?.allow?.some((s) => s.includes('alerts') || s.includes('CONSUMER'))).toBe(
        false,
      );
      const processorUser = await userOf(processorSecret);
      expect(processorUser.nats.pub?.allow).toEqual(
        expect.arrayContaining([`er.${namespace}.alerts.>`, `erdlq.${namespace}.orders`]),
      );
      expect(
        processorUser.nats.pub?.allow?.every((s) => s.includes(namespace) || s.startsWith('$JS.ACK')),
      ).toBe(true);

      const send = async (from: number, count: number) => {
        const orders = Array.from({ length: count }, (_, i) => ({
          specversion: '1.0',
          id: `o-${from + i}`,
          source: '/shop',
          type: 'com.shop.order.created',
          data: { amount: from + i },
        }));
        const address = journey.kubelet.serviceAddress(namespace, 'shop-ingest', 'http');
        const ca = readFileSync(join(dir, 'ingest-tls', 'ca.crt'));
        for (const o of orders)
          expect(await postOverTls(`https://${address}/events`, ca, JSON.stringify(o))).toBe(202);
      };
      const chained = async () => (await jsm.streams.info(streamName(namespace, 'alerts'))).state.messages;
      // The query worker, with its own user (consumers on the shuffle stream, the state bucket),
      // writes a result per order to the results EventSource.
      const results = async () => (await jsm.streams.info(streamName(namespace, 'results'))).state.messages;
      expect((await userOf(workerSecret)).nats.pub?.allow).toEqual(
        expect.arrayContaining([`$KV.ER_Q_${namespace}_orders.>`, `er.${namespace}.results.>`]),
      );
      const until = async (what: string, probe: () => Promise<boolean>, ms = 60_000) => {
        const deadline = Date.now() + ms;
        while (!(await probe())) {
          if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
          await new Promise((r) => setTimeout(r, 250));
        }
      };

      await send(0, 30);
      await until('30 chained orders', async () => (await chained()) === 30);
      await until('30 query results', async () => (await results()) === 30);

      // The processor's credentials go away: the operator mints a new user on its next look (the
      // resync is 10 s here), the kubelet swaps the mounted file, the processor reconnects with it.
      await core.deleteNamespacedSecret({ name: 'orders-processor-nats', namespace });
      let renewed: V1Secret | undefined;
      await until(
        'a new processor user',
        async () => {
          renewed = await secret('orders-processor-nats').catch(() => undefined);
          return renewed !== undefined;
        },
        60_000,
      );
      const newUser = await userOf(renewed!);
      expect(newUser.sub).not.toBe(processorUser.sub);
      await until(
        'the processor connected as its new user',
        async () => {
          const res = await fetch(`${nats.monitorUrl}/connz?auth=true&limit=1024`);
          const body = (await res.json()) as { connections?: { nkey?: string; authorized_user?: string }[] };
          return (body.connections ?? []).some((c) => (c.nkey ?? c.authorized_user) === newUser.sub);
        },
        60_000,
      );
      await send(30, 30);
      await until('60 chained orders', async () => (await chained()) === 60);
      await until('60 query results', async () => (await results()) === 60);
    },
  );

  // After the first test: the Pipeline runs, 60 orders went through it.
  it(
    'runs a replay and a redrive under a NATS user of their own, and removes the replay bucket with the Pipeline',
    { timeout: 240_000 },
    async () => {
      const apply = (name: string, spec: object) => {
        writeFileSync(
          join(dir, `${name}.json`),
          JSON.stringify({ apiVersion: 'eventrunner.io/v1alpha1', kind: 'Replay', metadata: { name }, spec }),
        );
        journey.kubectl('apply', '-f', join(dir, `${name}.json`));
      };
      const replayOf = (name: string) =>
        JSON.parse(journey.kubectl('get', 'replay', name, '-o', 'json')) as {
          status?: { phase?: string; total?: number; done?: number; failed?: number };
        };
      const until = async <T>(what: string, probe: () => Promise<T | undefined>, ms = 120_000) => {
        const deadline = Date.now() + ms;
        for (;;) {
          const v = await probe();
          if (v !== undefined) return v;
          if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
          await new Promise((r) => setTimeout(r, 250));
        }
      };

      // All 60 orders again, slowly enough to look at the pod's user while it runs.
      apply('again', { pipeline: 'orders', from: { sequence: 1 }, ratePerSecond: 20 });
      const replaySecret = await until('the replay pod’s own user', () =>
        secret('again-replay-nats').catch(() => undefined),
      );
      const replayUser = await userOf(replaySecret);
      const processorUser = await userOf(await secret('orders-processor-nats'));
      expect(replayUser.sub).not.toBe(processorUser.sub);
      expect(replayUser.nats.pub?.allow).toEqual(
        expect.arrayContaining([`$KV.ER_RP_${namespace}_orders.>`, `er.${namespace}.alerts.>`]),
      );
      // Its own work stream only: no other stream may be created, the processor's inbox is not its.
      expect(
        replayUser.nats.pub?.allow
          ?.filter((s) => s.startsWith('$JS.API.STREAM.CREATE.'))
          .map((s) => s.split('.')[4]),
      ).toEqual([expect.stringMatching(new RegExp(`^ER_RP_${namespace}_again_`))]);
      expect(replayUser.nats.sub?.allow).toEqual([`_INBOX_${namespace}_orders-processor_replay.>`]);
      const done = await until('the replay to finish', async () => {
        const st = replayOf('again').status;
        return st?.phase === 'Succeeded' || st?.phase === 'Failed' ? st : undefined;
      });
      expect(done).toMatchObject({ phase: 'Succeeded', total: 60, done: 60, failed: 0 });
      // Finished: its user is gone with its pod and work stream.
      await until('the replay user removed', () =>
        secret('again-replay-nats').then(
          () => undefined,
          () => true,
        ),
      );

      // A redrive reads the dead-letter stream instead (empty here): it succeeds with nothing to send.
      apply('redrive', { pipeline: 'orders', deadLetters: {} });
      const redriven = await until('the redrive to finish', async () => {
        const st = replayOf('redrive').status;
        return st?.phase === 'Succeeded' || st?.phase === 'Failed' ? st : undefined;
      });
      expect(redriven).toMatchObject({ phase: 'Succeeded', total: 0, failed: 0 });

      // The Pipeline goes: its replay bucket goes with its dead-letter stream.
      const bucket = `KV_ER_RP_${namespace}_orders`;
      await jsm.streams.info(bucket);
      journey.kubectl('delete', 'pipeline', 'orders', '--wait=false');
      await until('the replay bucket removed', () =>
        jsm.streams.info(bucket).then(
          () => undefined,
          () => true,
        ),
      );
      await expect(jsm.streams.info(`ER_DLQ_${namespace}_orders`)).rejects.toThrow();
    },
  );
});

function postOverTls(url: string, ca: Buffer, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      {
        method: 'POST',
        ca,
        headers: {
          'content-type': 'application/cloudevents+json',
          authorization: 'Bearer checkout-token-0123456789',
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
