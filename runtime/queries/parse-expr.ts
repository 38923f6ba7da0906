// Recursive-descent parser of scalar expressions, loosest first: OR; AND; NOT; comparisons, IS
// [NOT] NULL, [NOT] IN, [NOT] LIKE (not chainable); `||`; `+ -`; `* / %`; unary minus; then
// literals, field paths, calls, CASE and parentheses. The query clauses build on it (parser.ts).
import type { BinaryOp, Expr, Pos, Segment } from './ast.js';
import type { Token } from './lexer.js';

export class ParseError {
  constructor(
    readonly message: string,
    readonly line: number,
    readonly column: number,
  ) {}
}

/** Words that end or structure a clause, so they cannot start a field path. */
export const RESERVED = new Set([
  'select',
  'from',
  'where',
  'window',
  'group',
  'by',
  'having',
  'emit',
  'as',
  'and',
  'or',
  'not',
  'is',
  'null',
  'in',
  'like',
  'between',
  'case',
  'when',
  'then',
  'else',
  'end',
  'true',
  'false',
  'distinct',
  'join',
  'left',
  'on',
  'pattern',
  'sequence',
  'within',
  'partition',
]);

const COMPARISONS = new Set(['=', '<>', '!=', '<', '<=', '>', '>=']);

export function describe(tok: Token): string {
  switch (tok.kind) {
    case 'eof':
      return 'end of query';
    case 'string':
      return `string '${tok.text}'`;
    case 'number':
      return `number ${tok.text}`;
    case 'ident':
      return tok.word ? `'${tok.text}'` : `"${tok.text}"`;
    default:
      return `'${tok.text}'`;
  }
}

export class ExprParser {
  protected pos = 0;

  constructor(protected readonly tokens: Token[]) {}

  protected peek(offset = 0): Token {
    return this.tokens[Math.min(this.pos + offset, this.tokens.length - 1)]!;
  }

  protected next(): Token {
    const tok = this.peek();
    if (tok.kind !== 'eof') this.pos++;
    return tok;
  }

  /** Position from token `first` to the last token consumed. */
  protected span(first: Token | Pos): Pos {
    const last = this.tokens[this.pos - 1] ?? first;
    return { line: first.line, column: first.column, start: first.start, end: Math.max(first.end, last.end) };
  }

  protected isWord(word: string, offset = 0): boolean {
    return this.peek(offset).word === word;
  }

  protected isPunct(text: string): boolean {
    const tok = this.peek();
    return tok.kind === 'punct' && tok.text === text;
  }

  protected error(expected: string, tok: Token = this.peek()): ParseError {
    return new ParseError(`expected ${expected}, found ${describe(tok)}`, tok.line, tok.column);
  }

  protected expectPunct(text: string, what = `'${text}'`): Token {
    if (!this.isPunct(text)) throw this.error(what);
    return this.next();
  }

  protected expectWord(word: string, what = word.toUpperCase()): Token {
    if (!this.isWord(word)) throw this.error(what);
    return this.next();
  }

  /** A name: a bare word that is not reserved, or a "quoted" identifier. */
  protected isName(tok: Token = this.peek()): boolean {
    return tok.kind === 'ident' && !RESERVED.has(tok.word);
  }

  parseExpr(): Expr {
    let left = this.parseAnd();
    while (this.isWord('or')) {
      const op = this.next();
      const right = this.parseAnd();
      left = this.binary('or', left, right, op);
    }
    return left;
  }

  private binary(op: BinaryOp, left: Expr, right: Expr, opTok: Token): Expr {
    return { type: 'binary', op, left, right, opPos: this.span(opTok), ...this.span(left) };
  }

  private parseAnd(): Expr {
    let left = this.parseNot();
    while (this.isWord('and')) {
      const op = this.next();
      const right = this.parseNot();
      left = this.binary('and', left, right, op);
    }
    return left;
  }

