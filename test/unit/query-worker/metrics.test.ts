import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { queryWorkerMetrics, type PartitionProgress } from '../../../runtime/query-worker/metrics.js';

function runner(watermark: number | undefined) {
  return { watermark };
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

  it('reports partitions owned (0 for a query owned elsewhere), state keys, watermark delay and checkpoint age per query', async () => {
    const registry = new Registry();
    const now = performance.now();
    const part = (
      stateKeys: number,
      watermark: number | undefined,
      lastCheckpointAt: number | undefined,
    ) => ({
      counts: { late: 0, inputs: 10, results: 2, checkpoints: 1 },
      watermark,
      stateKeys,
      lastCheckpointAt,
    });
    const owned: PartitionProgress[] = [
      { query: 'a', runner: part(5, 1_700_000_000_000, now - 4000) },
      { query: 'a', runner: part(7, 1_700_000_010_000, now - 1000) },
      { query: 'b', runner: part(3, undefined, undefined) },
    ];
    queryWorkerMetrics(registry, () => owned, ['a', 'b', 'c']);
    const before = Date.now();
    expect(await values(registry, 'eventrunner_query_partitions_owned')).toEqual({ a: 2, b: 1, c: 0 });
    expect(await values(registry, 'eventrunner_query_state_keys')).toEqual({ a: 12, b: 3, c: 0 });
    const delay = await values(registry, 'eventrunner_query_watermark_delay_seconds');
    const after = Date.now();
    // The lowest watermark's distance from the wall clock; no value without a watermark.
    expect(Object.keys(delay)).toEqual(['a']);
    expect(delay.a).toBeGreaterThanOrEqual((before - 1_700_000_000_000) / 1000);
    expect(delay.a).toBeLessThanOrEqual((after - 1_700_000_000_000) / 1000);
    // The least recent checkpoint's age.
    const age = await values(registry, 'eventrunner_query_last_checkpoint_age_seconds');
    expect(Object.keys(age)).toEqual(['a']);
    expect(age.a).toBeGreaterThanOrEqual(4);
    expect(age.a).toBeLessThanOrEqual((performance.now() - now + 4000) / 1000);
  });

  it('counts inputs, results, late events and checkpoints per query as the runners add them', async () => {
    const registry = new Registry();
    const owned: PartitionProgress[] = [];
    const counters = queryWorkerMetrics(registry, () => owned, ['q', 'idle']);
    expect(await values(registry, 'eventrunner_query_inputs_total')).toEqual({ q: 0, idle: 0 });
    const q = counters.of('q');
    q.inputs(500);
    q.results(3);
    q.late(2);
    q.checkpoint();
    // A runner that ended before the scrape still counts: the counters are not read from runners.
    const again = counters.of('q');
    again.inputs(20);
    again.checkpoint();
    expect(await values(registry, 'eventrunner_query_inputs_total')).toEqual({ q: 520, idle: 0 });
    expect(await values(registry, 'eventrunner_query_results_total')).toEqual({ q: 3, idle: 0 });
    expect(await values(registry, 'eventrunner_query_late_events_total')).toEqual({ q: 2, idle: 0 });
    expect(await values(registry, 'eventrunner_query_checkpoints_total')).toEqual({ q: 2, idle: 0 });
  });
});
