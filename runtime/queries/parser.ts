// Parser of a query: SELECT items FROM from [WHERE] [WINDOW] [GROUP BY] [HAVING] [EMIT], where
// `from` is a source, a join or a pattern (parse-from.ts). Parsing stops at the first syntax error.
import type { Amount, QueryNode, SelectItem, WindowKind, WindowNode } from './ast.js';
import type { QueryDiagnostic } from './errors.js';
import { LexError, tokenize, type Token } from './lexer.js';
import { ParseError, describe } from './parse-expr.js';
import { FromParser } from './parse-from.js';

const WINDOW_KINDS = new Set<string>(['tumbling', 'hopping', 'session', 'sliding', 'count']);

/** Clause keywords in the order they must appear. */
const CLAUSES = ['where', 'window', 'group', 'having', 'emit'] as const;

/** Which parameters each window takes, in the order they are written. */
const WINDOW_PARAMS: Record<WindowKind, { required: string[]; optional: string[] }> = {
  tumbling: { required: ['size'], optional: ['grace'] },
  hopping: { required: ['size', 'advance'], optional: ['grace'] },
  session: { required: ['gap'], optional: ['grace'] },
  sliding: { required: ['size'], optional: ['grace'] },
  count: { required: ['size'], optional: ['advance', 'grace'] },
};

const PARAM_TEXT: Record<string, string> = {
  size: 'SIZE',
  advance: 'ADVANCE BY',
  gap: 'GAP',
  grace: 'GRACE PERIOD',
};

export type ParseResult =
  { query: QueryNode; diagnostics: [] } | { query?: undefined; diagnostics: QueryDiagnostic[] };

export function parseQuery(sql: string): ParseResult {
  try {
    return { query: new QueryParser(tokenize(sql)).parseQuery(), diagnostics: [] };
  } catch (err) {
    if (err instanceof LexError || err instanceof ParseError) {
      return { diagnostics: [{ line: err.line, column: err.column, message: err.message }] };
    }
    throw err;
  }
}

class QueryParser extends FromParser {
  private readonly seen: string[] = [];

  parseQuery(): QueryNode {
    const selectTok = this.expectWord('select', 'SELECT');
    if (this.isPunct('*')) {
      throw new ParseError(
        'SELECT * is not supported: list the fields to select',
        this.peek().line,
        this.peek().column,
      );
    }
    const select = [this.parseItem()];
    while (this.isPunct(',')) {
      this.next();
      select.push(this.parseItem());
    }
    this.expectWord('from', "',' or FROM");
    const query: QueryNode = { select, selectPos: this.span(selectTok), ...this.parseFrom(), groupBy: [] };
    for (;;) {
      const tok = this.peek();
      const clause = CLAUSES.find((c) => c === tok.word);
      if (!clause) break;
      this.checkOrder(tok, clause);
      this.seen.push(clause);
      this.parseClause(query, clause);
    }
    if (this.isPunct(';')) this.next();
    const tok = this.peek();
    if (tok.kind !== 'eof') throw this.error(this.expectedNext());
    return query;
  }

  private expectedNext(): string {
    const last = this.seen[this.seen.length - 1];
    const rest = CLAUSES.slice(last ? CLAUSES.indexOf(last as (typeof CLAUSES)[number]) + 1 : 0);
    const names = rest.map((c) => (c === 'group' ? 'GROUP BY' : c.toUpperCase()));
    return names.length ? `${names.join(', ')} or the end of the query` : 'the end of the query';
  }

  private checkOrder(tok: Token, clause: string): void {
    const name = (c: string): string => (c === 'group' ? 'GROUP BY' : c.toUpperCase());
    if (this.seen.includes(clause)) {
      throw new ParseError(
        `${name(clause)} is given twice: a query has one ${name(clause)} clause`,
        tok.line,
        tok.column,
      );
    }
    const later = this.seen.find((c) => CLAUSES.indexOf(c as never) > CLAUSES.indexOf(clause as never));
    if (later) {
      throw new ParseError(`${name(clause)} must come before ${name(later)}`, tok.line, tok.column);
    }
  }

