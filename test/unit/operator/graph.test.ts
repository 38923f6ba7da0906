// Pipelines chained through eventSource Sinks: which ones feed themselves, and by which path, and
// how long the streams they publish to remember message ids.
import { describe, expect, it } from 'vitest';
import type { EventSource, Pipeline, Sink } from '../../../api/generated/types.js';
import { describeCycle, downstreamOf, feedbackCycle, publishedTo } from '../../../operator/graph.js';
import { eventSourceStream } from '../../../operator/jetstream.js';

function pipeline(name: string, sources: string[], sinks: string[]): Pipeline {
  return {
    apiVersion: 'eventrunner.io/v1alpha1',
    kind: 'Pipeline',
    metadata: { name, namespace: 'shop' },
    spec: {
      sources: sources.map((eventSource) => ({ eventSource })),
      outputs: sinks.map((sink, i) => ({ name: `o${i}`, sink })),
    },
  } as unknown as Pipeline;
}

function sink(name: string, spec: Sink['spec']): Sink {
  return { apiVersion: 'eventrunner.io/v1alpha1', kind: 'Sink', metadata: { name }, spec } as Sink;
}

const sinks = new Map<string, Sink>([
  ['to-alerts', sink('to-alerts', { eventSource: { name: 'alerts' } })],
  ['to-shop', sink('to-shop', { eventSource: { name: 'shop' } })],
  ['to-audit', sink('to-audit', { eventSource: { name: 'audit' } })],
  ['hook', sink('hook', { http: { url: 'https://hooks.example.com/x' } } as Sink['spec'])],
]);
const named = (n: string) => sinks.get(n);

describe('feedbackCycle', () => {
  it('finds nothing for Pipelines that only write to tables and webhooks, or chain forward', () => {
    const pls = [
      pipeline('orders', ['shop'], ['hook', 'to-alerts']),
      pipeline('alerts', ['alerts'], ['hook', 'to-audit']),
      pipeline('audit', ['audit'], ['hook']),
    ];
    for (const p of pls) expect(feedbackCycle(p.metadata.name!, pls, named)).toBeUndefined();
    expect(publishedTo(pls[0]!, named)).toEqual(['alerts']);
    expect(downstreamOf(pls[0]!, pls, named)).toEqual(['alerts']);
  });

  it('finds a Pipeline that publishes to its own source', () => {
    const pls = [pipeline('loop', ['shop'], ['to-shop'])];
    expect(feedbackCycle('loop', pls, named)).toEqual(['loop', 'shop', 'loop']);
  });

  it('finds the shortest cycle through other Pipelines, for every Pipeline on it', () => {
    const pls = [
      pipeline('orders', ['shop'], ['to-alerts']),
      pipeline('alerts', ['alerts'], ['to-audit', 'hook']),
      pipeline('audit', ['audit'], ['to-shop']),
      pipeline('bystander', ['shop'], ['hook']),
    ];
    const cycle = feedbackCycle('orders', pls, named);
    expect(cycle).toEqual(['orders', 'alerts', 'alerts', 'audit', 'audit', 'shop', 'orders']);
    expect(describeCycle(cycle!)).toBe(
      'Pipeline orders → EventSource alerts → Pipeline alerts → EventSource audit → Pipeline audit → EventSource shop → Pipeline orders',
    );
    expect(feedbackCycle('audit', pls, named)).toEqual([
      'audit',
      'shop',
      'orders',
      'alerts',
      'alerts',
      'audit',
      'audit',
    ]);
    // Reading a source on the cycle is not being on it.
    expect(feedbackCycle('bystander', pls, named)).toBeUndefined();
  });

  it('ignores outputs whose Sink does not exist yet', () => {
    const pls = [pipeline('loop', ['shop'], ['missing'])];
    expect(feedbackCycle('loop', pls, named)).toBeUndefined();
  });
});

describe('the duplicate window of an EventSource that Pipelines publish to', () => {
  const es = (maxAge: string) =>
    ({
      apiVersion: 'eventrunner.io/v1alpha1',
      kind: 'EventSource',
      metadata: { name: 'alerts', namespace: 'shop' },
      spec: { stream: { maxAge, maxBytes: '1Gi', replicas: 1, storage: 'file', duplicateWindow: '2m' } },
    }) as unknown as EventSource;
  const publishing = (delivery: Pipeline['spec']['delivery']) => {
    const p = pipeline('orders', ['shop'], ['to-alerts']);
    p.spec.delivery = delivery;
    return p;
  };
  const seconds = (ns: number | undefined) => (ns ?? 0) / 1e9;

  it("covers the publishers' last redelivery, within maxAge", () => {
    expect(seconds(eventSourceStream(es('72h')).duplicate_window)).toBe(120);
    // 5 deliveries, each up to ackWait 30 s + backoff 60 s apart: a copy up to 450 s after the first.
    const slow = publishing({
      maxDeliver: 5,
      ackWait: '30s',
      backoff: ['1s', '10s', '60s'],
      maxAckPending: 1000,
    });
    const quick = publishing({ maxDeliver: 2, ackWait: '10s', maxAckPending: 1000 });
    expect(seconds(eventSourceStream(es('72h'), [quick]).duplicate_window)).toBe(120);
    expect(seconds(eventSourceStream(es('72h'), [quick, slow]).duplicate_window)).toBe(450);
    expect(seconds(eventSourceStream(es('5m'), [slow]).duplicate_window)).toBe(300);
    expect(seconds(eventSourceStream(es('0'), [slow]).duplicate_window)).toBe(450);
  });
});
