// Tokenizer of the query dialect. Keywords are not decided here: every bare word is an `ident`
// and the parser compares its lower-case form, so `data.end` or `data.window` stay ordinary field
// names. `"quoted"` words are identifiers that are never keywords. Comments run from `--` to the
// end of the line or between `/*` and `*/`.

export type TokenKind = 'ident' | 'string' | 'number' | 'punct' | 'eof';

export interface Token {
  kind: TokenKind;
  /** Source text; for quoted identifiers and strings the decoded value, for punctuation the operator. */
  text: string;
  /** Lower-case text of a bare word, used for keyword matching; '' for anything else. */
  word: string;
  /** Decoded value of number literals. */
  value?: number;
  /** Where the token starts in the source (0-based offset), and where it ends. */
  start: number;
  end: number;
  line: number;
  column: number;
}

export class LexError {
  constructor(
    readonly message: string,
    readonly line: number,
    readonly column: number,
  ) {}
}

// Longest first, so `<=` wins over `<` and `||` is one token.
const PUNCTUATION = [
  '->',
  '<>',
  '!=',
  '<=',
  '>=',
  '||',
  '(',
  ')',
  ',',
  '.',
  '[',
  ']',
  '{',
  '}',
  '*',
  '+',
  '-',
  '/',
  '%',
  '=',
  '<',
  '>',
  ';',
];

const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
const isWordStart = (c: number): boolean =>
  (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f || c > 0x7f;
const isWordPart = (c: number): boolean => isWordStart(c) || isDigit(c);

export function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let pos = 0;
  let line = 1;
  let lineStart = 0;

  const moveTo = (end: number): void => {
    for (let i = pos; i < end; i++) {
      if (source.charCodeAt(i) === 10) {
        line++;
        lineStart = i + 1;
      }
    }
    pos = end;
  };

  while (pos < source.length) {
    const c = source.charCodeAt(pos);
    const column = pos - lineStart + 1;
    if (c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a) {
      moveTo(pos + 1);
      continue;
    }
    if (source.startsWith('--', pos)) {
      let end = pos + 2;
      while (end < source.length && source[end] !== '\n') end++;
      moveTo(end);
      continue;
    }
    if (source.startsWith('/*', pos)) {
      const close = source.indexOf('*/', pos + 2);
      if (close < 0) throw new LexError('unterminated /* comment: close it with */', line, column);
      moveTo(close + 2);
      continue;
    }
    const base = { start: pos, line, column };
    if (c === 0x27 || c === 0x22) {
      const quote = source[pos]!;
      const { value, end } = readQuoted(source, pos, quote, line, column);
      if (quote === "'") tokens.push({ kind: 'string', text: value, word: '', end, ...base });
      else tokens.push({ kind: 'ident', text: value, word: '', end, ...base });
      moveTo(end);
      continue;
    }
    if (isDigit(c) || (c === 0x2e && isDigit(source.charCodeAt(pos + 1)))) {
      const end = numberEnd(source, pos);
      const text = source.slice(pos, end);
      if (end < source.length && isWordPart(source.charCodeAt(end))) {
        throw new LexError(
          `invalid number ${text}${source[end]}: put a space after the number`,
          line,
          column,
        );
      }
      tokens.push({ kind: 'number', text, word: '', value: Number(text), end, ...base });
      moveTo(end);
      continue;
    }
    if (isWordStart(c)) {
      let end = pos + 1;
      while (end < source.length && isWordPart(source.charCodeAt(end))) end++;
      const text = source.slice(pos, end);
      tokens.push({ kind: 'ident', text, word: text.toLowerCase(), end, ...base });
      moveTo(end);
      continue;
    }
    const punct = PUNCTUATION.find((p) => source.startsWith(p, pos));
    if (punct) {
      tokens.push({ kind: 'punct', text: punct, word: '', end: pos + punct.length, ...base });
      moveTo(pos + punct.length);
      continue;
    }
    const hint = source[pos] === '`' ? ' (quote names with double quotes: "a-b")' : '';
    throw new LexError(`unexpected character ${JSON.stringify(source[pos])}${hint}`, line, column);
  }
  tokens.push({
    kind: 'eof',
    text: '<end of query>',
    word: '',
    start: pos,
    end: pos,
    line,
    column: pos - lineStart + 1,
  });
  return tokens;
}

/** A '…' string or "…" identifier; the quote is escaped by doubling it, as in SQL. */
function readQuoted(
  source: string,
  start: number,
  quote: string,
  line: number,
  column: number,
): { value: string; end: number } {
  let value = '';
  let i = start + 1;
  for (;;) {
    const close = source.indexOf(quote, i);
    if (close < 0) {
      const what = quote === "'" ? 'string literal' : 'quoted identifier';
      throw new LexError(`unterminated ${what}: close it with ${quote}`, line, column);
    }
    value += source.slice(i, close);
    if (source[close + 1] === quote) {
      value += quote;
      i = close + 2;
      continue;
    }
    return { value, end: close + 1 };
  }
}

function numberEnd(source: string, start: number): number {
  let i = start;
  while (isDigit(source.charCodeAt(i))) i++;
  if (source[i] === '.' && isDigit(source.charCodeAt(i + 1))) {
    i++;
    while (isDigit(source.charCodeAt(i))) i++;
  }
  const e = source[i];
  if (e === 'e' || e === 'E') {
    let j = i + 1;
    if (source[j] === '+' || source[j] === '-') j++;
    if (isDigit(source.charCodeAt(j))) {
      while (isDigit(source.charCodeAt(j))) j++;
      i = j;
    }
  }
  return i;
}