  private parseClause(query: QueryNode, clause: (typeof CLAUSES)[number]): void {
    const tok = this.next();
    switch (clause) {
      case 'where':
        query.where = this.parseExpr();
        return;
      case 'window':
        query.window = this.parseWindow(tok);
        return;
      case 'group':
        this.expectWord('by', 'BY after GROUP');
        query.groupByPos = this.span(tok);
        query.groupBy.push(this.parseExpr());
        while (this.isPunct(',')) {
          this.next();
          query.groupBy.push(this.parseExpr());
        }
        return;
      case 'having':
        query.havingPos = this.span(tok);
        query.having = this.parseExpr();
        return;
      case 'emit': {
        const mode = this.peek();
        if (mode.word !== 'final' && mode.word !== 'changes') throw this.error('FINAL or CHANGES after EMIT');
        this.next();
        const modePos = this.span(mode);
        query.emit = { mode: mode.word, pos: this.span(tok), modePos };
        return;
      }
    }
  }

  private parseItem(): SelectItem {
    const expr = this.parseExpr();
    if (!this.isWord('as')) return { expr };
    this.next();
    const name = this.peek();
    if (!this.isName(name)) throw this.error('a column name after AS (quote reserved words: "end")');
    this.next();
    return { expr, alias: name.text, aliasPos: this.span(name) };
  }

  private parseWindow(windowTok: Token): WindowNode {
    const kindTok = this.peek();
    if (!WINDOW_KINDS.has(kindTok.word))
      throw this.error('TUMBLING, HOPPING, SESSION, SLIDING or COUNT after WINDOW');
    this.next();
    const kind = kindTok.word as WindowKind;
    this.expectPunct('(', `'(' after ${kind.toUpperCase()}`);
    const node: WindowNode = { kind, ...this.span(windowTok) };
    const allowed = WINDOW_PARAMS[kind];
    const order = [...allowed.required, ...allowed.optional];
    let lastIndex = -1;
    do {
      if (lastIndex >= 0) this.next(); // ,
      const tok = this.peek();
      const param = this.parseParamName();
      const index = order.indexOf(param);
      if (index < 0) {
        throw new ParseError(
          `${kind.toUpperCase()} windows take no ${PARAM_TEXT[param]}`,
          tok.line,
          tok.column,
        );
      }
      if (index <= lastIndex) {
        throw new ParseError(
          index === lastIndex
            ? `${PARAM_TEXT[param]} is given twice`
            : `${PARAM_TEXT[param]} must come before ${PARAM_TEXT[order[lastIndex]!]}`,
          tok.line,
          tok.column,
        );
      }
      const missing = order.slice(lastIndex + 1, index).find((p) => allowed.required.includes(p));
      if (missing) {
        throw new ParseError(
          `${kind.toUpperCase()} needs ${PARAM_TEXT[missing]} before ${PARAM_TEXT[param]}`,
          tok.line,
          tok.column,
        );
      }
      lastIndex = index;
      const countParam = kind === 'count' && param !== 'grace';
      node[param as 'size' | 'advance' | 'gap' | 'grace'] = countParam
        ? this.parseCount()
        : this.parseDuration();
    } while (this.isPunct(','));
    const close = this.peek();
    const missing = order.slice(lastIndex + 1).find((p) => allowed.required.includes(p));
    if (missing) {
      throw new ParseError(
        `${kind.toUpperCase()} needs ${PARAM_TEXT[missing]}, found ${describe(close)}`,
        close.line,
        close.column,
      );
    }
    this.expectPunct(')', `',' or ')' to close the ${kind.toUpperCase()} window`);
    return { ...node, ...this.span(windowTok) };
  }

  private parseParamName(): string {
    const tok = this.peek();
    switch (tok.word) {
      case 'size':
      case 'gap':
        this.next();
        return tok.word;
      case 'advance':
        this.next();
        this.expectWord('by', 'BY after ADVANCE');
        return 'advance';
      case 'grace':
        this.next();
        this.expectWord('period', 'PERIOD after GRACE');
        return 'grace';
      default:
        throw this.error('SIZE, ADVANCE BY, GAP or GRACE PERIOD');
    }
  }

  private parseCount(): Amount {
    const tok = this.peek();
    if (tok.kind !== 'number') throw this.error('a number of events');
    this.next();
    if (!Number.isSafeInteger(tok.value)) {
      throw new ParseError(`a count of events must be a whole number, got ${tok.text}`, tok.line, tok.column);
    }
    return { value: tok.value!, ...this.span(tok) };
  }
}
