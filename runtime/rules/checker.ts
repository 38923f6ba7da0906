// Static checks over a parsed rule set: what Grule would only find at run time (or never), found at
// compile time so `eventrunner validate` and the Pipeline status can point at the line.
import type { Expr, RuleNode, RuleSetNode, Statement } from './ast.js';
import type { RuleDiagnostic } from './errors.js';
import { lookupFunction, UNSUPPORTED_FUNCTIONS } from './functions.js';
import { lookupMethod } from './methods.js';
import { pathOf } from './paths.js';
import { compileRegex } from './safe-regex.js';

/** CloudEvents attributes a rule may not change: they identify the event. */
export const READ_ONLY_ATTRIBUTES = new Set(['id', 'specversion']);
/** CloudEvents 1.0 attribute names: lower-case letters and digits. */
const ATTRIBUTE_NAME = /^[a-z0-9]+$/;

/** Where an expression starts in the source (member and method nodes sit at their name). */
function startOf(e: Expr): Expr {
  if (e.type === 'member' || e.type === 'index' || e.type === 'method') return startOf(e.object);
  if (e.type === 'binary') return startOf(e.left);
  return e;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function arity(min: number, max: number): string {
  if (min === max) return plural(min, 'argument');
  if (max === Infinity) return `at least ${plural(min, 'argument')}`;
  return `${min} to ${max} arguments`;
}

class Checker {
  readonly diagnostics: RuleDiagnostic[] = [];
  private rule: RuleNode | undefined;

  constructor(private readonly outputs: ReadonlySet<string>) {}

  report(at: { line: number; column: number }, message: string): void {
    const d: RuleDiagnostic = { line: at.line, column: at.column, message };
    if (this.rule) d.rule = this.rule.name;
    this.diagnostics.push(d);
  }

  checkRuleSet(ruleSet: RuleSetNode): void {
    const seen = new Map<string, RuleNode>();
    for (const rule of ruleSet.rules) {
      this.rule = rule;
      const first = seen.get(rule.name);
      if (first) this.report(rule, `duplicate rule name ${rule.name} (first declared on line ${first.line})`);
      else seen.set(rule.name, rule);
      this.checkExpr(rule.when, 'when');
      rule.then.forEach((s) => this.checkStatement(s));
    }
    this.rule = undefined;
  }

  private checkStatement(s: Statement): void {
    if (s.type === 'assign') {
      this.checkTarget(s.target, s);
      this.checkExpr(s.value, 'then');
      return;
    }
    const e = s.expr;
    if (e.type === 'call' && lookupFunction(e.name)?.action) {
      this.checkCall(e, 'statement');
      return;
    }
    this.checkExpr(e, 'then');
  }

  private checkTarget(target: Expr, at: { line: number; column: number }): void {
    const path = pathOf(target);
    if (!path) return; // the parser only accepts variable paths, so this is unreachable
    this.checkExpr(target, 'then');
    if (path.length === 0) {
      this.report(at, 'cannot assign to event itself; assign to one of its fields');
      return;
    }
    const top = path[0]!;
    if (READ_ONLY_ATTRIBUTES.has(top) && path.length === 1) {
      this.report(at, `event.${top} is read-only: it identifies the event`);
    } else if (top !== '*' && path.length === 1 && !ATTRIBUTE_NAME.test(top)) {
      this.report(
        at,
        `event.${top} is not a valid CloudEvents attribute name (lower-case letters and digits only)`,
      );
    }
  }

  private checkCall(e: Extract<Expr, { type: 'call' }>, where: 'when' | 'then' | 'statement'): void {
    e.args.forEach((a) => this.checkExpr(a, where === 'statement' ? 'then' : where));
    const fn = lookupFunction(e.name);
    if (!fn) {
      if (UNSUPPORTED_FUNCTIONS.has(e.name))
        this.report(e, `${e.name}() is a Grule function eventrunner does not support`);
      else this.report(e, `unknown function ${e.name}()`);
      return;
    }
    if (e.args.length < fn.minArgs || e.args.length > fn.maxArgs) {
      this.report(e, `${e.name}() takes ${arity(fn.minArgs, fn.maxArgs)}, got ${e.args.length}`);
      return;
    }
    if (fn.action && where !== 'statement') {
      this.report(e, `${e.name}() is an action: it can only be a statement in 'then'`);
      return;
    }
    if (e.name === 'Route') {
      const arg = e.args[0]!;
      if (arg.type !== 'literal' || arg.literal.kind !== 'string') {
        this.report(startOf(arg), 'Route() needs the output name as a string literal, e.g. Route("store")');
      } else if (!this.outputs.has(arg.literal.value)) {
        const known = [...this.outputs].sort().join(', ') || 'none';
        this.report(
          arg,
          `Route("${arg.literal.value}"): no output named ${arg.literal.value} (outputs: ${known})`,
        );
      }
    }
  }

  private checkExpr(e: Expr, where: 'when' | 'then'): void {
    switch (e.type) {
      case 'literal':
        return;
      case 'var':
        if (e.name !== 'event') {
          this.report(e, `unknown variable ${e.name}: the only fact in scope is event`);
        }
        return;
      case 'member':
        this.checkExpr(e.object, where);
        return;
      case 'index':
        this.checkExpr(e.object, where);
        this.checkExpr(e.index, where);
        return;
      case 'call':
        this.checkCall(e, where);
        return;
      case 'method': {
        this.checkExpr(e.object, where);
        e.args.forEach((a) => this.checkExpr(a, where));
        const m = lookupMethod(e.name);
        if (!m) {
          this.report(e, `unknown method ${e.name}()`);
          return;
        }
        if (e.args.length < m.minArgs || e.args.length > m.maxArgs) {
          this.report(e, `${e.name}() takes ${arity(m.minArgs, m.maxArgs)}, got ${e.args.length}`);
          return;
        }
        if (m.mutates && where === 'when') {
          this.report(e, `${e.name}() changes its receiver, which a 'when' may not do`);
        }
        const arg = e.args[0];
        if (e.name === 'MatchString' && arg?.type === 'literal' && arg.literal.kind === 'string') {
          const re = compileRegex(arg.literal.value);
          if (typeof re === 'string') this.report(arg, `invalid regular expression: ${re}`);
        }
        return;
      }
      case 'not':
        this.checkExpr(e.operand, where);
        return;
      case 'binary':
        this.checkExpr(e.left, where);
        this.checkExpr(e.right, where);
        return;
    }
  }
}

export function checkRuleSet(ruleSet: RuleSetNode, outputs: Iterable<string>): RuleDiagnostic[] {
  const checker = new Checker(new Set(outputs));
  checker.checkRuleSet(ruleSet);
  return checker.diagnostics;
}
