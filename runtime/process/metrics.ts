// The processor's Prometheus metrics, registered on the ops server's registry.
import {
  Counter,
  Gauge,
  Histogram,
  type CounterConfiguration,
  type MetricObjectWithValues,
  type MetricValueWithName,
  type Registry,
} from 'prom-client';

/** One label set of a counter, counted on the per-event path. */
export interface HotCounter {
  inc(): void;
}

/**
 * A counter whose per-event children count in a plain number, added to the Prometheus counter
 * when it is collected: prom-client hashes the label values on every inc, several times per event.
 */
export type CounterWithHot<T extends string> = Counter<T> & {
  hot(labels?: Partial<Record<T, string>>): HotCounter;
};

class Hot implements HotCounter {
  n = 0;
  inc(): void {
    this.n++;
  }
}

function counterWithHot<T extends string>(cfg: CounterConfiguration<T>): CounterWithHot<T> {
  const children: [Partial<Record<T, string>>, Hot][] = [];
  const counter = new Counter<T>({
    ...cfg,
    collect() {
      for (const [labels, h] of children) {
        if (h.n === 0) continue;
        this.inc(labels, h.n);
        h.n = 0;
      }
    },
  });
  return Object.assign(counter, {
    hot(labels: Partial<Record<T, string>> = {}): HotCounter {
      const h = new Hot();
      children.push([labels, h]);
      return h;
    },
  });
}

/**
 * A label-less histogram observed once per event: its buckets are plain numbers, exported in
 * Prometheus' histogram form when scraped. prom-client's observe() hashes labels and allocates on
 * every call, a measurable share of a processor's CPU at tens of thousands of events a second.
 */
export class HotHistogram extends Histogram {
  private readonly metricName: string;
  private readonly metricHelp: string;
  private readonly bounds: readonly number[];
  /** Observations per bucket (not cumulative); the last slot counts those above every bound. */
  private readonly counts: Float64Array;
  private sum = 0;

  constructor(cfg: { name: string; help: string; buckets: number[]; registers: Registry[] }) {
    super(cfg);
    this.metricName = cfg.name;
    this.metricHelp = cfg.help;
    this.bounds = [...cfg.buckets].sort((a, b) => a - b);
    this.counts = new Float64Array(this.bounds.length + 1);
  }

  record(value: number): void {
    const b = this.bounds;
    let i = 0;
    while (i < b.length && value > b[i]!) i++;
    this.counts[i]!++;
    this.sum += value;
  }

  override get(): Promise<MetricObjectWithValues<MetricValueWithName<string>>> {
    const bucket = `${this.metricName}_bucket`;
    const values: MetricValueWithName<string>[] = [];
    let cumulative = 0;
    for (let i = 0; i < this.bounds.length; i++) {
      cumulative += this.counts[i]!;
      values.push({ labels: { le: this.bounds[i]! }, value: cumulative, metricName: bucket });
    }
    const count = cumulative + this.counts[this.bounds.length]!;
    values.push(
      { labels: { le: '+Inf' }, value: count, metricName: bucket },
      { labels: {}, value: this.sum, metricName: `${this.metricName}_sum` },
      { labels: {}, value: count, metricName: `${this.metricName}_count` },
    );
    // The object prom-client's own histograms return (its typings declare `type` as a numeric
    // enum; at run time it is the exposition type's name).
    return Promise.resolve({
      name: this.metricName,
      help: this.metricHelp,
      type: 'histogram',
      values,
      aggregator: 'sum',
    } as unknown as MetricObjectWithValues<MetricValueWithName<string>>);
  }

  /** The registry renders the text format from this when it exists; the values are the same. */
  getForPromString(): Promise<MetricObjectWithValues<MetricValueWithName<string>>> {
    return this.get();
  }

  override reset(): void {
    // Also called by prom-client's constructor, before this class's fields exist.
    this.counts?.fill(0);
    this.sum = 0;
  }
}

