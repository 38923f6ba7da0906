// The operator's spans: one `reconcile <Kind>` span per reconcile (kind, namespace, name, result,
// requeue), with a child `kube <METHOD>` span for each request it sends to the API server. Set up
// from the standard OTEL_* variables, like the workloads' tracing (runtime/common/tracing.ts): off
// unless an OTLP endpoint is set, and then nothing is loaded and a reconcile runs as it is.
//
// The API calls are seen through Node's `http.client.request.start` diagnostics channel, so every
// client (typed APIs, server-side apply, raw status patches) is covered without wrapping each one;
// the reconcile a request belongs to is the one in whose async context it was sent.
import { AsyncLocalStorage } from 'node:async_hooks';
import diagnostics from 'node:diagnostics_channel';
import type { ClientRequest, IncomingMessage } from 'node:http';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Span, type Tracer } from '@opentelemetry/api';
import { isTerminalError } from '../runtime/common/errors.js';
import type { Env } from '../runtime/common/flags.js';
import type { Logger } from '../runtime/common/logger.js';
import { startTracing, tracingConfig, type Tracing } from '../runtime/common/tracing.js';
import type { ReconcileResult } from './queue.js';

/** Span attribute names of a reconcile. */
export const reconcileAttributes = {
  kind: 'eventrunner.kind',
  namespace: 'k8s.namespace.name',
  name: 'eventrunner.name',
  result: 'eventrunner.reconcile.result',
  requeue: 'eventrunner.reconcile.requeue',
  requeueAfterMs: 'eventrunner.reconcile.requeue_after_ms',
} as const;

export type ReconcileOutcome = 'success' | 'error' | 'terminal';

export interface ReconcileTracer {
  /** Runs one reconcile inside its span. */
  reconcile<R extends ReconcileResult | void>(
    kind: string,
    namespace: string,
    name: string,
    run: () => Promise<R>,
  ): Promise<R>;
  /** Stops following API calls (the tracer itself is shut down by its owner). */
  close(): void;
}

const requestChannel = 'http.client.request.start';

/**
 * A ReconcileTracer on `tracer`; `apiServer` (the kubeconfig's server URL) names the host whose
 * requests become child spans — others sent during a reconcile (NATS monitoring, OTLP export) do not.
 */
export function reconcileTracer(tracer: Tracer, apiServer: string | undefined): ReconcileTracer {
  // The reconcile span of the current async context, and the ends of its API requests still open.
  const current = new AsyncLocalStorage<{ span: Span; open: Set<() => void> }>();
  const api = apiServer ? new URL(apiServer) : undefined;

  const onRequest = (message: unknown) => {
    const store = current.getStore();
    if (!store?.span.isRecording() || !api) return;
    const req = (message as { request: ClientRequest }).request;
    // Node sends Host as host[:port], the port only when not the protocol's default, as URL.host.
    if (String(req.getHeader('host') ?? '') !== api.host) return;
    const path = req.path.split('?')[0]!;
    const span = tracer.startSpan(
      `kube ${req.method}`,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          'http.request.method': req.method,
          'url.path': path,
          'server.address': api.hostname,
          ...(api.port ? { 'server.port': Number(api.port) } : {}),
        },
      },
      trace.setSpan(ROOT_CONTEXT, store.span),
    );
    const end = (err?: Error) => {
      if (!store.open.delete(end)) return;
      if (err) span.setStatus({ code: SpanStatusCode.ERROR, message: err.message });
      span.end();
    };
    store.open.add(end);
    req.once('response', (res: IncomingMessage) => {
      const status = res.statusCode ?? 0;
      span.setAttribute('http.response.status_code', status);
      if (status >= 400) span.setStatus({ code: SpanStatusCode.ERROR, message: `HTTP ${status}` });
      res.once('end', () => end());
      res.once('close', () => end());
    });
    req.once('error', (err: Error) => end(err));
    req.once('close', () => end());
  };
  diagnostics.subscribe(requestChannel, onRequest);

  return {
    async reconcile(kind, namespace, name, run) {
      const span = tracer.startSpan(
        `reconcile ${kind}`,
        {
          kind: SpanKind.INTERNAL,
          attributes: {
            [reconcileAttributes.kind]: kind,
            [reconcileAttributes.namespace]: namespace,
            [reconcileAttributes.name]: name,
          },
        },
        ROOT_CONTEXT,
      );
      const store = { span, open: new Set<() => void>() };
      try {
        const result = await current.run(store, run);
        const after = result ? result.requeueAfterMs : undefined;
        span.setAttribute(reconcileAttributes.result, 'success' satisfies ReconcileOutcome);
        span.setAttribute(reconcileAttributes.requeue, after !== undefined);
        if (after !== undefined) span.setAttribute(reconcileAttributes.requeueAfterMs, after);
        return result;
      } catch (err) {
        const outcome: ReconcileOutcome = isTerminalError(err) ? 'terminal' : 'error';
        span.setAttribute(reconcileAttributes.result, outcome);
        // A failed reconcile is retried with backoff (a terminal one waits for a change).
        span.setAttribute(reconcileAttributes.requeue, outcome === 'error');
        span.recordException(err instanceof Error ? err : String(err));
        span.setStatus({
          code: SpanStatusCode.ERROR,
          message: err instanceof Error ? err.message : String(err),
        });
        throw err;
      } finally {
        // A response's end event may trail the reply the reconcile already used: its request ends
        // with the reconcile at the latest.
        for (const end of [...store.open]) end();
        span.end();
      }
    },
    close() {
      diagnostics.unsubscribe(requestChannel, onRequest);
    },
  };
}

export interface OperatorTracing {
  reconciles: ReconcileTracer;
  /** Exports what is buffered and stops; bounded, never throws. */
  shutdown(): Promise<void>;
}

/**
 * Tracing of the operator from OTEL_* variables (service name `eventrunner-operator` unless set);
 * undefined when they leave it off. Bad settings throw a ConfigError naming the variable.
 */
export async function startOperatorTracing(
  env: Env,
  apiServer: string | undefined,
  log: Logger,
): Promise<OperatorTracing | undefined> {
  const tracing: Tracing | undefined = await startTracing(tracingConfig(env, 'eventrunner-operator'), log);
  if (!tracing) return undefined;
  const reconciles = reconcileTracer(tracing.tracer, apiServer);
  return {
    reconciles,
    async shutdown() {
      reconciles.close();
      await tracing.shutdown();
    },
  };
}
