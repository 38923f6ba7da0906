// The fast paths' Prometheus metrics: whether each is in use, and how often work took the
// library's public path instead. Fallbacks are counted on hot paths (a write, a message), so they
// count in plain numbers and reach the counter when it is collected, as the processor's do.
import { Counter, Gauge, type Registry } from 'prom-client';

export const ENABLED_METRIC = 'eventrunner_fast_path_enabled';
export const FALLBACKS_METRIC = 'eventrunner_fast_path_fallbacks_total';

/** One count on a hot path. */
export interface FallbackCounter {
  inc(): void;
}

class Hot implements FallbackCounter {
  n = 0;
  inc(): void {
    this.n++;
  }
}

export interface FastPathMetrics {
  setEnabled(path: string, enabled: boolean): void;
  /** The counter of one path's fallbacks; the same object for the same path. */
  fallbacks(path: string): FallbackCounter;
}

const byRegistry = new WeakMap<Registry, FastPathMetrics>();

/** The metrics on `registry`, registered once however many callers ask. */
export function fastPathMetrics(registry: Registry): FastPathMetrics {
  const known = byRegistry.get(registry);
  if (known) return known;
  const registers = [registry];
  const hot = new Map<string, Hot>();
  const gauge = new Gauge<'path'>({
    name: ENABLED_METRIC,
    help: 'Whether a library-internal fast path is in use (1) or its library’s public path is (0).',
    labelNames: ['path'],
    registers,
  });
  new Counter<'path'>({
    name: FALLBACKS_METRIC,
    help:
      'Work that took the library’s public path because its fast path is off, disabled by its guard ' +
      'or met an unexpected shape: writes, messages, or clients and configs set up.',
    labelNames: ['path'],
    registers,
    collect() {
      for (const [path, h] of hot) {
        if (h.n === 0) continue;
        this.inc({ path }, h.n);
        h.n = 0;
      }
    },
  });
  const metrics: FastPathMetrics = {
    setEnabled: (path, enabled) => gauge.set({ path }, enabled ? 1 : 0),
    fallbacks(path) {
      let h = hot.get(path);
      if (!h) hot.set(path, (h = new Hot()));
      return h;
    },
  };
  byRegistry.set(registry, metrics);
  return metrics;
}

/** Metrics that go nowhere, for callers that pass no registry. */
export const noMetrics: FastPathMetrics = {
  setEnabled: () => undefined,
  fallbacks: () => ({ inc: () => undefined }),
};
