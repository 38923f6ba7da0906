// gRPC ingest with the shipped .proto: unary, client-streaming and batch publish land the right
// CloudEvents in the stream; refusals map to gRPC status codes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { credentials, Metadata, status, type Client, type ServiceError } from '@grpc/grpc-js';
import { natsEnv } from '../../stack/context.js';
import { loadIngestProto } from '../../../runtime/ingest/proto.js';
import type { ProtoCloudEvent } from '../../../runtime/ingest/proto-event.js';
import { startHarness, TOKENS, type Harness } from './harness.js';

type Unary = (req: unknown, md: Metadata, cb: (err: ServiceError | null, res?: unknown) => void) => void;
type Streaming = (
  md: Metadata,
  cb: (err: ServiceError | null, res?: unknown) => void,
) => { write(m: unknown): boolean; end(): void };

interface IngestClient extends Client {
  Publish: Unary;
  PublishBatch: Unary;
  PublishStream: Streaming;
}

function auth(token?: string): Metadata {
  const md = new Metadata();
  if (token) md.set('authorization', `Bearer ${token}`);
  return md;
}

function unary(fn: Unary, req: unknown, md: Metadata): Promise<{ err: ServiceError | null; res?: unknown }> {
  return new Promise((resolve) => fn(req, md, (err, res) => resolve({ err, res })));
}

function stream(client: IngestClient, events: ProtoCloudEvent[], md: Metadata) {
  return new Promise<{ err: ServiceError | null; res?: unknown }>((resolve) => {
    const call = client.PublishStream(md, (err, res) => resolve({ err, res }));
    for (const e of events) call.write(e);
    call.end();
  });
}

const protoEvent = (id: string, extra: Partial<ProtoCloudEvent> = {}): ProtoCloudEvent => ({
  id,
  source: '/grpc',
  spec_version: '1.0',
  type: 'com.example.grpc',
  attributes: { datacontenttype: { ce_string: 'application/json' } },
  text_data: JSON.stringify({ id }),
  ...extra,
});

