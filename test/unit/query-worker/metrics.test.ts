import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { queryWorkerMetrics, type PartitionProgress } from '../../../runtime/query-worker/metrics.js';

function runner(watermark: number | undefined, late = 0) {
  return { counts: { late }, watermark };
}

async function values(registry: Registry, name: string): Promise<Record<string, number>> {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name)!;
  return Object.fromEntries(
    (m.values as { labels: Record<string, string>; value: number }[]).map((v) => [v.labels.query, v.value]),
  );
}

describe('query worker metrics', () => {
  it("reports each query's lowest partition watermark in seconds, skipping partitions not restored yet", async () => {
    const registry = new Registry();
    const owned: PartitionProgress[] = [
      { query: 'per-minute', runner: runner(1_700_000_060_000) },
      { query: 'per-minute', runner: runner(1_700_000_000_000) },
      { query: 'sessions', runner: runner(undefined) },
      { query: 'sliding', runner: runner(-Infinity) },
    ];
    queryWorkerMetrics(registry, () => owned);
    expect(await values(registry, 'eventrunner_query_watermark_seconds')).toEqual({
      'per-minute': 1_700_000_000,
    });
    owned.splice(0, 2);
    expect(await values(registry, 'eventrunner_query_watermark_seconds')).toEqual({});
  });

  it('adds what each partition counted since the last scrape, and never goes back when one is given up', async () => {
    const registry = new Registry();
    const a = runner(0, 2);
    const b = runner(0, 1);
    const owned: PartitionProgress[] = [
      { query: 'q', runner: a },
      { query: 'q', runner: b },
    ];
    queryWorkerMetrics(registry, () => owned);
    expect(await values(registry, 'eventrunner_query_late_events_total')).toEqual({ q: 3 });
    a.counts.late = 5;
    owned.pop();
    expect(await values(registry, 'eventrunner_query_late_events_total')).toEqual({ q: 6 });
    // The partition comes back to this worker with a new runner, counting from zero.
    owned.push({ query: 'q', runner: runner(0, 1) });
    expect(await values(registry, 'eventrunner_query_late_events_total')).toEqual({ q: 7 });
  });
});
