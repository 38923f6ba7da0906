// EventSource suspend at the ingest: the operator's mark on the stream (set by the same function the
// EventSource controller runs) makes the running ingest refuse HTTP with 503 and gRPC with
// UNAVAILABLE, Retry-After and a message naming the suspend, without a restart; nothing refused is
// stored, and removing the mark makes it accept again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { credentials, Metadata, status, type Client, type ServiceError } from '@grpc/grpc-js';
import type { EventSource } from '../../../api/generated/types.js';
import { syncStreamSuspend } from '../../../operator/controllers/eventsource-suspend.js';
import { loadIngestProto } from '../../../runtime/ingest/proto.js';
import { natsEnv } from '../../stack/context.js';
import { eventually } from '../../support/operator.js';
import { bearer, post, startHarness, TOKENS, type Harness } from './harness.js';

type Unary = (req: unknown, md: Metadata, cb: (err: ServiceError | null, res?: unknown) => void) => void;
interface IngestClient extends Client {
  Publish: Unary;
}

describe('ingest of a suspended EventSource', () => {
  let h: Harness;
  let client: IngestClient;
  beforeAll(async () => {
    h = await startHarness({ natsUrl: natsEnv().url });
    const { Client } = loadIngestProto();
    client = new Client(h.grpcAddress, credentials.createInsecure()) as unknown as IngestClient;
  });
  afterAll(async () => {
    client?.close();
    await h?.close();
  });

  const eventSource = (suspend: boolean) => ({ spec: { suspend } }) as unknown as EventSource;
  const headers = { ...bearer(TOKENS.shop), 'content-type': 'application/cloudevents+json' };
  const http = (id: string) =>
    post(
      h.httpUrl,
      JSON.stringify({
        specversion: '1.0',
        id,
        source: '/suspend',
        type: 'com.example.suspend',
        data: { id },
      }),
      headers,
    );
  const grpc = (id: string) => {
    const md = new Metadata();
    md.set('authorization', `Bearer ${TOKENS.shop}`);
    return new Promise<ServiceError | null>((resolve) =>
      client.Publish(
        { id, source: '/suspend', spec_version: '1.0', type: 'com.example.suspend', text_data: '{}' },
        md,
        (err) => resolve(err),
      ),
    );
  };

  it(
    'answers 503 / UNAVAILABLE while suspended and accepts again once resumed',
    { timeout: 60_000 },
    async () => {
      expect((await http('before')).status).toBe(202);

      const info = await h.jsm.streams.info(h.stream);
      expect(await syncStreamSuspend(h.jsm, eventSource(true), info)).toBe('suspended');
      // Applying the same spec again changes nothing.
      expect(
        await syncStreamSuspend(h.jsm, eventSource(true), await h.jsm.streams.info(h.stream)),
      ).toBeUndefined();

      let n = 0;
      // Requests in the seconds before the ingest reads the mark are still accepted (202).
      const acceptedDuring: string[] = [];
      const refused = await eventually('HTTP 503', async () => {
        const id = `during-${n++}`;
        const r = await http(id);
        if (r.status === 202) acceptedDuring.push(id);
        return r.status === 503 ? r : undefined;
      });
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(JSON.stringify(refused.body)).toMatch(/is suspended \(spec\.suspend: true\)/);
      const err = await grpc('during-grpc');
      expect(err?.code).toBe(status.UNAVAILABLE);
      expect(err?.details).toMatch(/is suspended/);
      expect(err?.metadata.get('retry-after')[0]).toBeDefined();
      // The mark is in the stream's metadata, where every ingest pod reads it.
      const marked = await h.jsm.streams.info(h.stream);
      expect(marked.config.metadata?.['eventrunner.io/suspended']).toBe('true');

      expect(await syncStreamSuspend(h.jsm, eventSource(false), marked)).toBe('resumed');
      expect(
        (await h.jsm.streams.info(h.stream)).config.metadata?.['eventrunner.io/suspended'],
      ).toBeUndefined();
      await eventually('HTTP 202 again', async () =>
        (await http('after')).status === 202 ? true : undefined,
      );
      expect(await grpc('after-grpc')).toBeNull();

      // Exactly what was acknowledged is in the stream: nothing refused while suspended.
      const ids = (await h.read()).map((s) => s.event.id);
      expect(ids.filter((id) => id.startsWith('during')).sort()).toEqual(acceptedDuring.sort());
      expect(ids).toEqual(expect.arrayContaining(['before', 'after', 'after-grpc']));
      expect(ids).not.toContain('during-grpc');
    },
  );
});
