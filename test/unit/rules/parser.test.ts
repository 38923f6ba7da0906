import { describe, expect, it } from 'vitest';
import { checkRules } from '../../../runtime/rules/index.js';
import { parseRules } from '../../../runtime/rules/parser.js';
import { tokenize } from '../../../runtime/rules/lexer.js';
import { value } from './helpers.js';

const firstError = (src: string): string => {
  const d = checkRules(src, ['a']);
  expect(d.length).toBeGreaterThan(0);
  return `${d[0]!.line}:${d[0]!.column}: ${d[0]!.message}`;
};

describe('GRL lexer', () => {
  it('reads keywords case-insensitively and keeps identifiers as written', () => {
    const toks = tokenize('RULE When THEN Salience TRUE False NIL event Data_1');
    expect(toks.map((t) => `${t.kind}:${t.text}`)).toEqual([
      'keyword:rule',
      'keyword:when',
      'keyword:then',
      'keyword:salience',
      'keyword:true',
      'keyword:false',
      'keyword:nil',
      'ident:event',
      'ident:Data_1',
      'eof:<end of input>',
    ]);
  });

  it('decodes Go string escapes in double and single quotes', () => {
    const t = tokenize(String.raw`"a\tb\n\\ \"q\" \x41 \u00e9 \U0001F600 \101" 'it\'s' "\xc3\xa9"`);
    expect(t[0]!.value).toBe('a\tb\n\\ "q" A é 😀 A');
    expect(t[1]!.value).toBe("it's");
    expect(t[2]!.value).toBe('é');
  });

  it('allows strings across lines and rejects unknown escapes and unterminated strings', () => {
    expect(tokenize('"a\nb"')[0]!.value).toBe('a\nb');
    expect(() => tokenize(String.raw`"\q"`)).toThrow(/unknown escape/);
    expect(() => tokenize(String.raw`'\"'`)).toThrow(/unknown escape/);
    expect(() => tokenize('"abc')).toThrow(/unterminated/);
  });

  it('reads Grule number forms', () => {
    const nums = (s: string) =>
      tokenize(s)
        .slice(0, -1)
        .map((t) => [t.kind, t.value]);
    expect(nums('0x1F 017 0 42 1e3 .5 314E-2 1.25 0x1p-2')).toEqual([
      ['int', 31],
      ['int', 15],
      ['int', 0],
      ['int', 42],
      ['float', 1000],
      ['float', 0.5],
      ['float', 3.14],
      ['float', 1.25],
      ['float', 0.25],
    ]);
    // Longest match, as ANTLR does: `08` is "0" then "8"; `1.` is "1" then ".".
    expect(nums('08')).toEqual([
      ['int', 0],
      ['int', 8],
    ]);
  });

  it('skips line and block comments', () => {
    expect(tokenize('a // x\n/* y \n z */ b').map((t) => t.text)).toEqual(['a', 'b', '<end of input>']);
  });
});

describe('GRL parser', () => {
  it('parses a rule with description and salience', () => {
    const { ruleSet, diagnostics } = parseRules(`
      rule One "first rule" salience -5 { when true then Route("a"); }
      rule Two 'second' salience 0x10 { when false then Drop(); Complete(); }
      rule Three { when true then Retract("Three"); }`);
    expect(diagnostics).toEqual([]);
    expect(ruleSet.rules.map((r) => [r.name, r.description, r.salience, r.then.length])).toEqual([
      ['One', 'first rule', -5, 1],
      ['Two', 'second', 16, 2],
      ['Three', '', 0, 1],
    ]);
  });

  it('gives Grule precedence: * / % over + - & | over comparisons over && over ||', () => {
    expect(value('2 + 4 & 1')).toBe(0);
    expect(value('1 | 2 * 3')).toBe(7);
    expect(value('2 + 3 * 4 - 1')).toBe(13);
    expect(value('10 - 4 - 3')).toBe(3);
    expect(value('(2 + 3) * 4')).toBe(20);
    expect(value('1 < 2 == true')).toBe(true);
    expect(value('true || false && false')).toBe(true);
    expect(value('!false && false')).toBe(false);
    expect(value('3 - -2')).toBe(5);
    expect(value('3-2')).toBe(1);
  });

  it('parses member access, indexing and chained method calls, also on literals', () => {
    expect(value('event.data.list[1]', { list: [1, 2, 3] })).toBe(2);
    expect(value('event.data["k"]', { k: 'v' })).toBe('v');
    expect(value('"  Hi ".Trim().ToUpper()')).toBe('HI');
    expect(value('event.data.s.ToLower().HasPrefix("ab")', { s: 'ABC' })).toBe(true);
  });

  it('rejects unary minus on expressions, `_` identifiers and bad number forms', () => {
    expect(firstError('rule R { when -event.x > 1 then Drop(); }')).toMatch(/1:15: GRL has no unary minus/);
    expect(firstError('rule R { when event._a then Drop(); }')).toMatch(
      /identifiers must start with a letter/,
    );
    expect(firstError('rule R { when 08 == 8 then Drop(); }')).toMatch(
      /expected 'then' or an operator, found number 8/,
    );
    expect(firstError('rule R { when 0b101 == 5 then Drop(); }')).toMatch(/expected 'then'/);
  });

  it('requires each then statement to end in ";" and to be an assignment or a call', () => {
    expect(firstError('rule R { when true then Drop() }')).toMatch(
      /expected ';' after the statement, found '}'/,
    );
    expect(firstError('rule R { when true then event.x + 1; }')).toMatch(/expected ';'/);
    expect(firstError('rule R { when true then Now() = 1; }')).toMatch(/only a variable path/);
    expect(firstError('rule R { when true then event.x %= 1; }')).toMatch(/1:33/);
  });

  it('reports line and column of what was expected, across lines', () => {
    const src = 'rule A { when true then Drop(); }\n\nrule B {\n  when event.x ==\n  then Drop(); }';
    expect(firstError(src)).toBe(
      "5:3: expected an expression (a literal, a variable, a function call or a parenthesis), found keyword 'then'",
    );
  });

  it('keeps going after a broken rule and reports the next one too', () => {
    const d = checkRules('rule A { when then Drop(); }\nrule B { when true then Nope(); }', ['a']);
    expect(d.map((x) => [x.line, x.rule])).toEqual([
      [1, 'A'],
      [2, 'B'],
    ]);
  });

  it('rejects int64 overflow but accepts the int64 minimum', () => {
    expect(firstError('rule R { when 9223372036854775808 > 1 then Drop(); }')).toMatch(/overflows int64/);
    expect(checkRules('rule R { when -9223372036854775808 < 1 then Drop(); }', [])).toEqual([]);
  });

  it('reports an unterminated block comment with its position', () => {
    expect(firstError('rule R { when true then Drop(); }\n  /* open')).toBe('2:3: unterminated /* comment');
  });
});
