// Small drivers for rule tests: run one expression or one rule set against an event.
import {
  compileRules,
  type CloudEventLike,
  type CompileOptions,
  type RuleOutcome,
} from '../../../runtime/rules/index.js';

export function cloudEvent(data: unknown = {}, extra: Record<string, unknown> = {}): CloudEventLike {
  return { specversion: '1.0', id: 'e-1', type: 'com.example.test', source: '/test', data, ...extra };
}

export function run(source: string, event: CloudEventLike, opts: Partial<CompileOptions> = {}): RuleOutcome {
  const rules = compileRules(source, { outputs: ['a', 'b', 'c'], ...opts });
  return rules.evaluate(event);
}

/** Evaluates `expr` in a `then` and returns the value stored, or throws with the dead-letter reason. */
export function value(expr: string, data: unknown = {}): unknown {
  const out = run(`rule R { when true then event.data.result = ${expr}; }`, cloudEvent(data));
  if (out.outcome === 'deadletter') throw new Error(out.reason);
  return (out.event.data as Record<string, unknown>).result;
}

/** Whether a `when` with `expr` matches. */
export function matches(expr: string, data: unknown = {}, extra: Record<string, unknown> = {}): boolean {
  const out = run(`rule R { when ${expr} then Route("a"); }`, cloudEvent(data, extra), {
    defaultOutputs: ['b'],
  });
  return out.routes.includes('a');
}
