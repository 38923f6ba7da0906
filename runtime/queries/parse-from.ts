// Parser of what follows FROM: a source with its alias, a JOIN (lookup or interval), or a pattern
// — `PATTERN (…)` / `SEQUENCE (…)` with steps, quantifiers, AND/OR, `NOT … FOR`, `WITHIN`, an
// optional `GRACE PERIOD` and `PARTITION BY`. Durations are parsed here for the whole query.
import type {
  Amount,
  Expr,
  JoinNode,
  PatternElement,
  PatternNode,
  PatternStep,
  Pos,
  QueryNode,
} from './ast.js';
import type { Token } from './lexer.js';
import { ExprParser, ParseError, describe } from './parse-expr.js';

const UNITS: Record<string, number> = {
  millisecond: 1,
  milliseconds: 1,
  second: 1000,
  seconds: 1000,
  minute: 60_000,
  minutes: 60_000,
  hour: 3_600_000,
  hours: 3_600_000,
  day: 86_400_000,
  days: 86_400_000,
};

export type FromPart = Pick<QueryNode, 'source' | 'sourcePos' | 'alias' | 'aliasPos' | 'pattern' | 'join'>;

export class FromParser extends ExprParser {
  protected parseFrom(): FromPart {
    const tok = this.peek();
    if (tok.word === 'pattern' || tok.word === 'sequence') {
      const pattern = this.parsePattern();
      return { source: '', sourcePos: pattern, pattern };
    }
    if (!this.isName(tok)) throw this.error('a source name, PATTERN or SEQUENCE after FROM');
    this.next();
    const from: FromPart = { source: tok.text, sourcePos: this.span(tok) };
    const alias = this.parseAlias();
    if (alias) {
      from.alias = alias.name;
      from.aliasPos = alias.pos;
    }
    const next = this.peek();
    if (next.word === 'join' || next.word === 'left') from.join = this.parseJoin();
    const after = this.peek();
    if (after.word === 'join' || after.word === 'left')
      throw new ParseError(
        'a query joins one source or table: split further joins into another query',
        after.line,
        after.column,
      );
    if (after.kind === 'punct' && after.text === ',')
      throw new ParseError('a join of several sources is written with JOIN … ON', after.line, after.column);
    return from;
  }

  /** `[AS] name`, the AS optional; undefined when no name follows. */
  private parseAlias(): { name: string; pos: Pos } | undefined {
    if (this.isWord('as')) {
      this.next();
      const alias = this.peek();
      if (!this.isName(alias)) throw this.error('an alias after AS');
      this.next();
      return { name: alias.text, pos: this.span(alias) };
    }
    // A bare alias (`FROM orders o`) only where a clause, JOIN, ON or the end follows, so that a
    // misspelt keyword (`LIMIT 5`) is reported as such.
    const alias = this.peek();
    const after = this.peek(1);
    const ends =
      after.kind === 'eof' ||
      (after.kind === 'punct' && after.text === ';') ||
      ['where', 'window', 'group', 'having', 'emit', 'join', 'left', 'on', 'within'].includes(after.word);
    if (!this.isName(alias) || !ends) return undefined;
    this.next();
    return { name: alias.text, pos: this.span(alias) };
  }

  private parseJoin(): JoinNode {
    const first = this.peek();
    const left = first.word === 'left';
    if (left) {
      this.next();
      if (this.isWord('outer')) this.next();
    }
    this.expectWord('join', 'JOIN after LEFT');
    const target = this.peek();
    if (!this.isName(target)) throw this.error('a source or table name after JOIN');
    this.next();
    const alias = this.parseAlias();
    if (!alias) throw this.error(`an alias for ${target.text}, e.g. JOIN ${target.text} AS x`);
    const join: Omit<JoinNode, 'on' | keyof Pos> = {
      left,
      target: target.text,
      targetPos: this.span(target),
      alias: alias.name,
      aliasPos: alias.pos,
    };
    if (this.isWord('within')) {
      this.next();
      join.within = this.parseDuration();
      if (this.isWord('grace')) join.grace = this.parseGrace();
    }
    this.expectWord(
      'on',
      join.within ? 'ON after the WITHIN duration' : 'WITHIN or ON after the joined alias',
    );
    const on = this.parseExpr();
    return { ...join, on, ...this.span(first) };
  }

  private parseGrace(): Amount {
    this.next();
    this.expectWord('period', 'PERIOD after GRACE');
    return this.parseDuration();
  }

  private parsePattern(): PatternNode {
    const kw = this.next();
    this.expectPunct('(', `'(' after ${kw.word.toUpperCase()}`);
    const elements = this.parseElements();
    this.expectPunct(')', `'->' or ')' to close the ${kw.word.toUpperCase()}`);
    const node: PatternNode = { strict: kw.word === 'sequence', elements, partitionBy: [], ...this.span(kw) };
    if (!this.isWord('within')) {
      throw this.error(
        `WITHIN after the ${kw.word.toUpperCase()}: a pattern needs a time bound, e.g. WITHIN 10 MINUTES`,
      );
    }
    this.next();
    node.within = this.parseDuration();
    if (this.isWord('grace')) node.grace = this.parseGrace();
    if (this.isWord('partition')) {
      const p = this.next();
      this.expectWord('by', 'BY after PARTITION');
      node.partitionPos = this.span(p);
      node.partitionBy.push(this.parseExpr());
      while (this.isPunct(',')) {
        this.next();
        node.partitionBy.push(this.parseExpr());
      }
    }
    return { ...node, ...this.span(kw) };
  }

