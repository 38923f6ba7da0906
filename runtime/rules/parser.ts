// Recursive-descent parser for GRL with Grule's precedence (tightest first): atoms and `!`;
// `* / %`; `+ - & |`; comparisons; `&&`; `||` — all left-associative. A syntax error inside a rule
// is reported and parsing resumes at the next `rule`, so one run lists every broken rule.
import type { AssignOp, BinaryOp, Expr, Literal, RuleNode, RuleSetNode, Statement } from './ast.js';
import type { RuleDiagnostic } from './errors.js';
import { LexError, tokenize, type Token } from './lexer.js';

class ParseError {
  constructor(
    readonly message: string,
    readonly line: number,
    readonly column: number,
  ) {}
}

const LEVELS: BinaryOp[][] = [
  ['||'],
  ['&&'],
  ['==', '!=', '<', '<=', '>', '>='],
  ['+', '-', '&', '|'],
  ['*', '/', '%'],
];
const ASSIGN_OPS = new Set<string>(['=', '+=', '-=', '*=', '/=']);
const INT64_MIN_ABS = 9223372036854775808;

function describe(tok: Token): string {
  switch (tok.kind) {
    case 'eof':
      return 'end of input';
    case 'string':
      return `string ${tok.text}`;
    case 'int':
    case 'float':
      return `number ${tok.text}`;
    case 'keyword':
      return `keyword '${tok.text}'`;
    case 'ident':
      return `'${tok.text}'`;
    default:
      return `'${tok.text}'`;
  }
}

export interface ParseResult {
  ruleSet: RuleSetNode;
  diagnostics: RuleDiagnostic[];
}

export function parseRules(source: string): ParseResult {
  let tokens: Token[];
  try {
    tokens = tokenize(source);
  } catch (err) {
    if (err instanceof LexError) {
      return {
        ruleSet: { rules: [] },
        diagnostics: [{ line: err.line, column: err.column, message: err.message }],
      };
    }
    throw err;
  }
  return new Parser(tokens).parseRuleSet();
}

class Parser {
  private pos = 0;
  private currentRule: string | undefined;

  constructor(private readonly tokens: Token[]) {}

  parseRuleSet(): ParseResult {
    const rules: RuleNode[] = [];
    const diagnostics: RuleDiagnostic[] = [];
    while (this.peek().kind !== 'eof') {
      const start = this.pos;
      this.currentRule = undefined;
      try {
        rules.push(this.parseRule(rules.length));
      } catch (err) {
        if (!(err instanceof ParseError)) throw err;
        const d: RuleDiagnostic = { line: err.line, column: err.column, message: err.message };
        if (this.currentRule) d.rule = this.currentRule;
        diagnostics.push(d);
        // Resume at the next `rule` keyword; always move forward so a bad token cannot loop.
        if (this.pos === start) this.pos++;
        while (this.peek().kind !== 'eof' && !this.isKeyword('rule')) this.pos++;
      }
    }
    return { ruleSet: { rules }, diagnostics };
  }

  private peek(offset = 0): Token {
    return this.tokens[Math.min(this.pos + offset, this.tokens.length - 1)]!;
  }

  private next(): Token {
    const tok = this.peek();
    if (tok.kind !== 'eof') this.pos++;
    return tok;
  }

  private isKeyword(word: string): boolean {
    const tok = this.peek();
    return tok.kind === 'keyword' && tok.text === word;
  }

  private isPunct(text: string): boolean {
    const tok = this.peek();
    return tok.kind === 'punct' && tok.text === text;
  }

  private error(expected: string, tok: Token = this.peek()): ParseError {
    return new ParseError(`expected ${expected}, found ${describe(tok)}`, tok.line, tok.column);
  }

  private expectPunct(text: string, what = `'${text}'`): Token {
    if (!this.isPunct(text)) throw this.error(what);
    return this.next();
  }

  private expectKeyword(word: string, what = `'${word}'`): Token {
    if (!this.isKeyword(word)) throw this.error(what);
    return this.next();
  }

  private parseRule(index: number): RuleNode {
    const start = this.expectKeyword('rule', "'rule'");
    const nameTok = this.peek();
    if (nameTok.kind !== 'ident') throw this.error('a rule name (a letter, then letters, digits or _)');
    this.next();
    this.currentRule = nameTok.text;
    let description = '';
    if (this.peek().kind === 'string') {
      // Grule keeps the description as written between the quotes, escapes and all.
      const raw = this.next().text;
      description = raw.slice(1, -1);
    }
    let salience = 0;
    if (this.isKeyword('salience')) {
      this.next();
      salience = this.parseSalience();
    }
    this.expectPunct('{', "'{' to open the rule body");
    this.expectKeyword('when', "'when'");
    const when = this.parseExpression();
    this.expectKeyword('then', "'then' or an operator");
    const then: Statement[] = [];
    do {
      then.push(this.parseStatement());
      this.expectPunct(';', "';' after the statement");
    } while (!this.isPunct('}') && this.peek().kind !== 'eof');
    this.expectPunct('}', "'}' to close the rule");
    return {
      name: nameTok.text,
      description,
      salience,
      when,
      then,
      index,
      line: start.line,
      column: start.column,
    };
  }

  private parseSalience(): number {
    const negative = this.isPunct('-');
    if (negative) this.next();
    const tok = this.peek();
    if (tok.kind !== 'int') throw this.error('an integer salience');
    this.next();
    return this.signedInt(tok, negative);
  }

