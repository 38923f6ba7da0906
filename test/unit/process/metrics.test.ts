import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { processorMetrics } from '../../../runtime/process/metrics.js';

async function values(registry: Registry, name: string) {
  const metric = registry.getSingleMetric(name);
  if (!metric) throw new Error(`no metric ${name}`);
  return (await metric.get()).values.map((v) => ({ labels: v.labels, value: v.value }));
}

describe('per-event counters', () => {
  it('reach the Prometheus counter when scraped, each count once', async () => {
    const registry = new Registry();
    const m = processorMetrics(registry);
    const a = m.eventsIn.hot({ source: 'orders' });
    const b = m.eventsIn.hot({ source: 'clicks' });
    a.inc();
    a.inc();
    a.inc();
    b.inc();
    const name = 'eventrunner_processor_events_in_total';
    expect(await values(registry, name)).toEqual([
      { labels: { source: 'orders' }, value: 3 },
      { labels: { source: 'clicks' }, value: 1 },
    ]);
    // A second scrape adds nothing; later counts add to what was there.
    expect(await values(registry, name)).toEqual([
      { labels: { source: 'orders' }, value: 3 },
      { labels: { source: 'clicks' }, value: 1 },
    ]);
    a.inc();
    m.eventsIn.inc({ source: 'orders' }, 10);
    expect((await values(registry, name))[0]).toEqual({ labels: { source: 'orders' }, value: 14 });
    expect(await registry.metrics()).toContain('eventrunner_processor_events_in_total{source="orders"} 14');
  });

  it('count without labels too', async () => {
    const registry = new Registry();
    const m = processorMetrics(registry);
    const acked = m.acked.hot();
    for (let i = 0; i < 5; i++) acked.inc();
    expect(await values(registry, 'eventrunner_processor_acks_total')).toEqual([{ labels: {}, value: 5 }]);
  });
});

describe('per-event histograms', () => {
  it("expose exactly what prom-client's own histogram exposes for the same observations", async () => {
    const { Histogram } = await import('prom-client');
    const { HotHistogram } = await import('../../../runtime/process/metrics.js');
    const ours = new Registry();
    const theirs = new Registry();
    for (const r of [ours, theirs]) r.setDefaultLabels({ component: 'processor' });
    const buckets = [0.01, 0.1, 1];
    const hot = new HotHistogram({ name: 'x_seconds', help: 'x', buckets, registers: [ours] });
    const reference = new Histogram({ name: 'x_seconds', help: 'x', buckets, registers: [theirs] });
    const observed = [0, 0.01, 0.010001, 0.5, 1, 7, 0.09];
    for (const v of observed) {
      hot.record(v);
      reference.observe(v);
    }
    expect(await ours.metrics()).toBe(await theirs.metrics());
    // The JSON form too, but for prom-client's exemplar slots (null: no exemplars).
    const json = async (r: Registry) =>
      JSON.parse(
        JSON.stringify(await r.getMetricsAsJSON(), (k, v: unknown) => (k === 'exemplar' ? undefined : v)),
      );
    expect(await json(ours)).toEqual(await json(theirs));
    hot.reset();
    reference.reset();
    reference.zero({});
    expect(await ours.metrics()).toBe(await theirs.metrics());
  });
});

describe('handling time', () => {
  it('resolves tens of microseconds, below the end-to-end buckets', async () => {
    const registry = new Registry();
    const m = processorMetrics(registry);
    for (const s of [0.000004, 0.00003, 0.00003, 0.0004, 0.002]) m.handleSeconds.record(s);
    const text = await registry.metrics();
    const bucket = (le: string) =>
      Number(
        new RegExp(
          `eventrunner_processor_handle_duration_seconds_bucket\\{le="${le.replace(/[+.]/g, '\\$&')}"[^}]*\\} (\\d+)`,
        ).exec(text)?.[1],
      );
    expect([
      bucket('0.00001'),
      bucket('0.00005'),
      bucket('0.0005'),
      bucket('0.0025'),
      bucket('+Inf'),
    ]).toEqual([1, 3, 4, 5, 5]);
  });
});
