import { describe, expect, it } from 'vitest';
import type { Pipeline, Sink } from '../../../api/generated/types.js';
import { DependentsIndex } from '../../../operator/dependents.js';

const pipeline = (namespace: string, name: string, sources: string[], sinks: string[]): Pipeline =>
  ({
    metadata: { namespace, name },
    spec: {
      sources: sources.map((eventSource) => ({ eventSource })),
      outputs: sinks.map((sink, i) => ({ name: `o${i}`, sink })),
    },
  }) as unknown as Pipeline;

describe('DependentsIndex', () => {
  it('finds the Pipelines naming an EventSource or Sink, per namespace', () => {
    const idx = new DependentsIndex();
    idx.update(pipeline('a', 'orders', ['shop'], ['cql', 'ch']), 'add');
    idx.update(pipeline('a', 'clicks', ['web', 'shop'], ['ch', 'ch']), 'add');
    idx.update(pipeline('b', 'orders', ['shop'], ['cql']), 'add');
    expect(idx.pipelinesUsing('EventSource', 'a', 'shop').sort()).toEqual(['clicks', 'orders']);
    expect(idx.pipelinesUsing('Sink', 'a', 'ch').sort()).toEqual(['clicks', 'orders']);
    expect(idx.pipelinesUsing('Sink', 'a', 'cql')).toEqual(['orders']);
    expect(idx.pipelinesUsing('EventSource', 'b', 'shop')).toEqual(['orders']);
    // Kinds are apart: a Sink and an EventSource may share a name.
    expect(idx.pipelinesUsing('Sink', 'a', 'shop')).toEqual([]);
  });

  it('follows updates and deletions', () => {
    const idx = new DependentsIndex();
    idx.update(pipeline('a', 'orders', ['shop'], ['cql']), 'add');
    idx.update(pipeline('a', 'orders', ['web'], ['cql']), 'update');
    expect(idx.pipelinesUsing('EventSource', 'a', 'shop')).toEqual([]);
    expect(idx.pipelinesUsing('EventSource', 'a', 'web')).toEqual(['orders']);
    idx.update(pipeline('a', 'orders', ['web'], ['cql']), 'delete');
    expect(idx.pipelinesUsing('EventSource', 'a', 'web')).toEqual([]);
    expect(idx.pipelinesUsing('Sink', 'a', 'cql')).toEqual([]);
    // A relist that adds it again indexes it again.
    idx.update(pipeline('a', 'orders', ['web'], ['cql']), 'add');
    expect(idx.pipelinesUsing('Sink', 'a', 'cql')).toEqual(['orders']);
  });

  it('indexes lookup tables’ Sinks like outputs’', () => {
    const idx = new DependentsIndex();
    const pl = pipeline('a', 'orders', ['shop'], ['ch']);
    (pl.spec as { tables?: unknown }).tables = [{ name: 'customers', sink: 'cql', key: 'id' }];
    idx.update(pl, 'add');
    expect(idx.pipelinesUsing('Sink', 'a', 'cql')).toEqual(['orders']);
  });

  it('finds the eventSource Sinks publishing to an EventSource, following updates and deletions', () => {
    const sink = (namespace: string, name: string, target?: string): Sink =>
      ({
        metadata: { namespace, name },
        spec: target ? { eventSource: { name: target } } : { clickhouse: { url: 'http://ch' } },
      }) as unknown as Sink;
    const idx = new DependentsIndex();
    idx.updateSink(sink('a', 'to-shop', 'shop'), 'add');
    idx.updateSink(sink('a', 'also-shop', 'shop'), 'add');
    idx.updateSink(sink('a', 'ch'), 'add');
    idx.updateSink(sink('b', 'to-shop', 'shop'), 'add');
    expect(idx.sinksPublishingTo('a', 'shop').sort()).toEqual(['also-shop', 'to-shop']);
    expect(idx.sinksPublishingTo('b', 'shop')).toEqual(['to-shop']);
    idx.updateSink(sink('a', 'to-shop', 'web'), 'update');
    expect(idx.sinksPublishingTo('a', 'shop')).toEqual(['also-shop']);
    expect(idx.sinksPublishingTo('a', 'web')).toEqual(['to-shop']);
    idx.updateSink(sink('a', 'also-shop'), 'update');
    expect(idx.sinksPublishingTo('a', 'shop')).toEqual([]);
    idx.updateSink(sink('a', 'to-shop', 'web'), 'delete');
    expect(idx.sinksPublishingTo('a', 'web')).toEqual([]);
  });
});
