// NATS users per workload: the permissions derived from each pod's config name that workload's
// streams, consumers and buckets only; minted credentials carry them, expire, and are renewed when
// a third of their life is left or the permissions changed.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decode, parseCreds, type User } from '@nats-io/jwt';
import { createAccount, createOperator } from '@nats-io/nkeys';
import type {
  IngestConfigInput,
  ProcessorConfigInput,
  QueryWorkerConfigInput,
} from '../../../api/generated/types.js';
import {
  inboxPrefixFor,
  ingestPermissions,
  processorPermissions,
  queryWorkerPermissions,
} from '../../../operator/nats-permissions.js';
import {
  credsCurrent,
  credsSecret,
  credsKey,
  loadSigner,
  mintCreds,
  renewAt,
} from '../../../operator/nats-credentials.js';
import { natsConfigMapData, natsConnection, natsUserVolume } from '../../../operator/builders/nats-user.js';
import { testOptions } from '../../support/operator.js';

const seedFile = (seed: Uint8Array) => {
  const f = join(mkdtempSync(join(tmpdir(), 'er-seed-')), 'seed');
  writeFileSync(f, `${new TextDecoder().decode(seed)}\n`);
  return f;
};

const ingest: IngestConfigInput = {
  nats: { url: 'nats://n:4222', inboxPrefix: '_INBOX_shop_web-ingest' },
  stream: { name: 'ER_shop_web', subjectPrefix: 'er.shop.web' },
};

const processor: ProcessorConfigInput = {
  nats: { url: 'nats://n:4222', inboxPrefix: '_INBOX_shop_orders-processor' },
  sources: [{ eventSource: 'web', stream: 'ER_shop_web', consumer: 'ER_PL_shop_orders' }],
  outputs: [
    { name: 'db', sink: { http: { url: 'https://x.example' } } },
    {
      name: 'alerts',
      sink: { eventSource: { name: 'alerts' } },
      eventSource: { stream: 'ER_shop_alerts', subjectPrefix: 'er.shop.alerts' },
    },
  ],
  deadLetter: { stream: 'ER_DLQ_shop_orders', subject: 'erdlq.shop.orders' },
  shuffle: { stream: 'ER_SH_shop_orders', subjectPrefix: 'ersh.shop.orders' },
};

