// The compiled form of a pattern: elements with compiled conditions, as the pattern operator
// (windows/pattern.ts) runs them. Built once per query.
import type { PatternSpec } from './check-from.js';
import { compileExpr, type Compiled } from './compile-expr.js';

export interface StepPlan {
  slot: number;
  source: string;
  cond: Compiled | undefined;
  min: number;
  max: number;
}

export type ElementPlan =
  | { type: 'step'; step: StepPlan }
  | { type: 'absent'; source: string; cond: Compiled | undefined; forMs: number }
  | { type: 'and' | 'or'; steps: StepPlan[] };

export interface PatternPlan {
  strict: boolean;
  every: boolean;
  elements: ElementPlan[];
  within: number;
  vars: number;
}

export function buildPatternPlan(p: PatternSpec): PatternPlan {
  const step = (s: PatternSpec['elements'][number] & { type: 'step' }): StepPlan => ({
    slot: s.step.slot,
    source: s.step.source,
    cond: s.step.cond ? compileExpr(s.step.cond) : undefined,
    min: s.step.min,
    max: s.step.max,
  });
  return {
    strict: p.strict,
    every: p.every,
    within: p.within,
    vars: p.vars.length,
    elements: p.elements.map((el): ElementPlan => {
      switch (el.type) {
        case 'step':
          return { type: 'step', step: step(el) };
        case 'absent':
          return {
            type: 'absent',
            source: el.source,
            cond: el.cond ? compileExpr(el.cond) : undefined,
            forMs: el.forMs,
          };
        default:
          return { type: el.type, steps: el.steps.map((s) => step({ type: 'step', step: s })) };
      }
    }),
  };
}
