// Prometheus metrics of the ingest process. Label children are cached because they are looked up
// per event on the hot path.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export type Protocol = 'http' | 'grpc';

export class IngestMetrics {
  private readonly accepted: Counter<'protocol' | 'mode' | 'client'>;
  private readonly duplicates: Counter<'protocol' | 'client'>;
  private readonly rejected: Counter<'protocol' | 'reason' | 'client'>;
  private readonly requests: Counter<'protocol' | 'code'>;
  readonly publishSeconds: Histogram;
  readonly natsConnected: Gauge;
  private readonly children = new Map<string, { inc(n?: number): void }>();

  constructor(registry: Registry, window: { inFlight(): number; queued(): number }) {
    this.accepted = new Counter({
      name: 'eventrunner_ingest_events_accepted_total',
      help: 'Events acknowledged by JetStream and answered as accepted (duplicates included).',
      labelNames: ['protocol', 'mode', 'client'],
      registers: [registry],
    });
    this.duplicates = new Counter({
      name: 'eventrunner_ingest_events_duplicate_total',
      help: 'Accepted events JetStream dropped as duplicates of an id seen within the duplicate window.',
      labelNames: ['protocol', 'client'],
      registers: [registry],
    });
    this.rejected = new Counter({
      name: 'eventrunner_ingest_events_rejected_total',
      help: 'Events not accepted, by reason (invalid, schema, too_large, rate_limited, unauthenticated, unavailable, overloaded, unsupported_media_type).',
      labelNames: ['protocol', 'reason', 'client'],
      registers: [registry],
    });
    this.requests = new Counter({
      name: 'eventrunner_ingest_requests_total',
      help: 'Requests answered, by protocol and status (HTTP status code or gRPC status name).',
      labelNames: ['protocol', 'code'],
      registers: [registry],
    });
    this.publishSeconds = new Histogram({
      name: 'eventrunner_ingest_publish_duration_seconds',
      help: 'Time from publishing an event to its JetStream acknowledgement.',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    });
    new Gauge({
      name: 'eventrunner_ingest_publish_in_flight',
      help: 'Events published and awaiting their JetStream acknowledgement.',
      registers: [registry],
      collect() {
        this.set(window.inFlight());
      },
    });
    new Gauge({
      name: 'eventrunner_ingest_publish_queued',
      help: 'Events waiting for a free slot in the publish window.',
      registers: [registry],
      collect() {
        this.set(window.queued());
      },
    });
    this.natsConnected = new Gauge({
      name: 'eventrunner_ingest_nats_connected',
      help: '1 while the NATS connection is up.',
      registers: [registry],
    });
  }

  private child(kind: string, key: string, make: () => { inc(n?: number): void }) {
    const k = `${kind}\u0000${key}`;
    let c = this.children.get(k);
    if (c === undefined) {
      c = make();
      this.children.set(k, c);
    }
    return c;
  }

  accept(protocol: Protocol, mode: string, client: string, n = 1, duplicates = 0): void {
    this.child('a', `${protocol}\u0000${mode}\u0000${client}`, () =>
      this.accepted.labels(protocol, mode, client),
    ).inc(n);
    if (duplicates > 0) {
      this.child('d', `${protocol}\u0000${client}`, () => this.duplicates.labels(protocol, client)).inc(
        duplicates,
      );
    }
  }

  reject(protocol: Protocol, reason: string, client: string, n = 1): void {
    this.child('r', `${protocol}\u0000${reason}\u0000${client}`, () =>
      this.rejected.labels(protocol, reason, client),
    ).inc(n);
  }

  request(protocol: Protocol, code: number | string): void {
    const c = String(code);
    this.child('q', `${protocol}\u0000${c}`, () => this.requests.labels(protocol, c)).inc();
  }
}