describe('NATS permissions of each workload', () => {
  it('lets ingest publish into its own stream and nothing else', () => {
    expect(ingestPermissions(ingest)).toEqual({
      pub: ['$JS.API.STREAM.INFO.ER_shop_web', 'er.shop.web.>'],
      sub: ['_INBOX_shop_web-ingest.>'],
      inboxPrefix: '_INBOX_shop_web-ingest',
    });
  });

  it('lets a processor read and acknowledge its consumer and publish dead letters, chained events and query inputs', () => {
    const p = processorPermissions(processor);
    expect(p.pub).toEqual(
      [
        '$JS.API.CONSUMER.INFO.ER_shop_web.ER_PL_shop_orders',
        '$JS.API.CONSUMER.MSG.NEXT.ER_shop_web.ER_PL_shop_orders',
        '$JS.ACK.ER_shop_web.ER_PL_shop_orders.>',
        '$JS.API.STREAM.MSG.GET.ER_shop_web',
        'erdlq.shop.orders',
        '$JS.API.STREAM.INFO.ER_DLQ_shop_orders',
        'er.shop.alerts.>',
        '$JS.API.STREAM.INFO.ER_shop_alerts',
        'ersh.shop.orders.>',
        '$JS.API.STREAM.INFO.ER_SH_shop_orders',
      ].sort(),
    );
    expect(p.sub).toEqual([
      '$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.ER_shop_web.ER_PL_shop_orders',
      '_INBOX_shop_orders-processor.>',
    ]);
    // Nothing that creates, deletes or reaches beyond the names in its config.
    expect(p.pub.some((s) => /CREATE|DELETE|PURGE|\$JS\.API\.INFO|^>|\*/.test(s))).toBe(false);
  });

  it('lets a processor with an advisory stream read it through its consumer instead of listening for advisories', () => {
    const p = processorPermissions({
      ...processor,
      advisories: { stream: 'ER_ADV_shop_orders', consumer: 'ER_PL_shop_orders' },
    });
    expect(p.pub).toEqual(
      expect.arrayContaining([
        '$JS.API.CONSUMER.INFO.ER_ADV_shop_orders.ER_PL_shop_orders',
        '$JS.API.CONSUMER.MSG.NEXT.ER_ADV_shop_orders.ER_PL_shop_orders',
        '$JS.ACK.ER_ADV_shop_orders.ER_PL_shop_orders.>',
      ]),
    );
    expect(p.sub).toEqual(['_INBOX_shop_orders-processor.>']);
  });

  it('lets a query worker own consumers on its shuffle stream and use its bucket, not create streams', () => {
    const worker: QueryWorkerConfigInput = {
      nats: { url: 'nats://n:4222' },
      sources: ['orders'],
      queries: [{ name: 'q', sql: 'SELECT 1 FROM orders', outputs: ['db'] } as never],
      outputs: [{ name: 'db', sink: { http: { url: 'https://x.example' } } }],
      shuffle: { stream: 'ER_SH_shop_orders', subjectPrefix: 'ersh.shop.orders' },
      state: { bucket: 'ER_Q_shop_orders' },
      deadLetter: { stream: 'ER_DLQ_shop_orders', subject: 'erdlq.shop.orders' },
    };
    const p = queryWorkerPermissions(worker);
    expect(p.pub).toEqual(
      expect.arrayContaining([
        '$JS.API.CONSUMER.CREATE.ER_SH_shop_orders.>',
        '$JS.API.CONSUMER.DELETE.ER_SH_shop_orders.>',
        '$KV.ER_Q_shop_orders.>',
        '$JS.API.DIRECT.GET.KV_ER_Q_shop_orders.>',
        'erdlq.shop.orders',
      ]),
    );
    expect(p.pub.some((s) => s.startsWith('$JS.API.STREAM.CREATE') || s.includes('ER_shop_web'))).toBe(false);
    // Without a prefix of its own, the client's default inbox.
    expect(p.sub).toEqual(['_INBOX.>']);
  });

  // Kubernetes names have no '_', so namespace and workload never run into each other.
  it('gives every workload its own inbox, with dots of names kept apart from subject tokens', () => {
    expect(inboxPrefixFor('shop', 'orders.eu-processor')).toBe('_INBOX_shop_orders__eu-processor');
  });
});

