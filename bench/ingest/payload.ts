// The events every mode sends: the same shape and size, ids unique per mode and run so JetStream's
// duplicate detection never drops one.
import { readFileSync } from 'node:fs';
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

/**
 * CPU seconds a process has used so far (utime + stime from /proc, in clock ticks of 1/100 s); 0
 * when it cannot be read.
 */
export function cpuSecondsOf(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
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
  /** CPU seconds the target (ingest or the plain server) and nats-server used in the timed part. */
  targetCpuSeconds: number;
  natsCpuSeconds: number;
  /** gRPC streams: per event, written by the client → stored by JetStream, in ms. */
  eventP50Ms?: number;
  eventP99Ms?: number;
}
