// Errors of the rule engine. Compile-time problems are collected as diagnostics with 1-based line
// and column so `eventrunner validate` and Pipeline status can point at the exact spot.
import { EventrunnerError } from '../common/errors.js';

export interface RuleDiagnostic {
  line: number;
  column: number;
  message: string;
  /** The rule the problem is in, when it is inside one. */
  rule?: string;
}

export const RulesErrorCode = {
  Invalid: 'RULES_INVALID',
} as const;

/** A rule set that does not parse or does not pass the static checks. */
export class RuleCompileError extends EventrunnerError {
  readonly diagnostics: RuleDiagnostic[];
  constructor(diagnostics: RuleDiagnostic[]) {
    const first = diagnostics[0];
    const where = first ? `${first.line}:${first.column}: ${first.message}` : 'invalid rules';
    const more = diagnostics.length > 1 ? ` (and ${diagnostics.length - 1} more)` : '';
    super(RulesErrorCode.Invalid, `rules do not compile: ${where}${more}`);
    this.name = 'RuleCompileError';
    this.diagnostics = diagnostics;
  }
}

export function isRuleCompileError(err: unknown): err is RuleCompileError {
  return err instanceof EventrunnerError && err.code === RulesErrorCode.Invalid;
}

/**
 * A rule expression failed at run time (type mismatch, bad regex, …). Deliberately not an Error:
 * a `when` that fails is an ordinary "does not match", and capturing a stack trace for each one
 * would make events with odd field types an order of magnitude slower to evaluate.
 */
export class EvalFailure {
  constructor(readonly message: string) {}
}

export function fail(message: string): never {
  throw new EvalFailure(message);
}
