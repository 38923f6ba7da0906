// CloudEvents attribute formats on every ingest path, against a real NATS: datacontenttype an
// RFC 2046 media type, dataschema an absolute URI, time a real RFC 3339 instant (no February 30 or
// hour 24; a leap second accepted). Each rule on structured, binary, batch and gRPC, and `time` on
// converted raw JSON too.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { credentials, Metadata, type Client, type ServiceError } from '@grpc/grpc-js';
import { natsEnv } from '../../stack/context.js';
import { loadIngestProto } from '../../../runtime/ingest/proto.js';
import type { ProtoAttributeValue } from '../../../runtime/ingest/proto-event.js';
import { bearer, post, startHarness, TOKENS, type Harness } from './harness.js';

type Attrs = { datacontenttype?: string; dataschema?: string; time?: string };

/** [rule, attributes, the attribute refused (undefined: accepted)] */
const rules: [string, Attrs, string | undefined][] = [
  ['datacontenttype without a subtype', { datacontenttype: 'json' }, 'datacontenttype'],
  [
    'datacontenttype with a broken parameter',
    { datacontenttype: 'application/json; charset' },
    'datacontenttype',
  ],
  ['datacontenttype with parameters', { datacontenttype: 'application/json; charset=utf-8' }, undefined],
  ['dataschema relative', { dataschema: '/schemas/order.json' }, 'dataschema'],
  ['dataschema with a space', { dataschema: 'https://example.com/a b' }, 'dataschema'],
  ['dataschema absolute', { dataschema: 'https://example.com/schemas/order.json' }, undefined],
  ['time on February 30', { time: '2024-02-30T10:00:00Z' }, 'time'],
  ['time at hour 24', { time: '2024-03-01T24:00:00Z' }, 'time'],
  ['time on a leap second', { time: '2016-12-31T23:59:60Z' }, undefined],
];

const ce = (id: string, a: Attrs) => ({
  specversion: '1.0',
  id,
  source: '/attrs',
  type: 'com.example.attrs',
  datacontenttype: 'application/json',
  ...a,
  data: { n: 1 },
});

describe('CloudEvents attribute formats on every path', () => {
  let h: Harness;
  let client: Client & {
    Publish: (r: unknown, md: Metadata, cb: (err: ServiceError | null) => void) => void;
  };
  const md = new Metadata();
  md.set('authorization', `Bearer ${TOKENS.shop}`);
  let n = 0;

  beforeAll(async () => {
    h = await startHarness({
      natsUrl: natsEnv().url,
      config: { conversion: { defaultType: 'com.example.raw', timeFrom: '/at' } },
    });
    const { Client: C } = loadIngestProto();
    client = new C(h.grpcAddress, credentials.createInsecure()) as unknown as typeof client;
  });
  afterAll(async () => {
    client?.close();
    await h?.close();
  });

  /** Sends one event on a path; resolves with undefined when stored, else the refusal's message. */
  const paths: Record<string, (id: string, a: Attrs) => Promise<string | undefined>> = {
    structured: async (id, a) => {
      const r = await post(h.httpUrl, JSON.stringify(ce(id, a)), {
        'content-type': 'application/cloudevents+json',
        ...bearer(TOKENS.shop),
      });
      return r.status === 202 ? undefined : String(r.body.message);
    },
    binary: async (id, a) => {
      const headers: Record<string, string> = {
        'ce-specversion': '1.0',
        'ce-id': id,
        'ce-source': '/attrs',
        'ce-type': 'com.example.attrs',
        'content-type': a.datacontenttype ?? 'application/json',
        ...bearer(TOKENS.shop),
      };
      if (a.dataschema) headers['ce-dataschema'] = encodeURI(a.dataschema);
      if (a.time) headers['ce-time'] = a.time;
      const r = await post(h.httpUrl, '{"n":1}', headers);
      return r.status === 202 ? undefined : String(r.body.message);
    },
    batch: async (id, a) => {
      const r = await post(h.httpUrl, JSON.stringify([ce(`${id}-ok`, {}), ce(id, a)]), {
        'content-type': 'application/cloudevents-batch+json',
        ...bearer(TOKENS.shop),
      });
      const result = (r.body.results as { status: number; message?: string }[])[1]!;
      return result.status === 202 ? undefined : String(result.message);
    },
    grpc: async (id, a) => {
      const attributes: Record<string, ProtoAttributeValue> = {
        datacontenttype: { ce_string: a.datacontenttype ?? 'application/json' },
      };
      if (a.dataschema) attributes.dataschema = { ce_uri: a.dataschema };
      if (a.time) attributes.time = { ce_string: a.time };
      const err = await new Promise<ServiceError | null>((resolve) =>
        client.Publish(
          {
            id,
            source: '/attrs',
            spec_version: '1.0',
            type: 'com.example.attrs',
            attributes,
            text_data: '{"n":1}',
          },
          md,
          resolve,
        ),
      );
      return err === null ? undefined : err.details;
    },
  };

  for (const [path, send] of Object.entries(paths)) {
    it.each(rules)(`${path}: %s`, async (_rule, attrs, refused) => {
      const id = `${path}-${++n}`;
      const message = await send(id, attrs);
      if (refused === undefined) {
        expect(message).toBeUndefined();
        const stored = (await h.read()).find((m) => m.event.id === id)?.event;
        expect(stored).toMatchObject(attrs.time ? { time: attrs.time } : {});
      } else {
        expect(message).toMatch(new RegExp(`attribute "${refused}" must be`));
        expect((await h.read()).map((m) => m.event.id)).not.toContain(id);
      }
    });
  }

  it.each([
    ['February 30', '2024-02-30T10:00:00Z', 400],
    ['hour 24', '2024-03-01T24:00:00Z', 400],
    ['a leap second', '2016-12-31T23:59:60Z', 202],
  ])('raw JSON: time from conversion.timeFrom on %s', async (_what, at, expected) => {
    const r = await post(h.httpUrl, JSON.stringify({ at, n: 1 }), {
      'content-type': 'application/json',
      ...bearer(TOKENS.shop),
    });
    expect(r.status).toBe(expected);
    if (expected === 400) expect(r.body.message).toMatch(/RFC 3339/);
  });
});
