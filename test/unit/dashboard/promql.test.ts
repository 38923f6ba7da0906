// The PromQL the dashboard sends with --prometheus-url, and Prometheus HTTP API answers (the shape
// /api/v1/query and /api/v1/query_range return) turned into the collector's figures.
import { describe, expect, it } from 'vitest';
import { histogramQuantile } from '../../../runtime/dashboard/prometheus.js';
import {
  bucketsByOwner,
  bucketsQuery,
  columnsByOwner,
  isPrometheusQueryError,
  lagQuery,
  matchers,
  parseMatrix,
  parseVector,
  rangeInstants,
  rateQuery,
  samplesByOwner,
  samplesQuery,
  valuesByOwner,
} from '../../../runtime/dashboard/promql.js';

const shop = { namespace: 'shop', window: '1m' };
const all = { window: '2m' };

describe('PromQL', () => {
  it('sums rates per owner, within the namespace, leaving out pods the PodMonitor did not label', () => {
    expect(rateQuery('eventrunner_processor_events_routed_total', 'pipeline', shop, ['output'])).toBe(
      'sum by (namespace, pipeline, output) (rate(eventrunner_processor_events_routed_total{namespace="shop",pipeline!=""}[1m]))',
    );
    expect(rateQuery('eventrunner_ingest_events_accepted_total', 'eventsource', all)).toBe(
      'sum by (namespace, eventsource) (rate(eventrunner_ingest_events_accepted_total{eventsource!=""}[2m]))',
    );
  });

  it('takes bucket increases by le, the lag as the largest replica report, and the raw series', () => {
    expect(bucketsQuery('eventrunner_sink_batch_duration_seconds', 'pipeline', shop, ['output'])).toBe(
      'sum by (namespace, pipeline, output, le) (increase(eventrunner_sink_batch_duration_seconds_bucket{namespace="shop",pipeline!=""}[1m]))',
    );
    expect(lagQuery(all)).toBe(
      'max by (namespace, pipeline) (eventrunner_processor_consumer_pending{pipeline!=""})',
    );
    expect(samplesQuery(shop)).toBe('{namespace="shop",__name__=~"eventrunner_(processor|ingest|sink)_.+"}');
    expect(samplesQuery(all)).toBe('{__name__=~"eventrunner_(processor|ingest|sink)_.+"}');
  });

  it('escapes label values', () => {
    expect(matchers({ window: '1m' }, { output: 'a"b\\c\nd' })).toBe('{output="a\\"b\\\\c\\nd"}');
    expect(matchers({ window: '1m' })).toBe('');
  });
});

const vector = (result: { metric: Record<string, string>; value: [number, string] }[]) => ({
  status: 'success',
  data: { resultType: 'vector', result },
});
const job = { job: 'eventrunner', namespace: 'shop' };

