// Reading Prometheus text from the pods: real output of prom-client's registry, sums over label
// sets, and quantiles checked against hand-computed histogram_quantile answers.
import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import {
  bucketsDelta,
  bucketsOf,
  histogramQuantile,
  maxOf,
  parsePrometheusText,
  sumBy,
  sumOf,
} from '../../../runtime/dashboard/prometheus.js';

describe('parsePrometheusText', () => {
  it('reads what prom-client exposes: counters with labels, histograms, escaped label values', async () => {
    const registry = new Registry();
    const routed = new Counter({
      name: 'routed_total',
      help: 'h',
      labelNames: ['output'],
      registers: [registry],
    });
    routed.inc({ output: 'store' }, 3);
    routed.inc({ output: 'a "quoted"\\ name\nwith newline' }, 2);
    const h = new Histogram({ name: 'write_seconds', help: 'h', buckets: [0.1, 1], registers: [registry] });
    h.observe(0.05);
    h.observe(0.5);
    h.observe(5);
    const samples = parsePrometheusText(await registry.metrics());
    expect(sumOf(samples, 'routed_total')).toBe(5);
    expect(sumBy(samples, 'routed_total', 'output')).toEqual(
      new Map([
        ['a "quoted"\\ name\nwith newline', 2],
        ['store', 3],
      ]),
    );
    expect(bucketsOf(samples, 'write_seconds')).toEqual([
      [0.1, 1],
      [1, 2],
      [Infinity, 3],
    ]);
    expect(sumOf(samples, 'write_seconds_count')).toBe(3);
  });

  it('skips comments, blank and unreadable lines, and reads samples without labels or with timestamps', () => {
    const text =
      '# HELP x help\n# TYPE x gauge\n\nx 4 1700000000000\ngarbage\ny{a="1"} NaN\nz{a="1",} +Inf\n';
    const samples = parsePrometheusText(text);
    expect(samples).toEqual([
      { name: 'x', labels: {}, value: 4 },
      { name: 'z', labels: { a: '1' }, value: Infinity },
    ]);
  });

  it('sums the same series over pods, and takes the largest of a gauge every replica reports', () => {
    const pod1 = parsePrometheusText('lag{source="shop"} 5\nin_total{source="shop"} 10\n');
    const pod2 = parsePrometheusText('lag{source="shop"} 7\nin_total{source="shop"} 12\n');
    const all = [...pod1, ...pod2];
    expect(sumOf(all, 'in_total', { source: 'shop' })).toBe(22);
    expect(sumOf(all, 'in_total', { source: 'other' })).toBe(0);
    expect(maxOf(all, 'lag')).toBe(7);
    expect(maxOf(all, 'missing')).toBeUndefined();
  });
});

describe('histogramQuantile', () => {
  const buckets: [number, number][] = [
    [0.1, 50],
    [0.5, 90],
    [1, 100],
    [Infinity, 100],
  ];

  it('interpolates inside the bucket holding the rank, as PromQL does', () => {
    expect(histogramQuantile(0.5, buckets)).toBeCloseTo(0.1);
    expect(histogramQuantile(0.25, buckets)).toBeCloseTo(0.05);
    expect(histogramQuantile(0.7, buckets)).toBeCloseTo(0.1 + 0.4 * (20 / 40));
    expect(histogramQuantile(0.95, buckets)).toBeCloseTo(0.5 + 0.5 * (5 / 10));
  });

  it('answers the last finite bound for ranks in the +Inf bucket, and nothing without observations', () => {
    expect(
      histogramQuantile(0.99, [
        [0.1, 1],
        [Infinity, 10],
      ]),
    ).toBe(0.1);
    expect(
      histogramQuantile(0.5, [
        [0.1, 0],
        [Infinity, 0],
      ]),
    ).toBeUndefined();
    expect(histogramQuantile(0.5, [])).toBeUndefined();
  });

  it('takes the observations between two scrapes, and the new totals after a pod restarted', () => {
    const before: [number, number][] = [
      [0.1, 10],
      [Infinity, 20],
    ];
    const now: [number, number][] = [
      [0.1, 15],
      [Infinity, 40],
    ];
    expect(bucketsDelta(now, before)).toEqual([
      [0.1, 5],
      [Infinity, 20],
    ]);
    const restarted: [number, number][] = [
      [0.1, 1],
      [Infinity, 2],
    ];
    expect(bucketsDelta(restarted, before)).toEqual(restarted);
    expect(bucketsDelta(now, undefined)).toEqual(now);
  });
});
