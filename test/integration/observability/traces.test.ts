// One event's trace, end to end, read back from a real Jaeger: the producer's traceparent (HTTP
// header or CloudEvents extension) → ingest's publish span → the processor's process span (its
// parent carried in the JetStream headers) → a write span per sink batch (child of and linked to
// the event's process span), and a dead-lettered event's trace ending in its deadletter span.
import { randomBytes } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jaegerEnv, natsEnv } from '../../stack/context.js';
import { cassandraIds, clickhouseIds } from '../processor/checks.js';
import { processConfig } from '../processor/fixtures.js';
import { useStackTargets } from '../processor/stack-targets.js';
import { names, natsSetup, readDeadLetters, waitFor, writeConfig, type Names } from '../processor/support.js';
import {
  jaegerTrace,
  linksOf,
  parentOf,
  startWorkload,
  tag,
  type JaegerSpan,
  type JaegerTrace,
  type Workload,
} from './workloads.js';

const s = useStackTargets('traces');
let n: Names;
let ingest: Workload;
let processor: Workload;
let eventsUrl: string;

const traceId = () => randomBytes(16).toString('hex');
const spanId = () => randomBytes(8).toString('hex');

/** Waits until Jaeger has every one of these span names in the trace. */
async function traceWith(id: string, spans: string[]): Promise<JaegerTrace> {
  let trace: JaegerTrace | undefined;
  await waitFor(
    async () => {
      trace = await jaegerTrace(jaegerEnv().queryUrl, id);
      const have = new Set(trace?.spans.map((sp) => sp.operationName));
      return spans.every((name) => have.has(name));
    },
    60_000,
    `trace ${id} with spans ${spans.join(', ')}`,
  );
  return trace!;
}

const byName = (t: JaegerTrace, name: string): JaegerSpan => {
  const found = t.spans.filter((sp) => sp.operationName === name);
  expect(found, name).toHaveLength(1);
  return found[0]!;
};
const service = (t: JaegerTrace, sp: JaegerSpan) => t.processes[sp.processID]?.serviceName;

beforeAll(async () => {
  n = names('trace');
  await natsSetup(natsEnv().url, n, { maxDeliver: 3 });
  const otel = {
    OTEL_EXPORTER_OTLP_ENDPOINT: jaegerEnv().otlpUrl,
    OTEL_TRACES_SAMPLER: 'parentbased_always_on',
    // Export within a moment rather than the default five seconds.
    OTEL_BSP_SCHEDULE_DELAY: '100',
  };
  ingest = await startWorkload(
    'ingest',
    writeConfig({
      nats: { url: natsEnv().url },
      stream: { name: n.stream, subjectPrefix: n.prefix },
      http: { port: 0, host: '127.0.0.1' },
      grpc: { enabled: false },
      ops: { port: 0, host: '127.0.0.1' },
      auth: { enabled: false },
    }),
    { ...otel, OTEL_SERVICE_NAME: 'eventrunner-ingest' },
  );
  eventsUrl = `http://127.0.0.1:${ingest.port('Serving HTTP ingest')}/events`;
  processor = await startWorkload('process', writeConfig(processConfig(s.targets, n)), {
    ...otel,
    OTEL_SERVICE_NAME: 'eventrunner-processor',
  });
});

afterAll(async () => {
  await Promise.all([ingest?.stop(), processor?.stop()]);
  const jsm = await jetstreamManager(s.nc);
  for (const stream of [n.stream, n.dlqStream]) await jsm.streams.delete(stream).catch(() => undefined);
});

async function send(event: object, headers: Record<string, string> = {}): Promise<void> {
  const res = await fetch(eventsUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/cloudevents+json', ...headers },
    body: JSON.stringify({ specversion: '1.0', source: '/shop/web', ...event }),
  });
  expect(res.status, await res.text()).toBe(202);
}

