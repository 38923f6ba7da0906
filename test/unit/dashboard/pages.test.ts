// The pages as the server renders them, from resources and reads given here: every value from the
// cluster or an event is escaped, event data is cut to its cap, and the page carries the ids its
// script updates.
import { KubeConfig } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { Pipeline } from '../../../api/generated/types.js';
import { createLogger } from '../../../runtime/common/logger.js';
import { Collector } from '../../../runtime/dashboard/collector.js';
import { renderPage } from '../../../runtime/dashboard/html.js';
import { changedSince } from '../../../runtime/dashboard/server.js';
import { capData, DATA_CAP_BYTES } from '../../../runtime/dashboard/nats-reads.js';
import { pipelineView, type PipelineExtras } from '../../../runtime/dashboard/view-pipeline.js';

const hostile = '<script>alert(1)</script>';

const pipeline: Pipeline = {
  apiVersion: 'eventrunner.io/v1alpha1',
  kind: 'Pipeline',
  metadata: { name: 'orders', namespace: 'shop' },
  spec: {
    sources: [{ eventSource: 'shop' }],
    rules: '',
    outputs: [{ name: 'store', sink: 'db' }],
    ruleEngine: { mode: 'once', maxCycles: 1 },
    delivery: { maxDeliver: 5, ackWait: '30s', maxAckPending: 1000 },
    deadLetter: { maxAge: '7d', maxBytes: '1Gi' },
    replicas: 1,
    suspend: false,
    queryWorkers: { replicas: 1 },
    deletionPolicy: 'Delete',
    // The fields this page reads; the rest of the spec does not matter here.
  } as unknown as Pipeline['spec'],
  status: {
    conditions: [
      {
        type: 'Ready',
        status: 'False',
        reason: 'SinksNotReady',
        message: hostile,
        lastTransitionTime: '2026-01-01T00:00:00Z',
      },
    ],
  },
};

const extras = (data: string): PipelineExtras => ({
  deadLetters: [
    {
      seq: 7,
      time: '2026-01-01T00:00:00.000Z',
      subject: 'er.shop.shop.order',
      id: 'o-1',
      type: 'order',
      source: '/checkout',
      data,
      reason: `amount ${hostile}`,
      rule: 'NegativeAmount',
      output: '',
      deliveries: '1',
    },
  ],
  recent: [],
  byType: [['order', 3]],
  consumers: new Map([['shop', { pending: 2, ackPending: 1, redelivered: 0 }]]),
  kubeEvents: [
    { metadata: {}, involvedObject: {}, type: 'Warning', reason: 'Bad', message: hostile, count: 2 },
  ],
});

const collector = () =>
  new Collector({
    kc: new KubeConfig(),
    targets: () => Promise.resolve([]),
    intervalMs: 1000,
    historyMs: 60_000,
    log: createLogger({ name: 'test', level: 'silent' }),
  });

describe('the Pipeline page', () => {
  it('escapes everything from the cluster and the events, and shows dead letters with their reasons', () => {
    const payload = pipelineView(
      collector(),
      pipeline,
      extras(JSON.stringify({ note: hostile })),
      Date.now(),
    );
    const html = renderPage('pipeline', payload, '/api/stream?view=pipeline&namespace=shop&name=orders');
    expect(html).not.toContain(hostile);
    expect(html).toContain('amount &lt;script&gt;alert(1)&lt;/script&gt;');
    expect(payload.fragments.deadletters).toContain('NegativeAmount');
    expect(payload.fragments.lag).toMatch(/<td>2<\/td><td>1<\/td>/);
    expect(payload.fields['pl-health']).toBe(`SinksNotReady: ${hostile}`);
    // The embedded first payload cannot close its script element.
    const embedded = /<script type="application\/json" id="initial">([\s\S]*?)<\/script>/.exec(html)![1]!;
    expect(embedded).not.toContain('<');
    expect(JSON.parse(embedded)).toEqual(payload);
    for (const id of ['pl-in', 'pl-lag', 'deadletters', 'recent', 'kubeevents', 'conditions'])
      expect(html).toContain(`id="${id}"`);
  });
});

describe('capData', () => {
  it('keeps small data as it is and cuts large data at the cap, saying how large it was', () => {
    expect(capData({ a: 1 })).toBe('{"a":1}');
    const big = 'x'.repeat(DATA_CAP_BYTES * 3);
    const shown = capData(big);
    expect(shown.startsWith('x'.repeat(DATA_CAP_BYTES))).toBe(true);
    expect(shown).toMatch(new RegExp(`… \\(${DATA_CAP_BYTES * 3} bytes\\)$`));
    // A multi-byte character cut in half is dropped, not shown as a replacement character.
    expect(capData('é'.repeat(DATA_CAP_BYTES), 5)).toBe(`éé… (${DATA_CAP_BYTES * 2} bytes)`);
  });
});

describe('changedSince', () => {
  it('sends everything first, then only the fields and fragments that changed, and the charts', () => {
    const first = {
      title: 't',
      fields: { a: '1', b: '2' },
      fragments: { g: '<svg/>', t: '<table/>' },
      charts: {},
    };
    expect(changedSince(undefined, first)).toBe(first);
    const next = {
      title: 't',
      fields: { a: '1', b: '3' },
      fragments: { g: '<svg/>', t: '<table>x</table>' },
      charts: {},
    };
    expect(changedSince(first, next)).toEqual({
      title: 't',
      fields: { b: '3' },
      fragments: { t: '<table>x</table>' },
      charts: {},
    });
  });
});
