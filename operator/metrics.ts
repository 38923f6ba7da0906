// The operator's Prometheus metrics.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface OperatorMetrics {
  reconciles: Counter<'kind' | 'result'>;
  reconcileDuration: Histogram<'kind'>;
  queueDepth: Gauge;
  apiWrites: Counter<'kind'>;
  informerRestarts: Counter<'resource'>;
  leader: Gauge;
}

export function operatorMetrics(registry: Registry): OperatorMetrics {
  const registers = [registry];
  return {
    reconciles: new Counter({
      name: 'eventrunner_operator_reconcile_total',
      help: 'Reconciles by kind and result (success, error, terminal)',
      labelNames: ['kind', 'result'],
      registers,
    }),
    reconcileDuration: new Histogram({
      name: 'eventrunner_operator_reconcile_duration_seconds',
      help: 'Time spent in one reconcile',
      labelNames: ['kind'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    queueDepth: new Gauge({
      name: 'eventrunner_operator_queue_depth',
      help: 'Keys waiting in the work queue',
      registers,
    }),
    apiWrites: new Counter({
      name: 'eventrunner_operator_api_writes_total',
      help: 'Write requests sent to the Kubernetes API, by object kind',
      labelNames: ['kind'],
      registers,
    }),
    informerRestarts: new Counter({
      name: 'eventrunner_operator_informer_restarts_total',
      help: 'Informer watches re-established after an error',
      labelNames: ['resource'],
      registers,
    }),
    leader: new Gauge({
      name: 'eventrunner_operator_leader',
      help: '1 while this replica holds the leader Lease',
      registers,
    }),
  };
}