  private signedInt(tok: Token, negative: boolean): number {
    const v = tok.value as number;
    if (!negative && v >= INT64_MIN_ABS) {
      throw new ParseError(`integer literal ${tok.text} overflows int64`, tok.line, tok.column);
    }
    return negative ? -v : v;
  }

  private parseStatement(): Statement {
    const start = this.peek();
    const expr = this.parseUnary();
    const tok = this.peek();
    if (tok.kind === 'punct' && ASSIGN_OPS.has(tok.text)) {
      if (!isAssignable(expr)) {
        throw new ParseError(
          'only a variable path such as event.data.field can be assigned to',
          start.line,
          start.column,
        );
      }
      this.next();
      const value = this.parseExpression();
      return {
        type: 'assign',
        op: tok.text as AssignOp,
        target: expr,
        value,
        line: start.line,
        column: start.column,
      };
    }
    return { type: 'expr', expr, line: start.line, column: start.column };
  }

  parseExpression(level = 0): Expr {
    if (level === LEVELS.length) return this.parseUnary();
    const ops = LEVELS[level]!;
    let left = this.parseExpression(level + 1);
    for (;;) {
      const tok = this.peek();
      if (tok.kind !== 'punct' || !ops.includes(tok.text as BinaryOp)) return left;
      this.next();
      const right = this.parseExpression(level + 1);
      left = { type: 'binary', op: tok.text as BinaryOp, left, right, line: left.line, column: left.column };
    }
  }

  private parseUnary(): Expr {
    const tok = this.peek();
    if (tok.kind === 'punct' && tok.text === '!') {
      this.next();
      const operand = this.parseUnary();
      return { type: 'not', operand, line: tok.line, column: tok.column };
    }
    return this.parsePostfix(this.parsePrimary());
  }

  private parsePrimary(): Expr {
    const tok = this.peek();
    const at = { line: tok.line, column: tok.column };
    if (tok.kind === 'punct' && tok.text === '(') {
      this.next();
      const inner = this.parseExpression();
      this.expectPunct(')', "')' or an operator");
      return inner;
    }
    if (tok.kind === 'punct' && tok.text === '-') {
      // GRL has no unary minus; `-` belongs to a number literal only.
      const num = this.peek(1);
      if (num.kind !== 'int' && num.kind !== 'float') {
        throw new ParseError(
          'GRL has no unary minus: only a number literal can be negative',
          tok.line,
          tok.column,
        );
      }
      this.next();
      this.next();
      const literal: Literal =
        num.kind === 'int'
          ? { kind: 'int', value: this.signedInt(num, true) }
          : { kind: 'float', value: -(num.value as number) };
      return { type: 'literal', literal, ...at };
    }
    if (tok.kind === 'string') {
      this.next();
      return { type: 'literal', literal: { kind: 'string', value: tok.value as string }, ...at };
    }
    if (tok.kind === 'int') {
      this.next();
      return { type: 'literal', literal: { kind: 'int', value: this.signedInt(tok, false) }, ...at };
    }
    if (tok.kind === 'float') {
      this.next();
      return { type: 'literal', literal: { kind: 'float', value: tok.value as number }, ...at };
    }
    if (tok.kind === 'keyword' && (tok.text === 'true' || tok.text === 'false')) {
      this.next();
      return { type: 'literal', literal: { kind: 'bool', value: tok.text === 'true' }, ...at };
    }
    if (tok.kind === 'keyword' && tok.text === 'nil') {
      this.next();
      return { type: 'literal', literal: { kind: 'nil' }, ...at };
    }
    if (tok.kind === 'ident') {
      this.next();
      if (this.isPunct('(')) return { type: 'call', name: tok.text, args: this.parseArgs(), ...at };
      return { type: 'var', name: tok.text, ...at };
    }
    throw this.error('an expression (a literal, a variable, a function call or a parenthesis)');
  }

  private parsePostfix(expr: Expr): Expr {
    for (;;) {
      const tok = this.peek();
      if (tok.kind !== 'punct') return expr;
      if (tok.text === '.') {
        this.next();
        const name = this.peek();
        if (name.kind !== 'ident') throw this.error('a field or method name after "."');
        this.next();
        if (this.isPunct('(')) {
          expr = {
            type: 'method',
            object: expr,
            name: name.text,
            args: this.parseArgs(),
            line: name.line,
            column: name.column,
          };
        } else {
          expr = { type: 'member', object: expr, name: name.text, line: name.line, column: name.column };
        }
      } else if (tok.text === '[') {
        this.next();
        const index = this.parseExpression();
        this.expectPunct(']', "']' or an operator");
        expr = { type: 'index', object: expr, index, line: tok.line, column: tok.column };
      } else {
        return expr;
      }
    }
  }

  private parseArgs(): Expr[] {
    this.expectPunct('(');
    const args: Expr[] = [];
    if (this.isPunct(')')) {
      this.next();
      return args;
    }
    for (;;) {
      args.push(this.parseExpression());
      if (this.isPunct(',')) {
        this.next();
        continue;
      }
      this.expectPunct(')', "',' or ')' or an operator");
      return args;
    }
  }
}

function isAssignable(expr: Expr): boolean {
  if (expr.type === 'var') return true;
  if (expr.type === 'member' || expr.type === 'index') return isAssignable(expr.object);
  return false;
}
