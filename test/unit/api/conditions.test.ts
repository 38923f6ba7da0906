import { describe, expect, it } from 'vitest';
import {
  ConditionReason,
  ConditionType,
  conditionsEqual,
  conditionTypesByKind,
  readyFrom,
  setCondition,
  type Condition,
} from '../../../api/conditions.js';

const t0 = new Date('2026-01-01T00:00:00.123Z');
const t1 = new Date('2026-01-01T00:05:00Z');

describe('setCondition', () => {
  it('adds a condition with second-precision time and the generation', () => {
    const list = setCondition(
      undefined,
      {
        type: ConditionType.RulesValid,
        status: 'True',
        reason: ConditionReason.RulesCompiled,
        message: '4 rules',
      },
      3,
      t0,
    );
    expect(list).toEqual([
      {
        type: 'RulesValid',
        status: 'True',
        observedGeneration: 3,
        lastTransitionTime: '2026-01-01T00:00:00Z',
        reason: 'RulesCompiled',
        message: '4 rules',
      },
    ]);
  });

  it('moves lastTransitionTime only when the status flips', () => {
    const first = setCondition(
      [],
      { type: 'RulesValid', status: 'True', reason: 'RulesCompiled', message: '4 rules' },
      1,
      t0,
    );
    const same = setCondition(
      first,
      { type: 'RulesValid', status: 'True', reason: 'RulesCompiled', message: '5 rules' },
      2,
      t1,
    );
    expect(same[0]!.lastTransitionTime).toBe('2026-01-01T00:00:00Z');
    expect(same[0]!.message).toBe('5 rules');
    expect(same[0]!.observedGeneration).toBe(2);
    const flipped = setCondition(
      same,
      { type: 'RulesValid', status: 'False', reason: 'RulesInvalid', message: '3:5: x' },
      3,
      t1,
    );
    expect(flipped[0]!.lastTransitionTime).toBe('2026-01-01T00:05:00Z');
    expect(first[0]!.message).toBe('4 rules');
  });

  it('makes recomputing the same state a no-op', () => {
    const input = {
      type: ConditionType.SinksReady,
      status: 'True' as const,
      reason: ConditionReason.SinksReady,
      message: 'ok',
    };
    const a = setCondition([], input, 1, t0);
    expect(conditionsEqual(a, setCondition(a, input, 1, t1))).toBe(true);
    expect(conditionsEqual(a, setCondition(a, { ...input, message: 'changed' }, 1, t1))).toBe(false);
  });
});

describe('readyFrom', () => {
  const cond = (type: string, status: Condition['status'], reason = 'X', message = 'm'): Condition => ({
    type,
    status,
    reason,
    message,
    lastTransitionTime: '2026-01-01T00:00:00Z',
  });

  it('is True only when every other condition of the kind is True', () => {
    const all = conditionTypesByKind.EventSource.filter((t) => t !== 'Ready').map((t) => cond(t, 'True'));
    expect(readyFrom(all, conditionTypesByKind.EventSource).status).toBe('True');
    expect(readyFrom(all.slice(1), conditionTypesByKind.EventSource)).toMatchObject({
      status: 'Unknown',
      message: 'StreamReady: not yet observed',
    });
  });

  it('carries the reason of the first False condition', () => {
    const list = [
      cond('RulesValid', 'Unknown'),
      cond('ConsumerReady', 'False', 'ConsumerError', 'stream not found'),
      cond('WorkloadReady', 'True'),
      cond('SinksReady', 'True'),
    ];
    expect(readyFrom(list, conditionTypesByKind.Pipeline)).toEqual({
      type: 'Ready',
      status: 'False',
      reason: 'ConsumerError',
      message: 'ConsumerReady: stream not found',
    });
  });
});
