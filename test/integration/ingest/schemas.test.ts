// Event schemas at ingest, against a real NATS: data checked per type (exact or prefix) on every
// path, refusals with the type, the JSON pointer and the keyword, nothing refused in the stream,
// `dataschema` on what is stored, a new schema-set file picked up without a restart, and the
// OpenAPI and AsyncAPI documents checked with their own validators.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { credentials, Metadata, status, type Client, type ServiceError } from '@grpc/grpc-js';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Parser } from '@asyncapi/parser';
import { natsEnv } from '../../stack/context.js';
import { loadIngestProto } from '../../../runtime/ingest/proto.js';
import { renderSchemaSet, schemaDigest, type SchemaSetEntry } from '../../../runtime/schemas/schema-set.js';
import type { SchemaObject } from '../../../runtime/schemas/json-schema.js';
import { eventually } from '../../support/operator.js';
import { bearer, post, startHarness, TOKENS, type Harness } from './harness.js';

const order: SchemaObject = {
  type: 'object',
  required: ['orderId', 'amount', 'currency'],
  properties: {
    orderId: { type: 'string' },
    amount: { type: 'number', minimum: 0 },
    currency: { type: 'string', enum: ['EUR', 'USD'] },
    lines: { type: 'array', items: { $ref: '#/$defs/line' } },
  },
  $defs: { line: { type: 'object', required: ['sku'], properties: { sku: { type: 'string' } } } },
};

function entry(type: string, version: number, schema: SchemaObject): SchemaSetEntry {
  return {
    type,
    version,
    id: `urn:eventrunner:schema:t:es:${encodeURIComponent(type)}:v${version}`,
    digest: schemaDigest(schema),
    schema,
  };
}

const structured = (id: string, type: string, data: unknown) =>
  JSON.stringify({
    specversion: '1.0',
    id,
    source: '/test',
    type,
    datacontenttype: 'application/json',
    data,
  });
const CE = { 'content-type': 'application/cloudevents+json', ...bearer(TOKENS.shop) };