describe('instant answers', () => {
  it('groups the pods series per Pipeline and EventSource, counting pods by instance', () => {
    const body = vector([
      {
        metric: {
          __name__: 'eventrunner_processor_events_routed_total',
          ...job,
          instance: '10.0.0.1:8081',
          pipeline: 'orders',
          output: 'store',
        },
        value: [1764870000.123, '30'],
      },
      {
        metric: {
          __name__: 'eventrunner_processor_events_routed_total',
          ...job,
          instance: '10.0.0.2:8081',
          pipeline: 'orders',
          output: 'store',
        },
        value: [1764870000.123, '12'],
      },
      {
        metric: {
          __name__: 'eventrunner_ingest_events_accepted_total',
          ...job,
          instance: '10.0.0.3:8080',
          eventsource: 'shop',
          client: 'web',
        },
        value: [1764870000.123, '42'],
      },
      // A pod without the owner labels (not one of the operator's workloads).
      {
        metric: { __name__: 'eventrunner_processor_events_in_total', ...job, instance: 'x' },
        value: [1, '9'],
      },
    ]);
    const got = samplesByOwner(parseVector(body, 'q'));
    expect([...got.keys()]).toEqual(['pipeline:shop/orders', 'eventsource:shop/shop']);
    expect(got.get('pipeline:shop/orders')!.pods).toBe(2);
    expect(got.get('pipeline:shop/orders')!.samples.map((s) => s.value)).toEqual([30, 12]);
    expect(got.get('eventsource:shop/shop')!.samples[0]).toMatchObject({
      name: 'eventrunner_ingest_events_accepted_total',
      value: 42,
      labels: { client: 'web' },
    });
  });

  it('keys rates by owner and label, leaving out NaN (a rate with no samples)', () => {
    const body = vector([
      { metric: { namespace: 'shop', pipeline: 'orders', output: 'store' }, value: [1, '2.5'] },
      { metric: { namespace: 'shop', pipeline: 'orders', output: 'analytics' }, value: [1, '0.5'] },
      { metric: { namespace: 'eu', pipeline: 'orders', output: 'store' }, value: [1, 'NaN'] },
    ]);
    expect(valuesByOwner(parseVector(body, 'q'), 'output')).toEqual(
      new Map([
        ['pipeline:shop/orders:store', 2.5],
        ['pipeline:shop/orders:analytics', 0.5],
      ]),
    );
  });

  it('turns bucket increases into buckets whose quantiles are histogram_quantile', () => {
    const b = (le: string, v: string) => ({
      metric: { namespace: 'shop', pipeline: 'orders', le },
      value: [1764870000, v] as [number, string],
    });
    const body = vector([b('+Inf', '100'), b('0.01', '50'), b('0.1', '90'), b('0.005', '10')]);
    const buckets = bucketsByOwner(parseVector(body, 'q')).get('pipeline:shop/orders')!;
    expect(buckets).toEqual([
      [0.005, 10],
      [0.01, 50],
      [0.1, 90],
      [Infinity, 100],
    ]);
    // Rank 50 falls at the top of the 0.01 bucket; rank 95 is past the last finite bound.
    expect(histogramQuantile(0.5, buckets)).toBe(0.01);
    expect(histogramQuantile(0.95, buckets)).toBe(0.1);
  });

  it('throws a coded error for an error answer or a different result type', () => {
    const error = { status: 'error', errorType: 'bad_data', error: 'parse error at char 5' };
    expect(() => parseVector(error, 'sum(')).toThrow('Prometheus query sum(: parse error at char 5');
    let caught: unknown;
    try {
      parseVector({ status: 'success', data: { resultType: 'matrix', result: [] } }, 'up');
    } catch (err) {
      caught = err;
    }
    expect(isPrometheusQueryError(caught)).toBe(true);
    expect((caught as { code: string }).code).toBe('PROMETHEUS_QUERY');
    expect(() => parseVector('<html>', 'up')).toThrow(/not a Prometheus API response/);
  });
});

describe('range answers', () => {
  it('places points on the aligned instants, null where Prometheus had none', () => {
    const body = {
      status: 'success',
      data: {
        resultType: 'matrix',
        result: [
          {
            metric: { namespace: 'shop', pipeline: 'orders' },
            values: [
              [1764870005, '1.5'],
              [1764870015, '2'],
            ],
          },
          { metric: { namespace: 'shop', eventsource: 'shop' }, values: [[1764870000, '4']] },
        ],
      },
    };
    const series = parseMatrix(body, 'q');
    expect(series[0]!.points).toEqual([
      [1764870005000, 1.5],
      [1764870015000, 2],
    ]);
    const t = rangeInstants(1764870000000, 1764870015000, 5000);
    expect(t).toHaveLength(4);
    expect(columnsByOwner(series, t)).toEqual(
      new Map([
        ['pipeline:shop/orders', [null, 1.5, null, 2]],
        ['eventsource:shop/shop', [4, null, null, null]],
      ]),
    );
  });
});
