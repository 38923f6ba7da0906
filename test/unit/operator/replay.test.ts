import { describe, expect, it } from 'vitest';
import { headers as natsHeaders } from '@nats-io/nats-core';
import type { Replay } from '../../../api/generated/types.js';
import { replayDeployment, replayPlan } from '../../../operator/builders/replay.js';
import { outcomeOf } from '../../../operator/controllers/replay.js';
import { matchesDeadLetter, ORIGIN_HEADER, originOf, workStreamName } from '../../../runtime/replay/plan.js';

const replay = (spec: Replay['spec']): Replay => ({
  apiVersion: 'eventrunner.io/v1alpha1',
  kind: 'Replay',
  metadata: { name: 'again', namespace: 'shop', uid: '0123abcd-0000-0000-0000-000000000000' },
  spec,
});

const headers = (h: Record<string, string>) => {
  const out = natsHeaders();
  for (const [k, v] of Object.entries(h)) out.set(k, v);
  return out;
};

describe('redrive filters', () => {
  const dl = headers({
    'eventrunner-reason': 'output store: HTTP 503 Service Unavailable',
    'eventrunner-output': 'store',
    'eventrunner-original-stream': 'ER_shop_orders',
    'eventrunner-original-sequence': '42',
  });
  const at = new Date('2026-01-02T10:00:00Z');

  it('matches by reason text (any case), output, rule and stored time', () => {
    expect(matchesDeadLetter({}, dl, at)).toBe(true);
    expect(matchesDeadLetter({ reason: 'http 503' }, dl, at)).toBe(true);
    expect(matchesDeadLetter({ reason: 'HTTP 500' }, dl, at)).toBe(false);
    expect(matchesDeadLetter({ output: 'store' }, dl, at)).toBe(true);
    expect(matchesDeadLetter({ output: 'analytics' }, dl, at)).toBe(false);
    expect(matchesDeadLetter({ rule: 'NegativeAmount' }, dl, at)).toBe(false);
    expect(matchesDeadLetter({ since: '2026-01-02T10:00:00Z' }, dl, at)).toBe(true);
    expect(matchesDeadLetter({ until: '2026-01-02T10:00:00Z' }, dl, at)).toBe(false);
  });

  it('finds the first stream and sequence of an event, through a replayed copy too', () => {
    expect(originOf(dl)).toEqual({ stream: 'ER_shop_orders', sequence: 42 });
    const again = headers({
      'eventrunner-original-stream': 'ER_RP_shop_again_0123abcd',
      'eventrunner-original-sequence': '3',
      [ORIGIN_HEADER]: 'ER_shop_orders:42',
    });
    expect(originOf(again)).toEqual({ stream: 'ER_shop_orders', sequence: 42 });
    expect(originOf(headers({}))).toBeUndefined();
  });
});

describe('replay plan and Deployment', () => {
  it('names the work stream with the uid, so a Replay made again never reuses its sequences', () => {
    expect(workStreamName(replayPlan(replay({ pipeline: 'orders', from: { sequence: 1 } })))).toBe(
      'ER_RP_shop_again_0123abcd',
    );
  });

  it('runs the processor pod with the replay-worker command and no probes', () => {
    const processor = {
      spec: {
        selector: {},
        template: {
          metadata: { annotations: { 'eventrunner.io/config-hash': 'h' } },
          spec: {
            containers: [
              {
                name: 'processor',
                image: 'eventrunner:1',
                args: ['process', '--config', '/etc/eventrunner/config.yaml'],
                readinessProbe: { httpGet: { path: '/readyz', port: 'ops' } },
                volumeMounts: [{ name: 'config', mountPath: '/etc/eventrunner' }],
              },
            ],
            volumes: [{ name: 'config', configMap: { name: 'orders-processor-config' } }],
          },
        },
      },
    };
    const rp = replay({ pipeline: 'orders', deadLetters: { reason: 'timeout' }, ratePerSecond: 50 });
    const d = replayDeployment(rp, processor);
    const c = d.spec!.template.spec!.containers[0]!;
    expect(d.metadata!.name).toBe('again-replay');
    expect(d.spec!.replicas).toBe(1);
    expect(d.metadata!.ownerReferences![0]).toMatchObject({
      kind: 'Replay',
      name: 'again',
      controller: true,
    });
    expect(c.args!.slice(0, 4)).toEqual([
      'replay-worker',
      '--config',
      '/etc/eventrunner/config.yaml',
      '--replay',
    ]);
    expect(JSON.parse(c.args![4]!)).toEqual({
      namespace: 'shop',
      name: 'again',
      uid: '0123abcd-0000-0000-0000-000000000000',
      pipeline: 'orders',
      deadLetters: { reason: 'timeout' },
      ratePerSecond: 50,
    });
    expect(c.readinessProbe).toBeUndefined();
    expect(c.volumeMounts).toEqual(processor.spec.template.spec.containers[0]!.volumeMounts);
    expect(d.spec!.template.spec!.volumes).toEqual(processor.spec.template.spec.volumes);
  });
});

describe('replay outcome', () => {
  const p = { total: 10, done: 0, failed: 0, selected: true, finished: false };
  it('runs until finished, fails when events were dead-lettered again or it could not run', () => {
    expect(outcomeOf(undefined).phase).toBe('Running');
    expect(outcomeOf(p).phase).toBe('Running');
    expect(outcomeOf({ ...p, done: 10, finished: true })).toMatchObject({
      phase: 'Succeeded',
      condition: { status: 'True', reason: 'ReplaySucceeded' },
    });
    expect(outcomeOf({ ...p, done: 9, failed: 1, finished: true })).toMatchObject({
      phase: 'Failed',
      condition: { status: 'False', reason: 'EventsDeadLetteredAgain' },
    });
    expect(outcomeOf({ ...p, finished: true, error: 'no stream' })).toMatchObject({
      phase: 'Failed',
      condition: { reason: 'ReplayFailed', message: 'no stream' },
    });
  });
});
