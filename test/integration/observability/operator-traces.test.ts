// The operator's reconcile spans, read back from a real Jaeger: an operator set up from OTEL_*
// variables (as the CLI does) reconciles a Pipeline on the real kube-apiserver; Jaeger then holds
// `reconcile Pipeline` spans naming it, with the result and requeue, whose children are the
// API server requests the reconcile sent (its status patch among them).
import { randomBytes } from 'node:crypto';
import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pipeline } from '../../../api/generated/types.js';
import { createLogger } from '../../../runtime/common/logger.js';
import type { Operator } from '../../../operator/manager.js';
import {
  reconcileAttributes,
  startOperatorTracing,
  type OperatorTracing,
} from '../../../operator/tracing.js';
import { clickhouseEnv, jaegerEnv, kubeEnv, natsEnv } from '../../stack/context.js';
import { adminConfig } from '../../support/kube.js';
import {
  createNamespace,
  eventually,
  installCrds,
  startTestOperator,
  testOptions,
} from '../../support/operator.js';
import { parentOf, tag, type JaegerSpan, type JaegerTrace } from './workloads.js';

const group = 'eventrunner.io';
const version = 'v1alpha1';
const suffix = randomBytes(3).toString('hex');
const ns = `obs-op-${suffix}`;
const service = `eventrunner-operator-${suffix}`;

