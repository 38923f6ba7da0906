// The processor's Prometheus metrics, registered on the ops server's registry.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface ProcessorMetrics {
  eventsIn: Counter<'source'>;
  routed: Counter<'output'>;
  dropped: Counter<'source'>;
  deadLettered: Counter<'cause'>;
  acked: Counter;
  naked: Counter;
  redeliveries: Counter<'source'>;
  inFlight: Gauge;
  consumerPending: Gauge<'source'>;
  consumerAckPending: Gauge<'source'>;
  sinkBatchSeconds: Histogram<'output' | 'result'>;
  sinkBatchRows: Histogram<'output'>;
  sinkErrors: Counter<'output' | 'kind'>;
}

export function processorMetrics(registry: Registry): ProcessorMetrics {
  const registers = [registry];
  return {
    eventsIn: new Counter({
      name: 'eventrunner_processor_events_in_total',
      help: 'Messages taken from the stream (deliveries, including redeliveries).',
      labelNames: ['source'],
      registers,
    }),
    routed: new Counter({
      name: 'eventrunner_processor_events_routed_total',
      help: 'Events written and acknowledged, per output.',
      labelNames: ['output'],
      registers,
    }),
    dropped: new Counter({
      name: 'eventrunner_processor_events_dropped_total',
      help: 'Events dropped by the rules (acknowledged, not written).',
      labelNames: ['source'],
      registers,
    }),
    deadLettered: new Counter({
      name: 'eventrunner_processor_events_deadlettered_total',
      help: 'Events published to the dead-letter stream, by cause (decode, rule, sink, max_deliver).',
      labelNames: ['cause'],
      registers,
    }),
    acked: new Counter({
      name: 'eventrunner_processor_acks_total',
      help: 'Messages acknowledged.',
      registers,
    }),
    naked: new Counter({
      name: 'eventrunner_processor_naks_total',
      help: 'Messages negatively acknowledged for a retry after a transient failure.',
      registers,
    }),
    redeliveries: new Counter({
      name: 'eventrunner_processor_redeliveries_total',
      help: 'Messages delivered more than once.',
      labelNames: ['source'],
      registers,
    }),
    inFlight: new Gauge({
      name: 'eventrunner_processor_in_flight',
      help: 'Messages taken but not yet acknowledged by this process.',
      registers,
    }),
    consumerPending: new Gauge({
      name: 'eventrunner_processor_consumer_pending',
      help: 'Consumer lag: messages in the stream not yet delivered to the consumer.',
      labelNames: ['source'],
      registers,
    }),
    consumerAckPending: new Gauge({
      name: 'eventrunner_processor_consumer_ack_pending',
      help: 'Messages delivered to the consumer (all replicas) and not yet acknowledged.',
      labelNames: ['source'],
      registers,
    }),
    sinkBatchSeconds: new Histogram({
      name: 'eventrunner_sink_batch_duration_seconds',
      help: 'Time to write one batch to a sink.',
      labelNames: ['output', 'result'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    sinkBatchRows: new Histogram({
      name: 'eventrunner_sink_batch_rows',
      help: 'Events per sink batch.',
      labelNames: ['output'],
      buckets: [1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 50000],
      registers,
    }),
    sinkErrors: new Counter({
      name: 'eventrunner_sink_errors_total',
      help: 'Events a sink write failed for, by kind (transient, rejected, config).',
      labelNames: ['output', 'kind'],
      registers,
    }),
  };
}
