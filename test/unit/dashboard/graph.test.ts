// The overview graph from resources: nodes per kind with health from the Ready condition, edges
// for sources, outputs and queries, missing references shown as failing, and everything escaped.
import { describe, expect, it } from 'vitest';
import type { EventSource, Pipeline, Sink } from '../../../api/generated/types.js';
import {
  buildGraph,
  edgeId,
  healthOf,
  layoutGraph,
  renderGraphSvg,
} from '../../../runtime/dashboard/graph.js';

const ready = (status: 'True' | 'False', reason = 'Ready', message = '') => ({
  conditions: [{ type: 'Ready', status, reason, message, lastTransitionTime: '2026-01-01T00:00:00Z' }],
});
const meta = (name: string) => ({ name, namespace: 'shop' });

const es = (name: string): EventSource =>
  ({
    apiVersion: 'eventrunner.io/v1alpha1',
    kind: 'EventSource',
    metadata: meta(name),
    spec: {},
    status: ready('True'),
  }) as never;
const sink = (name: string, status = ready('True')): Sink =>
  ({ apiVersion: 'eventrunner.io/v1alpha1', kind: 'Sink', metadata: meta(name), spec: {}, status }) as never;
const pipeline = (name: string, spec: Partial<Pipeline['spec']>, status = ready('True')): Pipeline =>
  ({
    apiVersion: 'eventrunner.io/v1alpha1',
    kind: 'Pipeline',
    metadata: meta(name),
    spec: { sources: [], outputs: [], ...spec },
    status,
  }) as never;

describe('healthOf', () => {
  it('reads the Ready condition: True ready, False failing, missing or Unknown pending', () => {
    expect(healthOf(ready('True').conditions).health).toBe('ready');
    expect(healthOf(ready('False', 'SinkUnreachable', 'down').conditions)).toEqual({
      health: 'failing',
      reason: 'SinkUnreachable',
      message: 'down',
    });
    expect(healthOf(undefined).health).toBe('pending');
  });
});

describe('buildGraph', () => {
  const graph = buildGraph(
    [es('orders')],
    [
      pipeline('routing', {
        sources: [{ eventSource: 'orders' }, { eventSource: 'returns' }],
        outputs: [
          { name: 'store', sink: 'db' },
          { name: 'per-minute', sink: 'olap' },
        ],
        queries: [
          {
            name: 'by_minute',
            sql: 'SELECT 1',
            outputs: ['per-minute'],
            partitions: 1,
            idleTimeout: '1m',
            maxStateKeys: 1,
          },
        ],
      }),
    ],
    [sink('db'), sink('olap', ready('False', 'Unreachable'))],
  );

  it('has a node per resource and query, and marks references to missing resources as failing', () => {
    const byId = new Map(graph.nodes.map((n) => [n.id, n]));
    expect([...byId.keys()].sort()).toEqual(
      [
        'es:shop/orders',
        'es:shop/returns',
        'pl:shop/routing',
        'q:shop/routing/by_minute',
        'sink:shop/db',
        'sink:shop/olap',
      ].sort(),
    );
    expect(byId.get('es:shop/returns')).toMatchObject({ health: 'failing', reason: 'NotFound' });
    expect(byId.get('sink:shop/olap')).toMatchObject({ health: 'failing', reason: 'Unreachable' });
    expect(byId.get('q:shop/routing/by_minute')?.href).toBe('/pipelines/shop/routing#query-by_minute');
  });

  it('connects sources to the Pipeline, the Pipeline to its outputs and queries, and queries to theirs', () => {
    expect(graph.edges.map((e) => `${e.from} -> ${e.to} (${e.label})`)).toEqual([
      'es:shop/orders -> pl:shop/routing (orders)',
      'es:shop/returns -> pl:shop/routing (returns)',
      'pl:shop/routing -> sink:shop/db (store)',
      'pl:shop/routing -> sink:shop/olap (per-minute)',
      'pl:shop/routing -> q:shop/routing/by_minute (by_minute)',
      'q:shop/routing/by_minute -> sink:shop/olap (per-minute)',
    ]);
  });

  it('lays the kinds out in columns, the query column only when there are queries', () => {
    const l = layoutGraph(graph);
    const x = (id: string) => l.at.get(id)!.x;
    expect(x('es:shop/orders')).toBeLessThan(x('pl:shop/routing'));
    expect(x('pl:shop/routing')).toBeLessThan(x('q:shop/routing/by_minute'));
    expect(x('q:shop/routing/by_minute')).toBeLessThan(x('sink:shop/db'));
    const noQueries = layoutGraph(buildGraph([es('a')], [], [sink('b')]));
    expect(noQueries.at.get('sink:shop/b')!.x).toBeLessThan(l.at.get('sink:shop/db')!.x);
  });
});

describe('renderGraphSvg', () => {
  it('draws focusable links named by their visible text, and a rate slot per edge', () => {
    const g = buildGraph([es('orders')], [pipeline('routing', { sources: [{ eventSource: 'orders' }] })], []);
    const svg = renderGraphSvg(g, new Map([[edgeId.source('shop', 'routing', 'orders'), '12/s']]));
    expect(svg).toContain('<title>routing Ready, Pipeline in shop. </title>');
    expect(svg).toContain('href="/pipelines/shop/routing"');
    expect(svg).toMatch(/<text class="rate" id="rate-in:shop\/routing\/orders"[^>]*>12\/s<\/text>/);
  });

  it('escapes names and messages from the cluster', () => {
    const hostile = pipeline('x', {}, ready('False', 'Bad', '<script>alert(1)</script>'));
    hostile.metadata.name = '<img src=x>';
    const svg = renderGraphSvg(buildGraph([], [hostile], []));
    expect(svg).not.toContain('<script>');
    expect(svg).not.toContain('<img');
    expect(svg).toContain('&lt;script&gt;');
  });
});
