// Property-based fuzzing: whatever the input, checking never hangs or throws, compiling throws only
// RuleCompileError, and evaluating compiled rules never throws.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  checkRules,
  compileRules,
  isRuleCompileError,
  type CloudEventLike,
} from '../../../runtime/rules/index.js';

const OUTPUTS = ['a', 'b'];

const TOKENS = [
  'rule',
  'when',
  'then',
  'salience',
  'true',
  'false',
  'nil',
  'event',
  'event.data',
  'event.type',
  'x',
  'R',
  'Route("a")',
  'Drop()',
  'Retract("R")',
  'Complete()',
  'IsNil',
  'Len()',
  'Now()',
  '"str"',
  "'s'",
  '"\\n"',
  '1',
  '-2',
  '0x1F',
  '017',
  '1.5e3',
  '.5',
  '08',
  '+',
  '-',
  '*',
  '/',
  '%',
  '&',
  '|',
  '&&',
  '||',
  '!',
  '==',
  '!=',
  '<',
  '<=',
  '>',
  '>=',
  '=',
  '+=',
  '-=',
  '*=',
  '/=',
  '.',
  ',',
  ';',
  '{',
  '}',
  '(',
  ')',
  '[',
  ']',
  '//c\n',
  '/*c*/',
  '"',
  '/*',
];

const tokenSoup = fc.array(fc.constantFrom(...TOKENS), { maxLength: 60 }).map((t) => t.join(' '));

function expectOnlyCompileErrors(source: string): void {
  try {
    compileRules(source, { outputs: OUTPUTS });
  } catch (err) {
    if (!isRuleCompileError(err)) throw err;
    expect(err.diagnostics.length).toBeGreaterThan(0);
    for (const d of err.diagnostics) {
      expect(d.line).toBeGreaterThanOrEqual(1);
      expect(d.column).toBeGreaterThanOrEqual(1);
    }
  }
}

// A generator of well-formed expressions over the event, to fuzz the compiled code itself.
const { expr } = fc.letrec<{ expr: string; atom: string }>((tie) => ({
  atom: fc.oneof(
    fc.constantFrom(
      'event.data.n',
      'event.data.s',
      'event.data.list',
      'event.data.m',
      'event.data.missing.x',
      'event.data.list[0]',
      'event.data.m["k"]',
      'event.type',
      'nil',
      'true',
      '1',
      '-3',
      '2.5',
      '"ab"',
      '""',
    ),
    fc
      .tuple(
        tie('atom'),
        fc.constantFrom(
          '.Len()',
          '.ToUpper()',
          '.Contains("a")',
          '.Split("a")',
          '.In("ab")',
          '.MatchString("a+")',
          '.Trim()',
          '.Repeat(2)',
          '[1]',
          '["k"]',
          '.k',
        ),
      )
      .map(([a, m]) => `${a}${m}`),
    fc
      .tuple(fc.constantFrom('IsNil', 'IsZero', 'Abs', 'Round', 'Max', 'GetTimeYear'), tie('expr'))
      .map(([f, a]) => `${f}(${a})`),
    tie('expr').map((e) => `(${e})`),
    tie('atom').map((a) => `!${a}`),
  ),
  expr: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    tie('atom'),
    fc
      .tuple(
        tie('expr'),
        fc.constantFrom('+', '-', '*', '/', '%', '&', '|', '==', '!=', '<', '<=', '>', '>=', '&&', '||'),
        tie('expr'),
      )
      .map(([l, op, r]) => `${l} ${op} ${r}`),
  ),
}));

const jsonValue = fc.jsonValue({ maxDepth: 3 });
const eventArb = fc
  .record({
    n: fc.oneof(fc.integer(), fc.double(), jsonValue),
    s: fc.oneof(fc.string(), jsonValue),
    list: fc.oneof(fc.array(jsonValue, { maxLength: 4 }), jsonValue),
    m: fc.oneof(fc.dictionary(fc.string(), jsonValue, { maxKeys: 4 }), jsonValue),
  })
  .map((data): CloudEventLike => ({ specversion: '1.0', id: '1', type: 't', source: 's', data }));

describe('fuzz', { timeout: 60_000 }, () => {
  it('checkRules terminates and never throws on arbitrary text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (src) => {
        expect(Array.isArray(checkRules(src, OUTPUTS))).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('compileRules throws only RuleCompileError on token soup', () => {
    fc.assert(
      fc.property(tokenSoup, (src) => {
        expectOnlyCompileErrors(src);
        expectOnlyCompileErrors(`rule R { when ${src} then Drop(); }`);
        expectOnlyCompileErrors(`rule R { when true then ${src}; }`);
      }),
      { numRuns: 1000 },
    );
  });

  it('compiled well-formed expressions evaluate without throwing on arbitrary events', () => {
    fc.assert(
      fc.property(
        expr,
        expr,
        eventArb,
        fc.constantFrom<'once' | 'refire'>('once', 'refire'),
        (cond, val, event, mode) => {
          const source = `
          rule W salience 1 { when ${cond} then event.data.out = ${val}; Route("a"); }
          rule X { when ${val} == ${cond} then event.data.list.Append(1); event.data.m.k = ${val}; Drop(); }`;
          expect(checkRules(source, OUTPUTS)).toEqual([]);
          const rules = compileRules(source, { outputs: OUTPUTS, mode, maxCycles: 50 });
          const out = rules.evaluate(event);
          expect(['routed', 'dropped', 'deadletter']).toContain(out.outcome);
          expect(JSON.parse(JSON.stringify(out.event))).toBeTypeOf('object');
        },
      ),
      { numRuns: 1500 },
    );
  });
});
