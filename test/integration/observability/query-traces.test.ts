// A query result's span, read back from a real Jaeger: three traced orders of one country in one
// tumbling minute go through the processor (each its own trace, from its CloudEvents extension)
// and the shuffle stream (which carries each process span's context in its headers) into a query
// worker; the window's result gets an `emit <query>` span in the first order's trace, child of its
// process span, linking the other two orders' process spans.
import { randomBytes } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jaegerEnv } from '../../stack/context.js';
import { useStackTargets } from '../processor/stack-targets.js';
import { waitFor } from '../processor/support.js';
import { setup, terminalEvents, type Setup } from '../queries/harness.js';
import {
  jaegerTrace,
  linksOf,
  parentOf,
  startWorkload,
  tag,
  type JaegerTrace,
  type Workload,
} from './workloads.js';

const s = useStackTargets('qtraces');
let q: Setup;
const running: Workload[] = [];

const hex = (bytes: number) => randomBytes(bytes).toString('hex');
const minute = 60_000;

beforeAll(async () => {
  const tag = `qt${hex(3)}`;
  q = await setup(
    s,
    tag,
    [
      {
        name: 'per-minute',
        sql: `SELECT data.country AS country, count(*) AS n FROM orders
              WINDOW TUMBLING (SIZE 1 MINUTE, GRACE PERIOD 1 SECOND) GROUP BY data.country`,
        outputs: ['minutes'],
        partitions: 2,
        idleTimeout: '1h',
      },
    ],
    {
      outputs: [
        {
          name: 'minutes',
          sink: {
            clickhouse: {
              url: s.targets.clickhouse.url,
              database: s.database,
              table: `${tag}_minutes`,
              manageSchema: true,
              batch: { maxRows: 100, maxDelay: '100ms' },
            },
            columns: [{ name: 'n', type: 'bigint', from: '/data/n' }],
          },
        },
      ],
    },
  );
  const otel = {
    OTEL_EXPORTER_OTLP_ENDPOINT: jaegerEnv().otlpUrl,
    OTEL_TRACES_SAMPLER: 'parentbased_always_on',
    OTEL_BSP_SCHEDULE_DELAY: '100',
  };
  running.push(
    await startWorkload('process', q.processorFile, { ...otel, OTEL_SERVICE_NAME: 'eventrunner-processor' }),
    await startWorkload('query-worker', q.workerFile('w1'), {
      ...otel,
      OTEL_SERVICE_NAME: 'eventrunner-query-worker',
    }),
  );
});

afterAll(async () => {
  await Promise.all(running.map((w) => w.stop()));
  const jsm = await jetstreamManager(s.nc);
  for (const stream of [q?.n.stream, q?.n.dlqStream, q?.shuffle.stream])
    if (stream) await jsm.streams.delete(stream).catch(() => undefined);
});

describe('query result spans', () => {
  it("puts a window's result in its first input's trace, linking the other inputs", async () => {
    const start = Math.floor((Date.now() - 3_600_000) / minute) * minute;
    const orders = [0, 1, 2].map((i) => ({
      trace: hex(16),
      producer: hex(8),
      id: `${q.tag}-de-${i}`,
      time: start + 1000 + i * 100,
    }));
    await q.publish(
      orders.map((o) => ({
        specversion: '1.0',
        id: o.id,
        source: '/shop/web',
        type: 'com.shop.order.created',
        time: new Date(o.time).toISOString(),
        traceparent: `00-${o.trace}-${o.producer}-01`,
        datacontenttype: 'application/json',
        data: { country: 'DE', user: 'u1', amount: 1 },
      })),
    );
    // A day later in every partition: the minute closes and its result is written.
    await q.publish(terminalEvents(q.tag, start + 86_400_000));

    const traces: JaegerTrace[] = [];
    let emit: JaegerTrace['spans'][number] | undefined;
    await waitFor(
      async () => {
        const first = await jaegerTrace(jaegerEnv().queryUrl, orders[0]!.trace);
        emit = first?.spans.find((sp) => sp.operationName === 'emit per-minute');
        if (!first || !emit) return false;
        traces[0] = first;
        return true;
      },
      60_000,
      'the emit span in the first order’s trace',
    );
    const processOf = async (trace: string) => {
      let t: JaegerTrace | undefined;
      await waitFor(
        async () =>
          (t = await jaegerTrace(jaegerEnv().queryUrl, trace))?.spans.some(
            (sp) => sp.operationName === 'process shop',
          ) ?? false,
        30_000,
        `process span of trace ${trace}`,
      );
      return { trace: t!, span: t!.spans.find((sp) => sp.operationName === 'process shop')! };
    };
    const processes = await Promise.all(orders.map((o) => processOf(o.trace)));
    for (const [i, p] of processes.entries())
      expect(parentOf(p.span), `order ${i}`).toBe(orders[i]!.producer);

    expect(traces[0]!.processes[emit!.processID]?.serviceName).toBe('eventrunner-query-worker');
    expect(parentOf(emit!)).toBe(processes[0]!.span.spanID);
    expect(new Set(linksOf(emit!))).toEqual(new Set([processes[1]!.span.spanID, processes[2]!.span.spanID]));
    for (const p of processes.slice(1)) {
      const ref = emit!.references.find((r) => r.spanID === p.span.spanID)!;
      expect(ref.traceID).toBe(p.trace.traceID);
    }
    expect(tag(emit!, 'eventrunner.query')).toBe('per-minute');
    expect(tag(emit!, 'eventrunner.emit.inputs')).toBe(3);
    expect(tag(emit!, 'eventrunner.emit.dropped_inputs')).toBe(0);
    expect(tag(emit!, 'eventrunner.result.time')).toBe(new Date(start + minute).toISOString());
    expect(typeof tag(emit!, 'eventrunner.result.id')).toBe('string');
    // One result, one span: the minute's window emitted once.
    expect(traces[0]!.spans.filter((sp) => sp.operationName === 'emit per-minute')).toHaveLength(1);
  });
});
