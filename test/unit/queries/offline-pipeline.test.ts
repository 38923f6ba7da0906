import { describe, expect, it } from 'vitest';
import { compilePipelineQueries } from '../../../runtime/queries/pipeline.js';
import { QueryInputs, runQueries, typeMatches } from '../../../runtime/queries/offline-pipeline.js';

describe('type filters of Pipeline sources, offline', () => {
  it('match literal types, * for one segment and a final > for the rest', () => {
    expect(typeMatches(undefined, 'a.b')).toBe(true);
    expect(typeMatches([], 'a.b')).toBe(true);
    expect(typeMatches(['com.shop.order.*'], 'com.shop.order.created')).toBe(true);
    expect(typeMatches(['com.shop.order.*'], 'com.shop.order.created.v2')).toBe(false);
    expect(typeMatches(['com.shop.order.*'], 'com.shop.order')).toBe(false);
    expect(typeMatches(['com.shop.>'], 'com.shop.order.created')).toBe(true);
    expect(typeMatches(['com.shop.>'], 'com.shop')).toBe(false);
    expect(typeMatches(['>'], 'anything')).toBe(true);
    expect(typeMatches(['a', 'b.*'], 'b.c')).toBe(true);
  });
});

describe('a Pipeline’s queries offline', () => {
  const spec = {
    sources: [
      { eventSource: 'shop', as: 'orders', types: ['com.shop.order.*'] },
      { eventSource: 'pay', types: ['com.pay.>'] },
    ],
    outputs: [{ name: 'a' }, { name: 'b' }],
    queries: [
      {
        name: 'per-minute',
        sql: 'SELECT count(*) AS n, window_start FROM orders WINDOW TUMBLING (SIZE 1 MINUTE)',
        outputs: ['b', 'a'],
        partitions: 2,
        idleTimeout: '10s',
        maxStateKeys: 1000,
      },
    ],
  };
  const event = (id: string, type: string, time: string) => ({
    specversion: '1.0',
    id,
    type,
    source: 's',
    time,
  });

  it('number each source’s events in input order and give each query its source', () => {
    const { compiled, problems } = compilePipelineQueries({ namespace: 'ns', name: 'pl' }, spec);
    expect(problems).toEqual([]);
    const inputs = new QueryInputs(spec.sources);
    inputs.add(event('1', 'com.shop.order.created', '2026-01-01T00:00:10Z'));
    inputs.add(event('2', 'com.pay.done', '2026-01-01T00:00:20Z'));
    inputs.skip();
    inputs.add(event('3', 'com.shop.order.paid', '2026-01-01T00:01:10Z'));
    inputs.add(event('4', 'other', '2026-01-01T00:01:20Z'), 'orders');
    expect(inputs.of('orders').map((i) => [i.seq, i.event.id])).toEqual([
      [1, '1'],
      [2, '3'],
      [3, '4'],
    ]);
    expect(inputs.of('pay').map((i) => i.event.id)).toEqual(['2']);
    expect(inputs.countBefore('orders', 3)).toBe(1);
    const run = runQueries(compiled, new Map([['per-minute', ['b', 'a']]]), inputs, 4);
    expect(run.crashDiffs).toEqual([]);
    expect(run.lines.map((l) => ('data' in l ? [l.data.n, l.routes] : l))).toEqual([
      [1, ['a', 'b']],
      [2, ['a', 'b']],
    ]);
  });

  it('report sources that share a name and outputs that are not declared', () => {
    const { problems } = compilePipelineQueries(
      { namespace: 'ns', name: 'pl' },
      {
        ...spec,
        sources: [{ eventSource: 'shop', as: 'orders' }, { eventSource: 'orders' }],
        queries: [{ ...spec.queries[0]!, outputs: ['c'] }],
      },
    );
    expect(problems.map((p) => p.message)).toEqual([
      'two sources are named orders in queries; give one of them another name with sources[1].as',
      'output c is not declared in spec.outputs',
    ]);
  });
});
