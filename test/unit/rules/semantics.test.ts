import { describe, expect, it } from 'vitest';
import { compileRules } from '../../../runtime/rules/index.js';
import { cloudEvent, run } from './helpers.js';

const data = (out: { event: { data?: unknown } }): Record<string, unknown> =>
  out.event.data as Record<string, unknown>;

describe('conflict-set cycle', () => {
  it('fires the highest salience first and re-evaluates after each firing', () => {
    const src = `
      rule Low salience 1 { when event.data.step == 1 then event.data.log = event.data.log + "L"; event.data.step = 2; }
      rule High salience 5 { when event.data.step == 0 then event.data.log = event.data.log + "H"; event.data.step = 1; }
      rule Last salience 9 { when event.data.step == 2 then event.data.log = event.data.log + "Z"; }`;
    const out = run(src, cloudEvent({ step: 0, log: '' }));
    expect(data(out).log).toBe('HLZ');
  });

  it('breaks salience ties by declaration order', () => {
    const src = `
      rule First { when true then event.data.log = event.data.log + "1"; }
      rule Second { when true then event.data.log = event.data.log + "2"; }
      rule Third salience 1 { when true then event.data.log = event.data.log + "3"; }`;
    expect(data(run(src, cloudEvent({ log: '' }))).log).toBe('312');
  });

  it('fires each rule at most once per event by default', () => {
    const src = 'rule Count { when event.data.n < 100 then event.data.n = event.data.n + 1; }';
    expect(data(run(src, cloudEvent({ n: 0 }))).n).toBe(1);
  });

  it('re-fires in refire mode until the condition turns false', () => {
    const src = 'rule Count { when event.data.n < 100 then event.data.n = event.data.n + 1; }';
    expect(data(run(src, cloudEvent({ n: 0 }), { mode: 'refire' })).n).toBe(100);
  });

  it('dead-letters when refire mode exceeds maxCycles', () => {
    const src = 'rule Loop { when true then event.data.n = event.data.n + 1; }';
    const out = run(src, cloudEvent({ n: 0 }), { mode: 'refire', maxCycles: 10 });
    expect(out.outcome).toBe('deadletter');
    expect(out.reason).toBe('rules did not settle within 10 cycles (rule Loop keeps matching)');
    expect(out.rule).toBe('Loop');
    expect(data(out).n).toBe(10);
  });

  it('gives the same result for idiomatic Grule rules (with Retract) in both modes', () => {
    const src = `
      rule A salience 2 { when event.data.x > 0 then event.data.y = event.data.x * 2; Retract("A"); }
      rule B salience 1 { when event.data.y > 5 then event.data.z = "big"; Retract("B"); }`;
    const once = run(src, cloudEvent({ x: 3 }));
    const refire = run(src, cloudEvent({ x: 3 }), { mode: 'refire' });
    expect(data(once)).toEqual({ x: 3, y: 6, z: 'big' });
    expect(data(refire)).toEqual(data(once));
  });

  it('Retract excludes a rule for the rest of the evaluation; unknown names do nothing', () => {
    const src = `
      rule Gate salience 10 { when true then Retract("Never"); Retract("NoSuchRule"); }
      rule Never { when true then event.data.hit = true; }`;
    expect(data(run(src, cloudEvent({})))).toEqual({});
  });

  it('Complete stops after the rest of the current then has run', () => {
    const src = `
      rule Stop salience 10 { when true then Complete(); event.data.after = true; }
      rule Next { when true then event.data.next = true; }`;
    expect(data(run(src, cloudEvent({})))).toEqual({ after: true });
  });

  it('re-evaluates a condition that reads a field another rule wrote', () => {
    const src = `
      rule SetTier salience 10 { when event.data.amount > 100 then event.data.meta.tier = "gold"; }
      rule Gold { when event.data.meta.tier == "gold" then Route("a"); }
      rule Dyn { when event.data.meta[event.data.k] == "gold" then Route("b"); }`;
    const out = run(src, cloudEvent({ amount: 500, meta: {}, k: 'tier' }));
    expect(out.routes).toEqual(['a', 'b']);
  });

  it('sees writes through Append and through a whole-object assignment', () => {
    const src = `
      rule Add salience 10 { when true then event.data.list.Append("x"); event.data.obj = event.data.src; }
      rule Saw { when event.data.list.Len() == 2 && event.data.obj.k == 1 then Route("c"); }`;
    const out = run(src, cloudEvent({ list: ['a'], src: { k: 1 } }));
    expect(out.routes).toEqual(['c']);
  });

  it('copies stored objects, so later writes do not alias', () => {
    const src = `
      rule Copy salience 10 { when true then event.data.b = event.data.a; event.data.a.x = 2; }
      rule Check { when event.data.b.x == 1 then Route("a"); }`;
    const out = run(src, cloudEvent({ a: { x: 1 } }));
    expect(data(out)).toEqual({ a: { x: 2 }, b: { x: 1 } });
    expect(out.routes).toEqual(['a']);
  });
});

