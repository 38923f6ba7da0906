// Public entry of the rule engine: GRL source in, compiled rules out. See docs/rules.md for the
// language and its semantics.
import type { RuleNode, RuleSetNode } from './ast.js';
import { checkRuleSet } from './checker.js';
import { compileCondition } from './compile-expr.js';
import { compileStatement } from './compile-stmt.js';
import {
  RuleEngine,
  type CloudEventLike,
  type EngineRule,
  type RuleMode,
  type RuleOutcome,
} from './engine.js';
import { RuleCompileError, type RuleDiagnostic } from './errors.js';
import { lookupFunction } from './functions.js';
import { parseRules } from './parser.js';
import { buildDiscriminator } from './discriminate.js';
import { ConditionCache } from './expr-cache.js';
import { invalidationMap, isVolatile, writesOf } from './paths.js';

export { RuleCompileError, isRuleCompileError, RulesErrorCode, type RuleDiagnostic } from './errors.js';
export type { CloudEventLike, RuleMode, RuleOutcome } from './engine.js';
export { keptForQueries } from './engine.js';

export const DEFAULT_MAX_CYCLES = 5000;

export interface CompileOptions {
  /** The Pipeline's output names; Route() to any other name is a compile error. */
  outputs: string[];
  /** 'once' (default): a rule fires at most once per event. 'refire': Grule's behaviour. */
  mode?: RuleMode;
  /** Cycles (rule firings) allowed per event before it is dead-lettered; default 5000. */
  maxCycles?: number;
  /**
   * Where an event goes when no rule routes, drops or dead-letters it. Default: every output
   * (the Pipeline's `spec.defaultOutputs` default). Names must be among `outputs`.
   */
  defaultOutputs?: string[];
  /** Receives Log()/LogFormat() messages; they are discarded without it. */
  log?: (rule: string, message: string) => void;
}

export interface RuleSummary {
  name: string;
  description: string;
  salience: number;
}

export interface CompiledRules {
  /** Rules in the order they take priority: salience descending, then declaration order. */
  readonly rules: readonly RuleSummary[];
  /**
   * Runs the rules on one event. The event is changed in place (no copy is made: callers that
   * need the original keep their own). Never throws: failures become a `deadletter` outcome.
   */
  evaluate(event: CloudEventLike): RuleOutcome;
}

function sortDiagnostics(d: RuleDiagnostic[]): RuleDiagnostic[] {
  return d.sort((a, b) => a.line - b.line || a.column - b.column);
}

function analyse(source: string, outputs: string[]): { ruleSet: RuleSetNode; diagnostics: RuleDiagnostic[] } {
  const { ruleSet, diagnostics } = parseRules(source);
  diagnostics.push(...checkRuleSet(ruleSet, outputs));
  return { ruleSet, diagnostics: sortDiagnostics(diagnostics) };
}

/** Parses and checks a rule set; returns every problem found (empty when it compiles). */
export function checkRules(source: string, outputs: string[]): RuleDiagnostic[] {
  return analyse(source, outputs).diagnostics;
}

function priorityOrder(rules: RuleNode[]): RuleNode[] {
  return [...rules].sort((a, b) => b.salience - a.salience || a.index - b.index);
}

export function compileRules(source: string, opts: CompileOptions): CompiledRules {
  const { ruleSet, diagnostics } = analyse(source, opts.outputs);
  const defaults = opts.defaultOutputs ?? opts.outputs;
  for (const name of defaults) {
    if (!opts.outputs.includes(name)) {
      diagnostics.push({ line: 1, column: 1, message: `default output ${name} is not one of the outputs` });
    }
  }
  const maxCycles = opts.maxCycles ?? DEFAULT_MAX_CYCLES;
  if (!Number.isInteger(maxCycles) || maxCycles < 1) {
    diagnostics.push({
      line: 1,
      column: 1,
      message: `maxCycles must be a positive integer, got ${maxCycles}`,
    });
  }
  if (diagnostics.length > 0) throw new RuleCompileError(diagnostics);

  const outputs = [...new Set(opts.outputs)].sort();
  const outputIndex = new Map(outputs.map((name, i) => [name, i]));
  const ordered = priorityOrder(ruleSet.rules);
  const invalidates = invalidationMap(ordered);
  const isAction = (name: string): boolean => Boolean(lookupFunction(name)?.action);
  const cache = new ConditionCache();
  for (const rule of ordered) cache.count(rule.when);
  const whens = ordered.map((rule) => compileCondition(rule.when, cache));
  const engineRules: EngineRule[] = ordered.map((rule, i) => ({
    name: rule.name,
    when: whens[i]!,
    then: rule.then.map((s) => compileStatement(s, outputIndex, isAction)),
    volatile: isVolatile(rule.when),
    invalidates: Int32Array.from(invalidates[i]!),
    invalidatesSlots: cache.slotsAffectedBy(writesOf(rule.then)),
  }));
  const engine = new RuleEngine(engineRules, {
    mode: opts.mode ?? 'once',
    maxCycles,
    outputs,
    defaultRoutes: Object.freeze([...new Set(defaults)].sort()) as string[],
    log: opts.log,
    cache,
    discriminator: buildDiscriminator(ordered),
  });
  return {
    rules: ordered.map((r) => ({ name: r.name, description: r.description, salience: r.salience })),
    evaluate: (event) => engine.evaluate(event),
  };
}
