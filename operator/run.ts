// The operator process: options parsed once, the manager started with the three reconcilers, and
// a clean stop on SIGTERM (queue drained, Lease released so a standby takes over at once).
import { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from '../runtime/common/logger.js';
import { reconcileEventSource } from './controllers/eventsource.js';
import { reconcilePipeline } from './controllers/pipeline.js';
import { reconcileReplay } from './controllers/replay.js';
import { reconcileSink } from './controllers/sink.js';
import { startOperator, type Operator } from './manager.js';
import type { OperatorOptions } from './options.js';
import type { ReconcileTracer } from './tracing.js';

export const reconcilers = {
  EventSource: reconcileEventSource,
  Pipeline: reconcilePipeline,
  Sink: reconcileSink,
  Replay: reconcileReplay,
};

/** Loads $KUBECONFIG, or the in-cluster ServiceAccount when running in a pod. */
export function loadKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromDefault();
  return kc;
}

export function runOperator(
  kc: KubeConfig,
  options: OperatorOptions,
  log: Logger,
  onLostLeadership?: () => void,
  tracing?: ReconcileTracer,
): Promise<Operator> {
  return startOperator({
    kc,
    options,
    log,
    reconcilers,
    tracing,
    ...(onLostLeadership ? { onLostLeadership } : {}),
  });
}
