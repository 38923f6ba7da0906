import { describe, expect, it } from 'vitest';
import { checkRules, compileRules, isRuleCompileError } from '../../../runtime/rules/index.js';

const check = (body: string, outputs = ['store', 'analytics']) =>
  checkRules(body, outputs).map((d) => `${d.line}:${d.column} ${d.rule ?? '-'}: ${d.message}`);

describe('static checks', () => {
  it('accepts a valid rule set', () => {
    expect(
      check(`rule BigOrder "flag large orders" salience 10 {
        when event.type == "com.shop.order.created" && event.data.amount >= 1000
        then event.data.tier = "gold"; Route("store"); Route("analytics");
      }`),
    ).toEqual([]);
  });

  it('reports duplicate rule names', () => {
    expect(check('rule A { when true then Drop(); }\nrule A { when false then Drop(); }')).toEqual([
      '2:1 A: duplicate rule name A (first declared on line 1)',
    ]);
  });

  it('reports unknown functions, methods and variables', () => {
    expect(check('rule A { when Foo() && event.type.Bar() && other.x then Gamma(1); }')).toEqual([
      '1:15 A: unknown function Foo()',
      '1:35 A: unknown method Bar()',
      '1:44 A: unknown variable other: the only fact in scope is event',
      '1:57 A: Gamma() is a Grule function eventrunner does not support',
    ]);
  });

  it('reports wrong argument counts', () => {
    expect(check('rule A { when "a".HasPrefix() && IsNil(1, 2) && Max() > 1 then Route(); }')).toEqual([
      '1:19 A: HasPrefix() takes 1 argument, got 0',
      '1:34 A: IsNil() takes 1 argument, got 2',
      '1:49 A: Max() takes at least 1 argument, got 0',
      '1:64 A: Route() takes 1 argument, got 0',
    ]);
  });

  it('reports Route to an undeclared output and Route with a computed name', () => {
    expect(check('rule A { when true then Route("nope"); Route(event.type); }')).toEqual([
      '1:31 A: Route("nope"): no output named nope (outputs: analytics, store)',
      '1:46 A: Route() needs the output name as a string literal, e.g. Route("store")',
    ]);
  });

  it('reports assignments to read-only attributes, to event itself and to invalid attribute names', () => {
    expect(
      check(
        'rule A { when true then event.id = "x"; event["specversion"] = "2"; event = 1; event.Bad = 1; }',
      ),
    ).toEqual([
      '1:25 A: event.id is read-only: it identifies the event',
      '1:41 A: event.specversion is read-only: it identifies the event',
      '1:69 A: cannot assign to event itself; assign to one of its fields',
      '1:80 A: event.Bad is not a valid CloudEvents attribute name (lower-case letters and digits only)',
    ]);
  });

  it('allows assignment to data, other attributes and extensions', () => {
    expect(
      check(
        'rule A { when true then event.data.x = 1; event.subject = "s"; event.priority = 2; event.data["k"] += 1; }',
      ),
    ).toEqual([]);
  });

  it('keeps actions out of expressions and mutation out of conditions', () => {
    expect(check('rule A { when Retract("A") then event.data.x = Route("store"); }')).toEqual([
      "1:15 A: Retract() is an action: it can only be a statement in 'then'",
      "1:48 A: Route() is an action: it can only be a statement in 'then'",
    ]);
    expect(check('rule A { when event.data.l.Append(1).Len() > 0 then Drop(); }')).toEqual([
      "1:28 A: Append() changes its receiver, which a 'when' may not do",
    ]);
  });

  it('reports an invalid literal regular expression', () => {
    expect(check('rule A { when event.type.MatchString("(") then Drop(); }')).toEqual([
      '1:38 A: invalid regular expression: error parsing regexp: missing closing ): `(`',
    ]);
  });

  it('compileRules throws RuleCompileError with all diagnostics', () => {
    let caught: unknown;
    try {
      compileRules('rule A { when true then Route("x"); Route("y"); }', { outputs: ['a'] });
    } catch (err) {
      caught = err;
    }
    expect(isRuleCompileError(caught)).toBe(true);
    if (!isRuleCompileError(caught)) return;
    expect(caught.code).toBe('RULES_INVALID');
    expect(caught.diagnostics).toHaveLength(2);
    expect(caught.message).toBe(
      'rules do not compile: 1:31: Route("x"): no output named x (outputs: a) (and 1 more)',
    );
  });

  it('compileRules rejects default outputs that are not outputs, and bad maxCycles', () => {
    expect(() => compileRules('', { outputs: ['a'], defaultOutputs: ['b'] })).toThrow(/default output b/);
    expect(() => compileRules('', { outputs: ['a'], maxCycles: 0 })).toThrow(/maxCycles/);
  });
});
