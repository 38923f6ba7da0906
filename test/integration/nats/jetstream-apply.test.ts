// The operator's JetStream apply step against a real nats-server: create, converge (no change on a
// second pass), repair drift made behind its back, refuse an in-place storage change.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { EventSource, Pipeline } from '../../../api/generated/types.js';
import {
  deadLetterStream,
  ensureConsumer,
  ensurePipelineStreams,
  ensureStream,
  eventSourceStream,
  pipelineConsumer,
} from '../../../operator/jetstream.js';
import { natsEnv } from '../../stack/context.js';

// A namespace of its own per run: the streams' names derive from it, so a reused server starts clean.
const NS = `js-apply-${Math.random().toString(36).slice(2, 8)}`;

function eventSource(name: string, storage: 'file' | 'memory' = 'file'): EventSource {
  return {
    apiVersion: 'eventrunner.io/v1alpha1',
    kind: 'EventSource',
    metadata: { name, namespace: NS },
    spec: {
      ingest: {
        http: { enabled: true, port: 8080 },
        grpc: { enabled: true, port: 9090 },
        replicas: 1,
        auth: { enabled: true, tokensSecretRef: { name: 't', key: 'tokens' } },
        maxBatchEvents: 1000,
        rateLimit: { eventsPerSecond: 0 },
        maxBodyBytes: '1Mi',
      },
      conversion: { defaultType: 'io.eventrunner.raw' },
      stream: { maxAge: '72h', maxBytes: '64Mi', replicas: 1, storage, duplicateWindow: '2m' },
      suspend: false,
      deletionPolicy: 'Delete',
    },
  };
}

function pipeline(name: string, backoff?: string[]): Pipeline {
  return {
    apiVersion: 'eventrunner.io/v1alpha1',
    kind: 'Pipeline',
    metadata: { name, namespace: NS },
    spec: {
      sources: [{ eventSource: 'shop', types: ['com.shop.order.*'] }],
      rules: '',
      ruleEngine: { mode: 'once', maxCycles: 5000 },
      outputs: [{ name: 'store', sink: 's' }],
      delivery: { maxDeliver: 5, ackWait: '30s', maxAckPending: 1000, ...(backoff ? { backoff } : {}) },
      deadLetter: { maxAge: '168h', maxBytes: '1Gi', deletionPolicy: 'Delete' },
      replicas: 1,
      suspend: false,
    },
  } as Pipeline;
}

describe('operator JetStream apply', () => {
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  beforeAll(async () => {
    nc = await connect({ servers: natsEnv().url });
    jsm = await jetstreamManager(nc);
  });
  afterAll(async () => {
    await nc?.drain();
  });

  it('creates a stream, then finds nothing to change', async () => {
    const desired = eventSourceStream(eventSource('shop'));
    expect(desired.name).toBe(`ER_${NS}_shop`);
    const first = await ensureStream(jsm, desired);
    expect(first.action).toBe('created');
    expect(first.info.config.subjects).toEqual([`er.${NS}.shop.>`]);
    const second = await ensureStream(jsm, desired);
    expect(second.action).toBe('unchanged');
  });

  it('repairs drift made behind its back', async () => {
    const desired = eventSourceStream(eventSource('drift'));
    await ensureStream(jsm, desired);
    const live = await jsm.streams.info(desired.name);
    await jsm.streams.update(desired.name, { ...live.config, max_bytes: 1024 * 1024 });
    const repaired = await ensureStream(jsm, desired);
    expect(repaired.action).toBe('updated');
    expect(repaired.drifted).toEqual(['max_bytes']);
    expect((await jsm.streams.info(desired.name)).config.max_bytes).toBe(64 * 1024 * 1024);
  });

  it('recreates a stream that NATS lost', async () => {
    const desired = eventSourceStream(eventSource('lost'));
    await ensureStream(jsm, desired);
    await jsm.streams.delete(desired.name);
    expect((await ensureStream(jsm, desired)).action).toBe('created');
  });

  it('refuses to change storage in place, with a reason that says what to do', async () => {
    await ensureStream(jsm, eventSourceStream(eventSource('store')));
    await expect(ensureStream(jsm, eventSourceStream(eventSource('store', 'memory')))).rejects.toThrow(
      /cannot change a stream's storage in place/,
    );
  });

  it('creates a durable consumer with type filters and the ack wait (backoff stays with the processor), converges, and repairs drift', async () => {
    await ensureStream(jsm, eventSourceStream(eventSource('shop')));
    const pl = pipeline('orders', ['1s', '10s']);
    const desired = pipelineConsumer(pl, pl.spec.sources[0]!);
    const first = await ensureConsumer(jsm, `ER_${NS}_shop`, desired);
    expect(first.action).toBe('created');
    expect(first.info.config.ack_wait).toBe(30e9);
    expect(first.info.config.backoff).toBeUndefined();
    expect(first.info.config.filter_subjects ?? [first.info.config.filter_subject]).toEqual([
      `er.${NS}.shop.com.shop.order.*`,
    ]);
    expect((await ensureConsumer(jsm, `ER_${NS}_shop`, desired)).action).toBe('unchanged');
    await jsm.consumers.update(`ER_${NS}_shop`, desired.durable_name!, { max_ack_pending: 7 });
    const repaired = await ensureConsumer(jsm, `ER_${NS}_shop`, desired);
    expect(repaired.drifted).toEqual(['max_ack_pending']);
    expect(repaired.info.config.max_ack_pending).toBe(1000);
  });

  it('creates the dead-letter stream of a Pipeline', async () => {
    const res = await ensureStream(jsm, deadLetterStream(pipeline('orders')));
    expect(res.info.config.name).toBe(`ER_DLQ_${NS}_orders`);
    expect(res.info.config.subjects).toEqual([`erdlq.${NS}.orders`]);
  });

  it('creates the advisory stream of a Pipeline and the processors’ consumer on it, then finds nothing to change', async () => {
    const name = `advised${Math.random().toString(36).slice(2, 8)}`;
    const pl = pipeline(name);
    const first = await ensurePipelineStreams(jsm, pl, 1);
    expect(first.advisories.action).toBe('created');
    expect(first.advisories.info.config.subjects).toEqual([
      `$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.ER_${NS}_shop.ER_PL_${NS}_${name}`,
    ]);
    expect(first.advisoryConsumer.info.config.max_deliver).toBe(-1);
    const second = await ensurePipelineStreams(jsm, pl, 1);
    expect([second.deadLetters.action, second.advisories.action, second.advisoryConsumer.action]).toEqual([
      'unchanged',
      'unchanged',
      'unchanged',
    ]);
  });
});