describe('outcomes', () => {
  const src = `
    rule RouteA { when event.data.r == "a" then Route("a"); }
    rule RouteB { when event.data.r == "ab" then Route("b"); Route("a"); Route("b"); }
    rule DropIt { when event.data.drop then Drop(); Route("a"); }
    rule Dead { when event.data.dead then DeadLetter("bad " + event.data.why); Drop(); }`;

  it('routes to the union of Route targets, sorted', () => {
    expect(run(src, cloudEvent({ r: 'ab' })).routes).toEqual(['a', 'b']);
  });

  it('routes to defaultOutputs (all outputs by default) when no rule routes', () => {
    expect(run(src, cloudEvent({})).routes).toEqual(['a', 'b', 'c']);
    expect(run(src, cloudEvent({}), { defaultOutputs: ['c'] }).routes).toEqual(['c']);
    expect(run(src, cloudEvent({}), { defaultOutputs: [] })).toMatchObject({
      outcome: 'dropped',
      routes: [],
    });
    expect(run(src, cloudEvent({}), { defaultOutputs: [] }).rule).toBeUndefined();
  });

  it('drops whatever the routes', () => {
    const out = run(src, cloudEvent({ drop: true }));
    expect(out).toMatchObject({ outcome: 'dropped', routes: [], rule: 'DropIt' });
  });

  it('dead-letters with the given reason, before drop', () => {
    const out = run(src, cloudEvent({ dead: true, drop: true, why: 42 }));
    expect(out).toMatchObject({ outcome: 'deadletter', routes: [], reason: 'bad 42', rule: 'Dead' });
  });

  it('dead-letters a failing then with rule name, position and message, keeping earlier writes', () => {
    const out = run(
      'rule Fail {\n  when true\n  then event.data.before = 1;\n    event.data.x = event.data.missing * 2; }',
      cloudEvent({}),
    );
    expect(out.outcome).toBe('deadletter');
    expect(out.reason).toBe('rule Fail failed: line 4, column 5: cannot apply * to nil and number');
    expect(data(out)).toEqual({ before: 1 });
  });

  it('never throws, even for events that are not objects', () => {
    const rules = compileRules('rule R { when event.data.x > 1 then Route("a"); }', { outputs: ['a'] });
    for (const bad of [null, 3, 'str', [1]]) {
      const out = rules.evaluate(bad as never);
      expect(out.outcome).toBe('deadletter');
    }
  });

  it('changes the event in place and sets extensions', () => {
    const event = cloudEvent({ amount: 1 });
    const out = run('rule R { when true then event.priority = 1; event.subject = "s"; }', event);
    expect(out.event).toBe(event);
    expect(event).toMatchObject({ priority: 1, subject: 's' });
  });

  it('keeps the event a valid CloudEvent: attribute and extension types are checked', () => {
    const bad = (stmt: string) => run(`rule R { when true then ${stmt} }`, cloudEvent({})).reason;
    expect(bad('event.type = 5;')).toMatch(/event.type must be a string, got number/);
    expect(bad('event.source = nil;')).toMatch(/event.source must be a string, got nil/);
    expect(bad('event.priority = 1.5;')).toMatch(
      /extension event.priority must be a string, boolean or integer, got 1.5/,
    );
    expect(bad('event["level"] = event.data;')).toMatch(/extension event.level must be/);
    expect(
      bad('event.time = MakeTime(2024, 1, 2, 3, 4, 5); event.flag = true; event.data = 1;'),
    ).toBeUndefined();
  });

  it('refuses a run-time write to a read-only attribute through a computed key', () => {
    const out = run('rule R { when true then event[event.data.k] = "x"; }', cloudEvent({ k: 'id' }));
    expect(out.outcome).toBe('deadletter');
    expect(out.reason).toMatch(/event.id is read-only/);
  });

  it('never writes through __proto__ or to prototypes', () => {
    const out = run(
      'rule R { when true then event.data["__proto__"] = "x"; event.data.o["__proto__"] = "y"; }',
      cloudEvent({ o: {} }),
    );
    expect(out.outcome).toBe('routed');
    expect(Object.getPrototypeOf(data(out))).toBe(Object.prototype);
    expect(Object.hasOwn(data(out), '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).y).toBeUndefined();
  });

  it('dead-letters a write below a missing field', () => {
    const out = run('rule R { when true then event.data.a.b = 1; }', cloudEvent({}));
    expect(out.reason).toMatch(/cannot set event.data.a.b: its parent is nil/);
  });

  it('passes Log and LogFormat messages to the log option', () => {
    const logs: string[] = [];
    compileRules('rule R { when true then Log("hi"); LogFormat("n=%d%%", 5); }', {
      outputs: ['a'],
      log: (rule, m) => logs.push(`${rule}: ${m}`),
    }).evaluate(cloudEvent({}));
    expect(logs).toEqual(['R: hi', 'R: n=5%']);
  });

  it('evaluates the next event from a clean state', () => {
    const rules = compileRules('rule R { when event.data.go then Route("a"); Retract("R"); Drop(); }', {
      outputs: ['a', 'b'],
    });
    expect(rules.evaluate(cloudEvent({ go: true })).outcome).toBe('dropped');
    expect(rules.evaluate(cloudEvent({ go: false }))).toMatchObject({
      outcome: 'routed',
      routes: ['a', 'b'],
    });
  });
});