  private parseElements(): PatternElement[] {
    const elements = [this.parseChoice()];
    while (this.isPunct('->')) {
      this.next();
      elements.push(this.parseChoice());
    }
    return elements;
  }

  private parseChoice(): PatternElement {
    const first = this.parseUnit();
    const op = this.peek().word;
    if (op !== 'and' && op !== 'or') return first;
    const steps = [first];
    while (this.isWord('and') || this.isWord('or')) {
      const tok = this.peek();
      if (tok.word !== op)
        throw new ParseError(
          'AND and OR cannot be mixed in one step: group them with parentheses',
          tok.line,
          tok.column,
        );
      this.next();
      steps.push(this.parseUnit());
    }
    return { type: op, steps, ...this.span(first) };
  }

  private parseUnit(): PatternElement {
    const first = this.peek();
    let everyPos: Pos | undefined;
    if (first.word === 'every' && !(this.peek(1).kind === 'punct' && this.peek(1).text === '=')) {
      this.next();
      everyPos = this.span(first);
    }
    const tok = this.peek();
    if (this.isPunct('(')) {
      this.next();
      const elements = this.parseElements();
      this.expectPunct(')', "'->' or ')' to close the group");
      return {
        type: 'group',
        every: everyPos !== undefined,
        ...(everyPos ? { everyPos } : {}),
        elements,
        ...this.span(first),
      };
    }
    if (tok.word === 'not') {
      if (everyPos) throw new ParseError('EVERY cannot start with NOT … FOR', first.line, first.column);
      this.next();
      const source = this.peek();
      if (!this.isName(source)) throw this.error('a source name after NOT');
      this.next();
      const cond = this.parseCondition();
      this.expectWord('for', 'FOR and a duration after NOT source[…], e.g. NOT logins FOR 5 MINUTES');
      const forMs = this.parseDuration();
      return {
        type: 'absent',
        source: source.text,
        sourcePos: this.span(source),
        ...(cond ? { cond } : {}),
        forMs,
        ...this.span(first),
      };
    }
    return this.parseStep(first, everyPos);
  }

  private parseStep(first: Token, everyPos: Pos | undefined): PatternStep {
    const name = this.peek();
    if (!this.isName(name)) throw this.error('a step such as f=payments[data.ok = false], NOT, EVERY or (');
    this.next();
    this.expectPunct('=', `'=' and a source after ${name.text}, e.g. ${name.text}=orders`);
    const source = this.peek();
    if (!this.isName(source)) throw this.error(`a source name after ${name.text}=`);
    this.next();
    const cond = this.parseCondition();
    const step: PatternStep = {
      type: 'step',
      every: everyPos !== undefined,
      ...(everyPos ? { everyPos } : {}),
      name: name.text,
      namePos: this.span(name),
      source: source.text,
      sourcePos: this.span(source),
      ...(cond ? { cond } : {}),
      min: 1,
      max: 1,
      ...this.span(first),
    };
    if (this.isPunct('{')) {
      const open = this.next();
      step.min = this.parseQuantity();
      step.max = step.min;
      if (this.isPunct(',')) {
        this.next();
        step.max = this.isPunct('}') ? Infinity : this.parseQuantity();
      }
      this.expectPunct('}', "',' or '}' to close the quantifier");
      step.quantPos = this.span(open);
    }
    return { ...step, ...this.span(first) };
  }

  private parseQuantity(): number {
    const tok = this.peek();
    if (tok.kind !== 'number' || !Number.isSafeInteger(tok.value) || /[.eE]/.test(tok.text))
      throw this.error('a whole number of events in the quantifier, e.g. {3} or {2,5}');
    this.next();
    return tok.value!;
  }

  private parseCondition(): Expr | undefined {
    if (!this.isPunct('[')) return undefined;
    this.next();
    const cond = this.parseExpr();
    this.expectPunct(']', "']' to close the step's condition");
    return cond;
  }

  protected parseDuration(): Amount {
    const tok = this.peek();
    if (tok.kind !== 'number') throw this.error('a duration such as 10 SECONDS');
    this.next();
    const unitTok = this.peek();
    const unit = UNITS[unitTok.word];
    if (unit === undefined)
      throw this.error(`a time unit after ${tok.text} (MILLISECONDS, SECONDS, MINUTES, HOURS or DAYS)`);
    this.next();
    const ms = tok.value! * unit;
    if (!Number.isSafeInteger(ms)) {
      throw new ParseError(
        `${tok.text} ${unitTok.text} is not a whole number of milliseconds`,
        tok.line,
        tok.column,
      );
    }
    return { value: ms, ...this.span(tok) };
  }
}

export { describe };
