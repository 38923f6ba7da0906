import { describe, expect, it } from 'vitest';
import { pipelineSummary, sinkKind, sinkTarget } from '../../../api/summary.js';
import { validatePipeline, validateSink } from '../../../api/validate.js';
import { clickhouseSink, pipeline, scyllaSink } from './invalid-cases.js';

describe('status summaries', () => {
  it('names a Sink by backend and table', () => {
    const scylla = validateSink(scyllaSink()).value.spec;
    const ch = validateSink(clickhouseSink()).value.spec;
    expect([sinkKind(scylla), sinkTarget(scylla)]).toEqual(['scylla', 'shop.orders']);
    // database defaults to "default"
    expect([sinkKind(ch), sinkTarget(ch)]).toEqual(['clickhouse', 'default.orders']);
  });

  it('lists a Pipeline’s sources and outputs for kubectl get -o wide', () => {
    const spec = validatePipeline(pipeline()).value.spec;
    expect(pipelineSummary(spec)).toEqual({
      sources: 'shop',
      outputs: 'store=orders-scylla,analytics=orders-clickhouse',
    });
  });
});