export interface ProcessorMetrics {
  eventsIn: CounterWithHot<'source'>;
  routed: CounterWithHot<'output'>;
  dropped: CounterWithHot<'source'>;
  deadLettered: Counter<'cause'>;
  acked: CounterWithHot<never>;
  naked: Counter;
  inProgress: Counter;
  redeliveries: CounterWithHot<'source'>;
  inFlight: Gauge;
  consumerPending: Gauge<'source'>;
  consumerAckPending: Gauge<'source'>;
  sinkBatchSeconds: Histogram<'output' | 'result'>;
  sinkBatchRows: Histogram<'output'>;
  sinkErrors: Counter<'output' | 'kind'>;
  outputRequests: Counter<'output' | 'kind' | 'outcome'>;
  outputRequestSeconds: Histogram<'output' | 'kind'>;
  eventsByType: CounterWithHot<'type'>;
  handleSeconds: HotHistogram;
  processingSeconds: HotHistogram;
  endToEndSeconds: HotHistogram;
}

/** Distinct event types counted by name; later ones are counted as `other` (bounded cardinality). */
export const MAX_EVENT_TYPES = 200;

/** Latency buckets of the per-event histograms, in seconds. */
const EVENT_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** Buckets of the per-event handling time, which takes tens of microseconds, in seconds. */
const HANDLE_BUCKETS = [
  0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 1,
];

export function processorMetrics(registry: Registry): ProcessorMetrics {
  const registers = [registry];
  return {
    eventsIn: counterWithHot({
      name: 'eventrunner_processor_events_in_total',
      help: 'Messages taken from the stream (deliveries, including redeliveries).',
      labelNames: ['source'],
      registers,
    }),
    routed: counterWithHot({
      name: 'eventrunner_processor_events_routed_total',
      help: 'Events written and acknowledged, per output.',
      labelNames: ['output'],
      registers,
    }),
    dropped: counterWithHot({
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
    acked: counterWithHot({
      name: 'eventrunner_processor_acks_total',
      help: 'Messages acknowledged.',
      registers,
    }),
    naked: new Counter({
      name: 'eventrunner_processor_naks_total',
      help: 'Messages negatively acknowledged for a retry after a transient failure.',
      registers,
    }),
    inProgress: new Counter({
      name: 'eventrunner_processor_in_progress_acks_total',
      help: 'In-progress acknowledgements (+WPI) sent for events whose outputs took longer than half the AckWait.',
      registers,
    }),
    redeliveries: counterWithHot({
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
    outputRequests: new Counter({
      name: 'eventrunner_output_requests_total',
      help: 'Requests of webhook and EventSource outputs (kind http, eventSource), by outcome: 2xx, 3xx, 4xx, 5xx, timeout or error for webhooks; ok or error for stream publishes.',
      labelNames: ['output', 'kind', 'outcome'],
      registers,
    }),
    outputRequestSeconds: new Histogram({
      name: 'eventrunner_output_request_duration_seconds',
      help: 'Time from sending a webhook request (or stream publish) to its answer (acknowledgement).',
      labelNames: ['output', 'kind'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    eventsByType: counterWithHot({
      name: 'eventrunner_processor_events_by_type_total',
      help: `Decoded events by CloudEvents type (the first ${MAX_EVENT_TYPES} types seen; the rest as "other").`,
      labelNames: ['type'],
      registers,
    }),
    handleSeconds: new HotHistogram({
      name: 'eventrunner_processor_handle_duration_seconds',
      help: "Time from the pull loop taking a message to every write it needs queued to its outputs' batches (decode, rules, rows built) or its ack sent; the batch wait and the writes follow.",
      buckets: HANDLE_BUCKETS,
      registers,
    }),
    processingSeconds: new HotHistogram({
      name: 'eventrunner_processor_processing_duration_seconds',
      help: 'Time from taking an event from the stream to acknowledging it after its outputs accepted it.',
      buckets: EVENT_BUCKETS,
      registers,
    }),
    endToEndSeconds: new HotHistogram({
      name: 'eventrunner_processor_end_to_end_duration_seconds',
      help: 'Time from the event being stored in its stream (accepted by ingest) to its acknowledgement here.',
      buckets: EVENT_BUCKETS,
      registers,
    }),
  };
}