describe('gRPC ingest', () => {
  let h: Harness;
  let client: IngestClient;
  beforeAll(async () => {
    h = await startHarness({
      natsUrl: natsEnv().url,
      config: { limits: { maxBatchEvents: 10, maxBodyBytes: '4Ki' } },
    });
    const { Client } = loadIngestProto();
    client = new Client(h.grpcAddress, credentials.createInsecure()) as unknown as IngestClient;
  });
  afterAll(async () => {
    client?.close();
    await h?.close();
  });

  it('publishes one event with every attribute type', async () => {
    const r = await unary(
      client.Publish.bind(client),
      {
        id: 'g1',
        source: '/grpc',
        spec_version: '1.0',
        type: 'com.example.grpc.unary',
        attributes: {
          subject: { ce_string: 'thing/1' },
          time: { ce_timestamp: { seconds: '1700000000', nanos: 123000000 } },
          dataschema: { ce_uri: 'https://example.com/s.json' },
          count: { ce_integer: 7 },
          flag: { ce_boolean: true },
          blob: { ce_bytes: Buffer.from([9, 8]) },
          datacontenttype: { ce_string: 'application/octet-stream' },
        },
        binary_data: Buffer.from([0, 1, 2]),
      },
      auth(TOKENS.shop),
    );
    expect(r.err).toBeNull();
    expect(r.res).toEqual({ id: 'g1', duplicate: false });
    const stored = (await h.read()).find((s) => s.event.id === 'g1')!;
    expect(stored.subject).toBe(`${h.prefix}.com.example.grpc.unary`);
    expect(stored.event).toEqual({
      specversion: '1.0',
      id: 'g1',
      source: '/grpc',
      type: 'com.example.grpc.unary',
      subject: 'thing/1',
      time: '2023-11-14T22:13:20.123Z',
      dataschema: 'https://example.com/s.json',
      count: 7,
      flag: true,
      blob: Buffer.from([9, 8]).toString('base64'),
      datacontenttype: 'application/octet-stream',
      data_base64: Buffer.from([0, 1, 2]).toString('base64'),
    });
  });

  it('streams events, reporting refused ones and storing the rest once', async () => {
    const events = Array.from({ length: 20 }, (_, i) => protoEvent(`gs-${i}`));
    events[5] = protoEvent('gs-5', { type: 'bad type' });
    events[9] = protoEvent('', {});
    events.push(protoEvent('gs-0')); // a retry of the first: a duplicate
    const r = await stream(client, events, auth(TOKENS.shop));
    expect(r.err).toBeNull();
    const res = r.res as {
      accepted: number;
      duplicates: number;
      rejected: number;
      failures: Record<string, unknown>[];
    };
    expect(res.accepted).toBe(19);
    expect(res.duplicates).toBe(1);
    expect(res.rejected).toBe(2);
    expect(res.failures.map((f) => [f.index, f.reason, f.code])).toEqual([
      [5, 'invalid', status.INVALID_ARGUMENT],
      [9, 'invalid', status.INVALID_ARGUMENT],
    ]);
    expect(res.failures[0]!.message).toContain(
      'attribute "type" "bad type" cannot be used as a NATS subject',
    );
    expect(res.failures[1]!.message).toContain('required attribute "id" is missing');
    const ids = (await h.read()).map((s) => s.event.id).filter((id) => id.startsWith('gs-'));
    expect(ids.sort()).toEqual(
      Array.from({ length: 20 }, (_, i) => `gs-${i}`)
        .filter((id) => id !== 'gs-5' && id !== 'gs-9')
        .sort(),
    );
    const stored = (await h.read()).find((s) => s.event.id === 'gs-3')!;
    expect(stored.event.data).toEqual({ id: 'gs-3' });
  });

  it('publishes a batch message', async () => {
    const r = await unary(
      client.PublishBatch.bind(client),
      { events: [protoEvent('gb-1'), protoEvent('gb-2')] },
      auth(TOKENS.billing),
    );
    expect(r.err).toBeNull();
    expect(r.res).toMatchObject({ accepted: 2, rejected: 0 });
    const over = await unary(
      client.PublishBatch.bind(client),
      { events: Array.from({ length: 11 }, (_, i) => protoEvent(`gb-x${i}`, { text_data: '1' })) },
      auth(TOKENS.billing),
    );
    expect(over.err?.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(over.err?.details).toContain('over the limit of 10');
  });

  it('maps refusals to status codes', async () => {
    const unauth = await unary(client.Publish.bind(client), protoEvent('gx-1'), auth());
    expect(unauth.err?.code).toBe(status.UNAUTHENTICATED);
    const wrong = await unary(client.Publish.bind(client), protoEvent('gx-2'), auth('nope'));
    expect(wrong.err?.code).toBe(status.UNAUTHENTICATED);
    const invalid = await unary(
      client.Publish.bind(client),
      protoEvent('gx-3', { spec_version: '0.3' }),
      auth(TOKENS.shop),
    );
    expect(invalid.err?.code).toBe(status.INVALID_ARGUMENT);
    expect(invalid.err?.details).toContain('only CloudEvents 1.0');
    const badJson = await unary(
      client.Publish.bind(client),
      protoEvent('gx-4', { text_data: '{' }),
      auth(TOKENS.shop),
    );
    expect(badJson.err?.code).toBe(status.INVALID_ARGUMENT);
    expect(badJson.err?.details).toContain('text_data is not valid JSON');
    const big = await unary(
      client.Publish.bind(client),
      protoEvent('gx-5', { text_data: JSON.stringify('x'.repeat(5000)) }),
      auth(TOKENS.shop),
    );
    expect(big.err?.code).toBe(status.RESOURCE_EXHAUSTED);
    const allBad = await stream(client, [protoEvent('gx-6', { type: '' })], auth(TOKENS.shop));
    expect(allBad.err?.code).toBe(status.INVALID_ARGUMENT);
    expect(allBad.err?.details).toContain('1 event(s) refused, none accepted');
    const unauthStream = await stream(client, [protoEvent('gx-7')], auth());
    expect(unauthStream.err?.code).toBe(status.UNAUTHENTICATED);
    const ids = new Set((await h.read()).map((s) => s.event.id));
    for (const id of ['gx-1', 'gx-2', 'gx-3', 'gx-4', 'gx-5', 'gx-6', 'gx-7'])
      expect(ids.has(id)).toBe(false);
  });
});
