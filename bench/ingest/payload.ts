// The events every mode sends: the same shape and size, ids unique per mode and run so JetStream's
// duplicate detection never drops one.
import type { CloudEvent } from '../../runtime/events/index.js';

const time = new Date('2024-06-01T12:00:00Z').toISOString();

export function benchEvent(prefix: string, i: number): CloudEvent {
  return {
    specversion: '1.0',
    id: `${prefix}-${i}`,
    source: '/bench/shop',
    type: 'com.bench.order.created',
    time,
    datacontenttype: 'application/json',
    data: {
      orderId: `o-${i}`,
      customer: { id: `c-${i % 997}`, country: i % 3 === 0 ? 'DE' : 'FR' },
      amount: (i % 1000) + 0.99,
      currency: 'EUR',
      items: [
        { sku: 'sku-1', qty: 1, price: 10.5 },
        { sku: 'sku-2', qty: 2, price: 3.25 },
      ],
    },
  };
}

/** Nearest-rank percentile of an unsorted sample (sorted in place). */
export function percentile(sample: number[], p: number): number {
  if (sample.length === 0) return 0;
  sample.sort((a, b) => a - b);
  const idx = Math.min(sample.length - 1, Math.max(0, Math.ceil((p / 100) * sample.length) - 1));
  return sample[idx]!;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export interface ModeResult {
  mode: string;
  events: number;
  seconds: number;
  eventsPerSecond: number;
  /** Latency of one request (HTTP), one stream call (gRPC) or one publish (raw), in ms. */
  p50Ms: number;
  p99Ms: number;
  errors: number;
  firstError?: string;
  /** CPU time the load generator itself used. */
  cpuSeconds: number;
  /** gRPC streams: per event, written by the client → stored by JetStream, in ms. */
  eventP50Ms?: number;
  eventP99Ms?: number;
}