  private parseNot(): Expr {
    if (this.isWord('not')) {
      const first = this.next();
      const operand = this.parseNot();
      return { type: 'not', operand, ...this.span(first) };
    }
    return this.parseComparison();
  }

  private parseComparison(): Expr {
    const left = this.parseConcat();
    const result = this.parseComparisonTail(left);
    if (result !== left) {
      const tok = this.peek();
      if ((tok.kind === 'punct' && COMPARISONS.has(tok.text)) || ['is', 'in', 'like'].includes(tok.word)) {
        throw new ParseError(
          `comparisons cannot be chained: join them with AND or OR, found ${describe(tok)}`,
          tok.line,
          tok.column,
        );
      }
    }
    return result;
  }

  private parseComparisonTail(left: Expr): Expr {
    const tok = this.peek();
    if (tok.kind === 'punct' && COMPARISONS.has(tok.text)) {
      this.next();
      const right = this.parseConcat();
      const op = (tok.text === '!=' ? '<>' : tok.text) as BinaryOp;
      return this.binary(op, left, right, tok);
    }
    if (tok.word === 'is') {
      this.next();
      const negated = this.isWord('not');
      if (negated) this.next();
      this.expectWord('null', negated ? 'NULL after IS NOT' : 'NULL or NOT NULL after IS');
      return { type: 'isnull', operand: left, negated, ...this.span(left) };
    }
    if (tok.word === 'between') {
      throw new ParseError('BETWEEN is not supported: write x >= a AND x <= b', tok.line, tok.column);
    }
    let negated = false;
    if (tok.word === 'not' && (this.isWord('in', 1) || this.isWord('like', 1))) {
      this.next();
      negated = true;
    }
    if (this.isWord('in')) {
      this.next();
      this.expectPunct('(', "'(' to open the IN list");
      this.rejectSubquery();
      const list = [this.parseExpr()];
      while (this.isPunct(',')) {
        this.next();
        list.push(this.parseExpr());
      }
      this.expectPunct(')', "',' or ')' to close the IN list");
      return { type: 'in', operand: left, list, negated, ...this.span(left) };
    }
    if (this.isWord('like')) {
      this.next();
      const pattern = this.parseConcat();
      return { type: 'like', operand: left, pattern, negated, ...this.span(left) };
    }
    return left;
  }

  private parseConcat(): Expr {
    let left = this.parseAdditive();
    while (this.isPunct('||')) {
      const op = this.next();
      left = this.binary('||', left, this.parseAdditive(), op);
    }
    return left;
  }

  private parseAdditive(): Expr {
    let left = this.parseMultiplicative();
    while (this.isPunct('+') || this.isPunct('-')) {
      const op = this.next();
      left = this.binary(op.text as BinaryOp, left, this.parseMultiplicative(), op);
    }
    return left;
  }

  private parseMultiplicative(): Expr {
    let left = this.parseUnary();
    while (this.isPunct('*') || this.isPunct('/') || this.isPunct('%')) {
      const op = this.next();
      left = this.binary(op.text as BinaryOp, left, this.parseUnary(), op);
    }
    return left;
  }

  private parseUnary(): Expr {
    if (this.isPunct('-') || this.isPunct('+')) {
      const first = this.next();
      const operand = this.parseUnary();
      if (first.text === '+') return operand;
      if (operand.type === 'literal' && typeof operand.value === 'number') {
        return { type: 'literal', value: -operand.value, ...this.span(first) };
      }
      return { type: 'neg', operand, ...this.span(first) };
    }
    return this.parsePrimary();
  }