/** Every trace Jaeger holds for the service (the query API's search by service). */
async function serviceTraces(queryUrl: string): Promise<JaegerTrace[]> {
  const res = await fetch(`${queryUrl}/api/traces?service=${service}&limit=1000&lookback=1h`, {
    signal: AbortSignal.timeout(5000),
  });
  if (!res.ok) throw new Error(`Jaeger answered ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { data?: JaegerTrace[] }).data ?? [];
}

describe('operator traces', () => {
  let kc: KubeConfig;
  let custom: CustomObjectsApi;
  let tracing: OperatorTracing | undefined;
  let operator: Operator | undefined;

  const create = (plural: string, body: object) =>
    custom.createNamespacedCustomObject({ group, version, namespace: ns, plural, body });

  beforeAll(async () => {
    kc = adminConfig(kubeEnv().kubeconfig);
    await installCrds(kc);
    await createNamespace(kc, ns);
    custom = kc.makeApiClient(CustomObjectsApi);
    const options = testOptions(natsEnv().url, { watchNamespace: ns, resyncMs: 60_000 });
    const log = createLogger({ name: 'operator-traces-test', level: options.logLevel });
    tracing = await startOperatorTracing(
      { OTEL_EXPORTER_OTLP_ENDPOINT: jaegerEnv().otlpUrl, OTEL_SERVICE_NAME: service },
      kc.getCurrentCluster()?.server,
      log,
    );
    operator = await startTestOperator(kc, options, tracing?.reconciles);
  });
  afterAll(async () => {
    await operator?.stop();
    await tracing?.shutdown();
  });

  it('is off without an OTLP endpoint', async () => {
    const log = createLogger({ name: 'operator-traces-test', level: 'warn' });
    expect(await startOperatorTracing({}, kc.getCurrentCluster()?.server, log)).toBeUndefined();
    await expect(
      startOperatorTracing(
        { OTEL_EXPORTER_OTLP_ENDPOINT: jaegerEnv().otlpUrl, OTEL_TRACES_SAMPLER: 'sometimes' },
        undefined,
        log,
      ),
    ).rejects.toThrow(/OTEL_TRACES_SAMPLER: "sometimes"/);
  });

  it('exports a span per reconcile with its API requests as children', async () => {
    await create('eventsources', {
      apiVersion: `${group}/${version}`,
      kind: 'EventSource',
      metadata: { name: 'shop' },
      spec: { ingest: { auth: { enabled: false } } },
    });
    await create('sinks', {
      apiVersion: `${group}/${version}`,
      kind: 'Sink',
      metadata: { name: 'orders-ch' },
      spec: { clickhouse: { url: clickhouseEnv().url, database: `obs_op_${suffix}`, table: 'orders' } },
    });
    await create('pipelines', {
      apiVersion: `${group}/${version}`,
      kind: 'Pipeline',
      metadata: { name: 'orders' },
      spec: {
        sources: [{ eventSource: 'shop' }],
        outputs: [{ name: 'analytics', sink: 'orders-ch' }],
      },
    });
    await eventually('Pipeline status observed', async () => {
      const pl = (await custom.getNamespacedCustomObject({
        group,
        version,
        namespace: ns,
        plural: 'pipelines',
        name: 'orders',
      })) as Pipeline;
      return pl.status?.observedGeneration === pl.metadata.generation ? pl : undefined;
    });
    // Everything the operator traced is exported once its queue has stopped.
    await operator!.stop();
    operator = undefined;
    await tracing!.shutdown();
    tracing = undefined;

    const traces = await eventually(
      'reconcile Pipeline spans in Jaeger',
      async () => {
        const all = await serviceTraces(jaegerEnv().queryUrl);
        const withPipeline = all.filter((t) =>
          t.spans.some(
            (sp) =>
              sp.operationName === 'reconcile Pipeline' && tag(sp, reconcileAttributes.name) === 'orders',
          ),
        );
        return withPipeline.length > 0 ? { all, withPipeline } : undefined;
      },
      60_000,
    );

    const reconciles: { trace: JaegerTrace; span: JaegerSpan }[] = traces.withPipeline.flatMap((trace) =>
      trace.spans.filter((sp) => sp.operationName === 'reconcile Pipeline').map((span) => ({ trace, span })),
    );
    for (const { trace, span } of reconciles) {
      expect(tag(span, reconcileAttributes.kind)).toBe('Pipeline');
      expect(tag(span, reconcileAttributes.namespace)).toBe(ns);
      expect(tag(span, reconcileAttributes.name)).toBe('orders');
      expect(['success', 'error', 'terminal']).toContain(tag(span, reconcileAttributes.result));
      // One reconcile is one trace: the span is its root.
      expect(parentOf(span)).toBeUndefined();
      expect(trace.processes[span.processID]?.serviceName).toBe(service);
      if (tag(span, reconcileAttributes.result) === 'success') {
        const after = tag(span, reconcileAttributes.requeueAfterMs);
        expect(tag(span, reconcileAttributes.requeue)).toBe(after !== undefined);
      }
    }
    // The reconcile that wrote the Pipeline's status: a successful one, requeued for its resync,
    // whose child spans are its API server requests, the status patch among them.
    const statusPath = `/apis/${group}/${version}/namespaces/${ns}/pipelines/orders/status`;
    const children = (r: { trace: JaegerTrace; span: JaegerSpan }) =>
      r.trace.spans.filter((sp) => parentOf(sp) === r.span.spanID);
    const wrote = reconciles.find((r) => children(r).some((sp) => tag(sp, 'url.path') === statusPath));
    expect(wrote, 'a reconcile span with the status patch as a child').toBeDefined();
    expect(tag(wrote!.span, reconcileAttributes.result)).toBe('success');
    expect(tag(wrote!.span, reconcileAttributes.requeue)).toBe(true);
    expect(tag(wrote!.span, reconcileAttributes.requeueAfterMs)).toBeGreaterThan(0);
    const patch = children(wrote!).find((sp) => tag(sp, 'url.path') === statusPath)!;
    expect(patch.operationName).toBe('kube PATCH');
    expect(tag(patch, 'http.request.method')).toBe('PATCH');
    expect(tag(patch, 'http.response.status_code')).toBe(200);
    // Every child is a request to the API server (timestamps are not compared: the SDK stamps
    // each span from its own clock anchor, which may differ by a fraction of a millisecond).
    for (const sp of children(wrote!)) {
      expect(sp.operationName).toMatch(/^kube (GET|PATCH|POST|PUT|DELETE)$/);
      expect(String(tag(sp, 'url.path'))).toMatch(/^\/api/);
    }
    // The EventSource and Sink reconciles are traced as well, under their own kinds.
    const ops = new Set(traces.all.flatMap((t) => t.spans.map((sp) => sp.operationName)));
    expect(ops).toContain('reconcile EventSource');
    expect(ops).toContain('reconcile Sink');
  });
});
