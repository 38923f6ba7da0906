// The Argo CD health check (charts/eventrunner/argocd/health.lua) on sample objects shaped like the
// operator's status, under Lua 5.1; and the argocd-cm snippet carries that script verbatim.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { argoHealth, healthScript, toLua } from './argocd-lua.js';
import { chartDir } from './helm.js';

const at = '2025-01-01T00:00:00Z';
const cond = (type: string, status: string, reason: string, message: string, observedGeneration = 3) => ({
  type,
  status,
  reason,
  message,
  observedGeneration,
  lastTransitionTime: at,
});

function pipeline(opts: {
  generation?: number;
  observedGeneration?: number;
  conditions?: object[];
  suspend?: boolean;
  deleting?: boolean;
}) {
  return {
    apiVersion: 'eventrunner.io/v1alpha1',
    kind: 'Pipeline',
    metadata: {
      name: 'orders',
      namespace: 'shop',
      generation: opts.generation ?? 3,
      ...(opts.deleting ? { deletionTimestamp: at, finalizers: ['eventrunner.io/jetstream'] } : {}),
    },
    spec: {
      sources: [{ eventSource: 'shop' }],
      outputs: [{ name: 'a', sink: 'b' }],
      suspend: opts.suspend ?? false,
    },
    ...(opts.conditions
      ? {
          status: {
            observedGeneration: opts.observedGeneration ?? 3,
            phase: 'Running',
            conditions: opts.conditions,
          },
        }
      : {}),
  };
}

const readyTrue = cond('Ready', 'True', 'Ready', 'Ready');

describe('Argo CD health.lua', () => {
  it('turns JSON into Lua tables that keep strings, numbers, booleans and nesting', () => {
    expect(toLua({ a: [1, 'x"\n', true], b: { 'c-d': null } })).toBe(
      '{["a"] = {1, "x\\"\\n", true}, ["b"] = {["c-d"] = nil}}',
    );
  });

  it('is Healthy when Ready=True for the current generation', () => {
    expect(
      argoHealth(
        pipeline({ conditions: [readyTrue, cond('RulesValid', 'True', 'RulesCompiled', '4 rules')] }),
      ),
    ).toEqual({
      status: 'Healthy',
      message: 'Ready: Ready',
    });
  });

  it('is Degraded when Ready=False for the current generation, saying why', () => {
    const obj = pipeline({
      conditions: [
        cond('Ready', 'False', 'RulesInvalid', 'RulesValid: 3:12: expected an expression'),
        cond('RulesValid', 'False', 'RulesInvalid', '3:12: expected an expression'),
      ],
    });
    expect(argoHealth(obj)).toEqual({
      status: 'Degraded',
      message: 'RulesInvalid: RulesValid: 3:12: expected an expression',
    });
    const sink = {
      kind: 'Sink',
      metadata: { name: 'orders-ch', generation: 1 },
      spec: { clickhouse: { url: 'http://clickhouse:8123' } },
      status: {
        observedGeneration: 1,
        conditions: [cond('Ready', 'False', 'ConnectionFailed', 'connect ECONNREFUSED', 1)],
      },
    };
    expect(argoHealth(sink)).toEqual({
      status: 'Degraded',
      message: 'ConnectionFailed: connect ECONNREFUSED',
    });
  });

  it('is Progressing, not Degraded, while the operator has not reconciled the latest generation', () => {
    const failedBefore = [cond('Ready', 'False', 'RulesInvalid', 'RulesValid: 1:1: x')];
    expect(argoHealth(pipeline({ generation: 4, observedGeneration: 3, conditions: failedBefore }))).toEqual({
      status: 'Progressing',
      message: 'Waiting for the operator to reconcile generation 4',
    });
    // A Ready condition left from an older generation, even if status.observedGeneration moved.
    expect(
      argoHealth(pipeline({ generation: 4, observedGeneration: 4, conditions: [readyTrue] })).status,
    ).toBe('Progressing');
  });

  it('is Progressing during a rollout, with Ready=Unknown, and without any status yet', () => {
    const rolling = cond('Ready', 'False', 'WorkloadProgressing', 'WorkloadReady: 1/2 processor pods ready');
    expect(argoHealth(pipeline({ conditions: [rolling] }))).toEqual({
      status: 'Progressing',
      message: 'WorkloadProgressing: WorkloadReady: 1/2 processor pods ready',
    });
    const unknown = cond('Ready', 'Unknown', 'Reconciling', 'StreamReady: not yet observed');
    expect(argoHealth(pipeline({ conditions: [unknown] })).status).toBe('Progressing');
    expect(argoHealth(pipeline({}))).toEqual({
      status: 'Progressing',
      message: 'Waiting for the operator to report status',
    });
    expect(argoHealth(pipeline({ conditions: [cond('RulesValid', 'True', 'RulesCompiled', 'ok')] }))).toEqual(
      {
        status: 'Progressing',
        message: 'Waiting for the Ready condition',
      },
    );
  });

  it('is Suspended for a ready Pipeline with spec.suspend, and Progressing while deleting', () => {
    expect(argoHealth(pipeline({ suspend: true, conditions: [readyTrue] })).status).toBe('Suspended');
    expect(argoHealth(pipeline({ deleting: true, conditions: [readyTrue] })).status).toBe('Progressing');
  });

  it('is what argocd-cm.yaml installs, verbatim, for all three kinds', () => {
    const script = readFileSync(healthScript, 'utf8');
    const cm = parse(readFileSync(join(chartDir, 'argocd', 'argocd-cm.yaml'), 'utf8')) as {
      data: Record<string, string>;
    };
    const health = Object.keys(cm.data).filter((k) => k.startsWith('resource.customizations.health.'));
    expect(health.sort()).toEqual(
      ['EventSource', 'Pipeline', 'Sink'].map((k) => `resource.customizations.health.eventrunner.io_${k}`),
    );
    for (const k of health) expect(cm.data[k]).toBe(script);
  });
});