describe('tracing through ingest, processor and sinks', () => {
  it('continues the producer trace into one publish, one process and a write span per sink', async () => {
    const trace = traceId();
    const producerSpan = spanId();
    const id = `traced-${trace.slice(0, 8)}`;
    await send(
      { id, type: 'com.shop.order.created', data: { amount: 1500, qty: 1, country: 'DE' } },
      { traceparent: `00-${trace}-${producerSpan}-01` },
    );
    const t = await traceWith(trace, [
      `publish ${n.stream}`,
      'process shop',
      'write store',
      'write analytics',
    ]);

    const publish = byName(t, `publish ${n.stream}`);
    expect(service(t, publish)).toBe('eventrunner-ingest');
    expect(parentOf(publish)).toBe(producerSpan);
    expect(tag(publish, 'cloudevents.event_id')).toBe(id);

    const process = byName(t, 'process shop');
    expect(service(t, process)).toBe('eventrunner-processor');
    expect(parentOf(process)).toBe(publish.spanID);
    expect(tag(process, 'eventrunner.rules.outcome')).toBe('routed');
    expect(tag(process, 'eventrunner.settled')).toBe('ack');

    // Cassandra (store) and ClickHouse (analytics): each batch span is a child of the event's
    // process span; a batch of one event links no other.
    for (const [output, system] of [
      ['store', 'cassandra'],
      ['analytics', 'clickhouse'],
    ] as const) {
      const write = byName(t, `write ${output}`);
      expect(parentOf(write)).toBe(process.spanID);
      expect(linksOf(write)).toEqual([]);
      expect(tag(write, 'db.system.name')).toBe(system);
      expect(tag(write, 'eventrunner.batch.rows')).toBeGreaterThanOrEqual(1);
      // The write finished before the event was acknowledged, which ends the process span. The
      // write span is ended in the write's own callback, so its end may be stamped up to a
      // millisecond after the acknowledgement that followed it (seen once: 656 µs).
      expect(write.startTime + write.duration).toBeLessThanOrEqual(
        process.startTime + process.duration + 1000,
      );
    }
    expect(t.spans).toHaveLength(4);
    expect(await cassandraIds(s.cql, s.keyspace, 'orders')).toContain(id);
    expect((await clickhouseIds(s.ch, s.database, 'orders')).ids).toContain(id);
  });

  it('gives a batch of several events one write span, child of the first and linking the others', async () => {
    const traces = [traceId(), traceId()];
    const run = traces[0]!.slice(0, 8);
    // Two events of two traces in one request: one pull, one ClickHouse batch.
    const res = await fetch(eventsUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/cloudevents-batch+json' },
      body: JSON.stringify(
        traces.map((t, i) => ({
          specversion: '1.0',
          id: `batched-${run}-${i}`,
          source: '/shop/web',
          type: 'com.shop.order.created',
          traceparent: `00-${t}-${spanId()}-01`,
          data: { amount: 2000 + i, qty: 1 },
        })),
      ),
    });
    expect(res.status, await res.text()).toBe(200);
    const [a, b] = await Promise.all(traces.map((t) => traceWith(t, ['process shop'])));
    const processes = [byName(a!, 'process shop'), byName(b!, 'process shop')];
    // The batch span lives in the trace of the event it was started for.
    let writes: JaegerSpan[] = [];
    await waitFor(
      async () => {
        const both = await Promise.all(traces.map((t) => jaegerTrace(jaegerEnv().queryUrl, t)));
        writes = both.flatMap((t) => t?.spans.filter((sp) => sp.operationName === 'write analytics') ?? []);
        return writes.length > 0;
      },
      60_000,
      'the analytics batch span',
    );
    expect(writes).toHaveLength(1);
    const [write] = writes;
    const first = processes.find((p) => p.spanID === parentOf(write!))!;
    const other = processes.find((p) => p !== first)!;
    expect(first).toBeDefined();
    expect(linksOf(write!)).toEqual([other.spanID]);
    expect(write!.references.find((r) => r.spanID === other.spanID)!.traceID).toBe(other.traceID);
    expect(tag(write!, 'eventrunner.batch.rows')).toBe(2);
    expect(tag(write!, 'eventrunner.batch.sampled_events')).toBe(2);
  });

  it("ends a dead-lettered event's trace in its deadletter span, parented by the event's extension", async () => {
    const trace = traceId();
    const producerSpan = spanId();
    const id = `poison-${trace.slice(0, 8)}`;
    // No traceparent header: the CloudEvents distributed-tracing extension carries it.
    await send({
      id,
      type: 'com.shop.order.created',
      traceparent: `00-${trace}-${producerSpan}-01`,
      data: { poison: true, amount: 1, qty: 1 },
    });
    const t = await traceWith(trace, [`publish ${n.stream}`, 'process shop', `deadletter ${n.dlqStream}`]);
    const publish = byName(t, `publish ${n.stream}`);
    expect(parentOf(publish)).toBe(producerSpan);
    const process = byName(t, 'process shop');
    expect(parentOf(process)).toBe(publish.spanID);
    expect(tag(process, 'eventrunner.rules.outcome')).toBe('deadletter');
    expect(tag(process, 'eventrunner.settled')).toBe('deadletter');
    const dl = byName(t, `deadletter ${n.dlqStream}`);
    expect(parentOf(dl)).toBe(process.spanID);
    expect(tag(dl, 'eventrunner.deadletter.cause')).toBe('rule');
    expect(tag(dl, 'eventrunner.deadletter.reason')).toBe('poison payload');
    expect(t.spans.map((sp) => sp.operationName).filter((name) => name.startsWith('write'))).toEqual([]);
    // Nothing the processor did for the event ends after the dead letter was published (but the
    // process span around it). Ingest's publish span is left out: it ends when the stream's ack
    // reaches ingest, which may come after the processor has already dead-lettered the event.
    const dlEnd = dl.startTime + dl.duration;
    for (const sp of t.spans.filter((x) => x !== process && service(t, x) === 'eventrunner-processor'))
      expect(sp.startTime + sp.duration).toBeLessThanOrEqual(dlEnd);

    // The dead letter keeps the context: the producer's extension in its body, ingest's in its headers.
    await waitFor(
      async () => (await readDeadLetters(s.nc, n.dlqStream)).some((l) => l.id === id),
      30_000,
      'the dead letter',
    );
    const jsm = await jetstreamManager(s.nc);
    const info = await jsm.streams.info(n.dlqStream);
    const stored = [];
    for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
      const m = await jsm.streams.getMessage(n.dlqStream, { seq });
      if (m?.json<{ id: string }>().id === id) stored.push(m);
    }
    expect(stored).toHaveLength(1);
    expect(stored[0]!.header.get('traceparent')).toBe(`00-${trace}-${publish.spanID}-01`);
    expect(stored[0]!.json<{ traceparent: string }>().traceparent).toBe(`00-${trace}-${producerSpan}-01`);
  });
});