describe('event schemas at ingest', () => {
  let h: Harness;
  let setFile: string;
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'eventrunner-schemas-'));
    setFile = join(dir, 'schemas.json');
    writeFileSync(setFile, renderSchemaSet({ entries: [entry('com.shop.order.>', 1, order)] }));
    h = await startHarness({
      natsUrl: natsEnv().url,
      config: {
        schemaSet: { file: setFile, reloadIntervalMs: 200 },
        schemas: { 'com.shop.ping': { type: 'object', required: ['at'] } },
        eventSource: { namespace: 't', name: 'es', httpUrl: 'http://es-ingest.t.svc:8080' },
      },
    });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('stores valid events with dataschema naming the version that checked them', async () => {
    const r = await post(
      h.httpUrl,
      structured('ok-1', 'com.shop.order.created', { orderId: 'o1', amount: 5, currency: 'EUR' }),
      CE,
    );
    expect(r.status).toBe(202);
    const stored = (await h.read()).find((m) => m.event.id === 'ok-1');
    expect(stored?.event.dataschema).toBe('urn:eventrunner:schema:t:es:com.shop.order.%3E:v1');
    // A static schema from the config has no version id: dataschema stays as sent (here: none).
    expect((await post(h.httpUrl, structured('ping-1', 'com.shop.ping', { at: 1 }), CE)).status).toBe(202);
    expect((await h.read()).find((m) => m.event.id === 'ping-1')?.event.dataschema).toBeUndefined();
  });

  it('answers 400 with the type, the pointer into data and the keyword, and stores nothing', async () => {
    const r = await post(
      h.httpUrl,
      structured('bad-1', 'com.shop.order.created', { orderId: 'o1', amount: -1, currency: 'EUR' }),
      CE,
    );
    expect(r.status).toBe(400);
    expect(r.body).toEqual({
      error: 'schema',
      id: 'bad-1',
      message:
        'event "bad-1" does not match the schema for type com.shop.order.created: data/amount must be >= 0',
      type: 'com.shop.order.created',
      pointer: '/amount',
      keyword: 'minimum',
      dataschema: 'urn:eventrunner:schema:t:es:com.shop.order.%3E:v1',
    });
    const nested = await post(
      h.httpUrl,
      structured('bad-2', 'com.shop.order.created', {
        orderId: 'o',
        amount: 1,
        currency: 'EUR',
        lines: [{}],
      }),
      CE,
    );
    expect(nested.body).toMatchObject({ pointer: '/lines/0/sku', keyword: 'required' });
    expect((await h.read()).map((m) => m.event.id)).not.toContain('bad-1');
  });

  it('checks raw JSON, binary mode and each event of a batch, answering per event', async () => {
    const raw = await post(
      h.httpUrl,
      JSON.stringify({ eventType: 'com.shop.order.paid', orderId: 'o2', amount: 'ten', currency: 'EUR' }),
      { 'content-type': 'application/json', ...bearer(TOKENS.shop) },
    );
    expect(raw.status).toBe(400);
    expect(raw.body).toMatchObject({ type: 'com.shop.order.paid', pointer: '/amount', keyword: 'type' });

    const binary = await post(h.httpUrl, JSON.stringify({ orderId: 'o3', amount: 1, currency: 'GBP' }), {
      'content-type': 'application/json',
      'ce-specversion': '1.0',
      'ce-id': 'bin-1',
      'ce-source': '/test',
      'ce-type': 'com.shop.order.created',
      ...bearer(TOKENS.shop),
    });
    expect(binary.status).toBe(400);
    expect(binary.body).toMatchObject({ pointer: '/currency', keyword: 'enum' });

    const batch = await post(
      h.httpUrl,
      `[${structured('b-ok', 'com.shop.order.created', { orderId: 'o4', amount: 1, currency: 'USD' })},${structured('b-bad', 'com.shop.order.created', { amount: 1, currency: 'USD' })}]`,
      { 'content-type': 'application/cloudevents-batch+json', ...bearer(TOKENS.shop) },
    );
    expect(batch.status).toBe(207);
    expect((batch.body.results as unknown[])[1]).toMatchObject({
      index: 1,
      id: 'b-bad',
      status: 400,
      error: 'schema',
      pointer: '/orderId',
      keyword: 'required',
      type: 'com.shop.order.created',
    });
    const ids = (await h.read()).map((m) => m.event.id);
    expect(ids).toContain('b-ok');
    expect(ids).not.toContain('b-bad');
  });

  it('refuses invalid data over gRPC with INVALID_ARGUMENT and the pointer in the message', async () => {
    const { Client } = loadIngestProto();
    const client = new Client(h.grpcAddress, credentials.createInsecure()) as unknown as Client & {
      Publish: (r: unknown, md: Metadata, cb: (err: ServiceError | null) => void) => void;
    };
    const md = new Metadata();
    md.set('authorization', `Bearer ${TOKENS.shop}`);
    const err = await new Promise<ServiceError | null>((resolve) =>
      client.Publish(
        {
          id: 'g-1',
          source: '/grpc',
          spec_version: '1.0',
          type: 'com.shop.order.created',
          attributes: { datacontenttype: { ce_string: 'application/json' } },
          text_data: JSON.stringify({ orderId: 'g', amount: 1 }),
        },
        md,
        resolve,
      ),
    );
    client.close();
    expect(err?.code).toBe(status.INVALID_ARGUMENT);
    expect(err?.details).toMatch(/data must have required property 'currency'/);
  });

  it('serves OpenAPI 3.1 and AsyncAPI 3.0 documents that their validators accept', async () => {
    const openapi = (await (await fetch(h.httpUrl.replace('/events', '/openapi.json'))).json()) as {
      components: { schemas: Record<string, unknown> };
    };
    const validator = new Validator();
    const res = await validator.validate(openapi);
    expect(res.errors).toBeUndefined();
    expect(res.valid).toBe(true);
    expect(validator.version).toBe('3.1');
    validator.resolveRefs();
    expect(Object.keys(openapi.components.schemas)).toEqual(
      expect.arrayContaining(['CloudEvent', 'com.shop.order.any-type', 'com.shop.ping']),
    );

    const asyncapi = await (await fetch(h.httpUrl.replace('/events', '/asyncapi.json'))).json();
    const { document, diagnostics } = await new Parser().parse(asyncapi as never);
    expect(diagnostics.filter((d) => d.severity === 0)).toEqual([]);
    expect(document?.version()).toBe('3.0.0');
    expect(
      document
        ?.messages()
        .all()
        .map((m) => m.name()),
    ).toEqual(expect.arrayContaining(['com.shop.order.>', 'com.shop.ping']));
  });

  it('takes a new schema-set file without a restart and keeps the old one when the new is invalid', async () => {
    const v2: SchemaObject = { ...order, required: ['orderId', 'amount'] };
    writeFileSync(setFile, renderSchemaSet({ entries: [entry('com.shop.order.>', 2, v2)] }));
    const noCurrency = (id: string) => structured(id, 'com.shop.order.created', { orderId: 'o', amount: 1 });
    await eventually('version 2 serving', async () => {
      const r = await post(h.httpUrl, noCurrency(`v2-${Date.now()}`), CE);
      return r.status === 202 ? r : undefined;
    });
    const stored = (await h.read()).filter((m) => m.event.id.startsWith('v2-'));
    expect(stored.at(-1)?.event.dataschema).toBe('urn:eventrunner:schema:t:es:com.shop.order.%3E:v2');

    writeFileSync(
      setFile,
      '{"entries": [{"type": "com.shop.order.>", "version": 3, "id": "x", "schema": {"type": 7}}]}',
    );
    await new Promise((r) => setTimeout(r, 800));
    expect((await post(h.httpUrl, noCurrency('still-v2'), CE)).status).toBe(202);
    expect(h.logLines.some((l) => l.includes('Refused a new schema set'))).toBe(true);
  });
});