  private parsePrimary(): Expr {
    const tok = this.peek();
    if (tok.kind === 'number') {
      this.next();
      return { type: 'literal', value: tok.value!, ...this.span(tok) };
    }
    if (tok.kind === 'string') {
      this.next();
      return { type: 'literal', value: tok.text, ...this.span(tok) };
    }
    if (tok.word === 'true' || tok.word === 'false' || tok.word === 'null') {
      this.next();
      const value = tok.word === 'null' ? null : tok.word === 'true';
      return { type: 'literal', value, ...this.span(tok) };
    }
    if (tok.word === 'case') return this.parseCase();
    if (this.isPunct('(')) {
      this.next();
      this.rejectSubquery();
      const inner = this.parseExpr();
      this.expectPunct(')', "')' to close the parenthesis");
      return { ...inner, ...this.span(tok) };
    }
    if (this.isName(tok)) {
      const after = this.peek(1);
      if (tok.word && after.kind === 'punct' && after.text === '(') return this.parseCall();
      return this.parseField();
    }
    throw this.error('an expression (a field, literal, function call or parenthesis)');
  }

  private rejectSubquery(): void {
    if (this.isWord('select'))
      throw new ParseError('subqueries are not supported', this.peek().line, this.peek().column);
  }

  private parseCall(): Expr {
    const nameTok = this.next();
    this.next(); // (
    const args: Expr[] = [];
    let star = false;
    let distinct = false;
    if (this.isPunct('*')) {
      this.next();
      star = true;
    } else if (!this.isPunct(')')) {
      if (this.isWord('distinct')) {
        this.next();
        distinct = true;
      }
      args.push(this.parseExpr());
      while (this.isPunct(',')) {
        this.next();
        args.push(this.parseExpr());
      }
    }
    this.expectPunct(')', "',' or ')' to close the argument list");
    return {
      type: 'call',
      name: nameTok.word,
      args,
      star,
      distinct,
      namePos: this.posOf(nameTok),
      ...this.span(nameTok),
    };
  }

  private posOf(tok: Token): Pos {
    return { line: tok.line, column: tok.column, start: tok.start, end: tok.end };
  }

  private parseField(): Expr {
    const rootTok = this.next();
    const path: Segment[] = [];
    const segPos: Pos[] = [];
    for (;;) {
      if (this.isPunct('.')) {
        this.next();
        const seg = this.peek();
        if (seg.kind !== 'ident') throw this.error('a field name after "."');
        this.next();
        path.push(seg.text);
        segPos.push(this.posOf(seg));
      } else if (this.isPunct('[')) {
        const open = this.next();
        const seg = this.peek();
        const isIndex = seg.kind === 'number' && Number.isSafeInteger(seg.value) && /^\d+$/.test(seg.text);
        // `f[last]`: the last event of a quantified pattern variable (the checker allows it there only).
        const isLast = seg.word === 'last';
        if (seg.kind !== 'string' && !isIndex && !isLast) {
          throw this.error("a string ('name') or a non-negative integer index inside [ ]");
        }
        this.next();
        this.expectPunct(']', "']'");
        path.push(seg.kind === 'string' ? seg.text : isLast ? -1 : seg.value!);
        segPos.push(this.span(open));
      } else break;
    }
    return {
      type: 'field',
      root: rootTok.text,
      rootPos: this.posOf(rootTok),
      path,
      segPos,
      ...this.span(rootTok),
    };
  }

  private parseCase(): Expr {
    const first = this.next();
    const subject = this.isWord('when') ? undefined : this.parseExpr();
    const whens: { when: Expr; then: Expr }[] = [];
    while (this.isWord('when')) {
      this.next();
      const when = this.parseExpr();
      this.expectWord('then', 'THEN');
      whens.push({ when, then: this.parseExpr() });
    }
    if (whens.length === 0) throw this.error('WHEN');
    let otherwise: Expr | undefined;
    if (this.isWord('else')) {
      this.next();
      otherwise = this.parseExpr();
    }
    this.expectWord('end', 'WHEN, ELSE or END to close the CASE');
    const node: Expr = { type: 'case', whens, ...this.span(first) };
    if (subject) node.subject = subject;
    if (otherwise) node.otherwise = otherwise;
    return node;
  }
}
