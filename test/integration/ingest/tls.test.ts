// Ingest over TLS: HTTPS and gRPC with TLS from a certificate and key file (what the operator
// mounts from the EventSource's kubernetes.io/tls Secret). A client that trusts the CA publishes;
// one that does not (the system roots, or another CA) fails the handshake and publishes nothing;
// a plain-text client gets no answer it could mistake for success.
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { credentials, Metadata, type Client, type ServiceError } from '@grpc/grpc-js';
import { natsEnv } from '../../stack/context.js';
import { makeCa, makeServerTls } from '../../stack/tls.js';
import { loadIngestProto } from '../../../runtime/ingest/proto.js';
import { startHarness, TOKENS, type Harness } from './harness.js';

interface IngestClient extends Client {
  Publish(req: unknown, md: Metadata, cb: (err: ServiceError | null, res?: unknown) => void): void;
}

function postOverTls(url: string, ca: Buffer | undefined, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      {
        method: 'POST',
        headers: { 'content-type': 'application/cloudevents+json', authorization: `Bearer ${TOKENS.shop}` },
        ...(ca ? { ca } : {}),
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

const event = (id: string) =>
  JSON.stringify({ specversion: '1.0', id, source: '/tls', type: 'com.example.tls', data: { id } });

describe('ingest over TLS', () => {
  let h: Harness;
  let ca: Buffer;
  let otherCa: Buffer;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'eventrunner-ingest-tls-'));
    mkdirSync(join(dir, 'server'));
    mkdirSync(join(dir, 'other'));
    const tls = makeServerTls(join(dir, 'server'), 'ingest');
    ca = readFileSync(tls.caFile);
    otherCa = readFileSync(makeCa(join(dir, 'other'), 'other'));
    h = await startHarness({
      natsUrl: natsEnv().url,
      config: { tls: { certFile: tls.certFile, keyFile: tls.keyFile } },
    });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('accepts HTTPS from a client trusting the CA and fails the handshake of any other', async () => {
    const url = h.httpUrl.replace('http://', 'https://');
    expect(await postOverTls(url, ca, event('https-1'))).toBe(202);
    await expect(postOverTls(url, undefined, event('https-untrusted'))).rejects.toThrow(
      /self.signed|certificate/i,
    );
    await expect(postOverTls(url, otherCa, event('https-other-ca'))).rejects.toThrow(/certificate/i);
    // Plain HTTP to the TLS port gets no ingest answer.
    const plain = await fetch(h.httpUrl, { method: 'POST', body: event('plain-1') }).then(
      (r) => r.status,
      () => 'refused' as const,
    );
    expect(plain === 'refused' || plain >= 400).toBe(true);
    expect((await h.read()).map((m) => m.event.id)).toEqual(['https-1']);
  });

  it('accepts gRPC over TLS from a client trusting the CA and refuses one that does not', async () => {
    const { Client } = loadIngestProto();
    const md = () => {
      const m = new Metadata();
      m.set('authorization', `Bearer ${TOKENS.shop}`);
      return m;
    };
    const publish = (c: IngestClient, id: string) =>
      new Promise<ServiceError | null>((resolve) =>
        c.Publish(
          { id, source: '/tls', spec_version: '1.0', type: 'com.example.tls', text_data: '{}' },
          md(),
          (err) => resolve(err),
        ),
      );
    const trusted = new Client(h.grpcAddress, credentials.createSsl(ca)) as unknown as IngestClient;
    const untrusted = new Client(h.grpcAddress, credentials.createSsl()) as unknown as IngestClient;
    const insecure = new Client(h.grpcAddress, credentials.createInsecure()) as unknown as IngestClient;
    try {
      expect(await publish(trusted, 'grpc-1')).toBeNull();
      expect((await publish(untrusted, 'grpc-untrusted'))?.message).toMatch(
        /UNAVAILABLE|certificate|handshake/i,
      );
      expect(await publish(insecure, 'grpc-plain')).not.toBeNull();
    } finally {
      for (const c of [trusted, untrusted, insecure]) c.close();
    }
    expect((await h.read()).map((m) => m.event.id).sort()).toEqual(['grpc-1', 'https-1']);
  });
});