describe('minted NATS users', () => {
  it('signs users with the account signing key for the account, with the permissions and an expiry', async () => {
    const account = createAccount();
    const signing = createAccount();
    const signer = loadSigner(seedFile(signing.getSeed()), account.getPublicKey(), 3_600_000);
    const now = Date.UTC(2026, 0, 1);
    const perms = ingestPermissions(ingest);
    const minted = await mintCreds(signer, 'shop/web-ingest', perms, now);
    const { jwt, uc } = await parseCreds(new TextEncoder().encode(minted.creds));
    expect(uc.iss).toBe(signing.getPublicKey());
    expect(uc.nats.issuer_account).toBe(account.getPublicKey());
    expect(uc.nats.pub?.allow).toEqual(perms.pub);
    expect(uc.nats.sub?.allow).toEqual(perms.sub);
    expect(uc.exp).toBe((now + 3_600_000) / 1000);
    expect(minted.expiresAt).toBe(now + 3_600_000);
    expect(decode<User>(jwt).name).toBe('shop/web-ingest');
  });

  it('signs with the account key itself when no account is named', async () => {
    const account = createAccount();
    const signer = loadSigner(seedFile(account.getSeed()), undefined, 60_000);
    const { uc } = await parseCreds(
      new TextEncoder().encode((await mintCreds(signer, 'u', ingestPermissions(ingest), 0)).creds),
    );
    expect(uc.iss).toBe(account.getPublicKey());
    expect(uc.nats.issuer_account).toBeUndefined();
  });

  it('refuses seeds that cannot sign users, with the flag to fix', () => {
    expect(() => loadSigner(seedFile(createOperator().getSeed()), undefined, 60_000)).toThrow(
      /--nats-account-signing-key-file .*seed is of a O key/,
    );
    expect(() => loadSigner(seedFile(new TextEncoder().encode('not a seed')), undefined, 60_000)).toThrow(
      /not an account nkey seed/,
    );
    expect(() => loadSigner(seedFile(createAccount().getSeed()), 'Anope', 60_000)).toThrow(
      /--nats-account Anope/,
    );
    expect(() => loadSigner(seedFile(createAccount().getSeed()), undefined, 1000)).toThrow(
      /at least 60 seconds/,
    );
  });

  it('keeps credentials until a third of their life is left or the permissions change', async () => {
    const signer = loadSigner(seedFile(createAccount().getSeed()), undefined, 90_000);
    const perms = ingestPermissions(ingest);
    const owner = {
      apiVersion: 'eventrunner.io/v1alpha1',
      kind: 'EventSource',
      metadata: { name: 'web', namespace: 'shop', uid: 'u1' },
    };
    const minted = await mintCreds(signer, 'u', perms, 0);
    const secret = credsSecret(owner, 'web-ingest-nats', 'ingest', perms, signer, minted);
    expect(Buffer.from(secret.data![credsKey]!, 'base64').toString()).toBe(minted.creds);
    expect(secret.metadata!.ownerReferences![0]!.uid).toBe('u1');
    expect(credsCurrent(secret, perms, signer, 0)).toBe(true);
    expect(credsCurrent(secret, perms, signer, 59_999)).toBe(true);
    expect(renewAt(secret, signer)).toBe(60_000);
    expect(credsCurrent(secret, perms, signer, 60_001)).toBe(false);
    expect(credsCurrent(secret, { ...perms, pub: [...perms.pub, 'er.other.>'] }, signer, 0)).toBe(false);
    expect(credsCurrent(undefined, perms, signer, 0)).toBe(false);
    const otherSigner = loadSigner(seedFile(createAccount().getSeed()), undefined, 90_000);
    expect(credsCurrent(secret, perms, otherSigner, 0)).toBe(false);
  });
});

describe('workload configs and pods with minted users', () => {
  it('point the config at the mounted credentials and the workload inbox only when users are minted', () => {
    const plain = testOptions('nats://n:4222');
    expect(natsConnection(plain, 'shop', 'web-ingest')).toEqual({ url: 'nats://n:4222' });
    expect(natsUserVolume(plain, 'web-ingest-nats')).toEqual({ volumes: [], mounts: [] });
    const minting = testOptions('nats://n:4222', { natsUsers: { signingKeyFile: '/k', ttlMs: 86_400_000 } });
    expect(natsConnection(minting, 'shop', 'web-ingest', 'eventrunner-ingest-shop-web')).toEqual({
      url: 'nats://n:4222',
      name: 'eventrunner-ingest-shop-web',
      credentialsFile: '/etc/eventrunner/nats/nats.creds',
      inboxPrefix: '_INBOX_shop_web-ingest',
    });
    const { volumes, mounts } = natsUserVolume(minting, 'web-ingest-nats');
    // The whole Secret as a volume (no subPath), so rotated credentials reach running pods.
    expect(volumes).toEqual([
      { name: 'nats-user', secret: { secretName: 'web-ingest-nats', defaultMode: 0o440 } },
    ]);
    expect(mounts).toEqual([{ name: 'nats-user', mountPath: '/etc/eventrunner/nats', readOnly: true }]);
    expect(natsConfigMapData(minting)).toEqual({});
  });

  it('pass a private NATS CA on beside the config file', () => {
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    const options = testOptions('nats://n:4222', { natsCaPem: pem });
    expect(natsConnection(options, 'shop', 'web-ingest')).toEqual({
      url: 'nats://n:4222',
      caFile: '/etc/eventrunner/nats-ca.crt',
    });
    expect(natsConfigMapData(options)).toEqual({ 'nats-ca.crt': pem });
  });
});
