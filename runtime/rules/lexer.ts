// GRL tokenizer, following the lexer rules of Grule's grammar (grulev3.g4): case-insensitive
// keywords, identifiers over the same Unicode ranges, `//` and `/* */` comments, Go string escapes
// and Go/ANTLR number forms with longest-match tokenization (so `08` is two tokens and fails to parse).

export type TokenKind = 'ident' | 'keyword' | 'string' | 'int' | 'float' | 'punct' | 'eof';

export interface Token {
  kind: TokenKind;
  /** Source text; for keywords the lower-case keyword, for punctuation the operator. */
  text: string;
  /** Decoded value of string and number literals. */
  value?: string | number;
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

const KEYWORDS = new Set(['rule', 'when', 'then', 'salience', 'true', 'false', 'nil']);

// Longest first, so `==` wins over `=` and `&&` over `&`.
const PUNCTUATION = [
  '&&',
  '||',
  '==',
  '!=',
  '>=',
  '<=',
  '+=',
  '-=',
  '*=',
  '/=',
  '+',
  '-',
  '*',
  '/',
  '%',
  '.',
  ';',
  ',',
  '{',
  '}',
  '(',
  ')',
  '[',
  ']',
  '!',
  '=',
  '>',
  '<',
  '&',
  '|',
];

/** ISC in the grammar: characters that may start an identifier. */
function isIdentStart(c: number): boolean {
  return (
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x61 && c <= 0x7a) ||
    (c >= 0xc0 && c <= 0xd6) ||
    (c >= 0xd8 && c <= 0xf6) ||
    (c >= 0xf8 && c <= 0x2ff) ||
    (c >= 0x370 && c <= 0x37d) ||
    (c >= 0x37f && c <= 0x1fff) ||
    (c >= 0x200c && c <= 0x200d) ||
    (c >= 0x2070 && c <= 0x218f) ||
    (c >= 0x2c00 && c <= 0x2fef) ||
    (c >= 0x3001 && c <= 0xd7ff) ||
    (c >= 0xf900 && c <= 0xfdcf) ||
    (c >= 0xfdf0 && c <= 0xfffd)
  );
}

/** IC in the grammar: characters that may continue an identifier. */
function isIdentPart(c: number): boolean {
  return (
    isIdentStart(c) ||
    (c >= 0x30 && c <= 0x39) ||
    c === 0x5f ||
    c === 0xb7 ||
    (c >= 0x300 && c <= 0x36f) ||
    (c >= 0x203f && c <= 0x2040)
  );
}

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';
const isOctal = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '7';
const isHex = (c: string | undefined): boolean => c !== undefined && /^[0-9a-fA-F]$/.test(c);

const INT64_MAX = 9223372036854775807n;

export function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let pos = 0;
  let line = 1;
  let lineStart = 0;

  const advanceTo = (end: number): void => {
    for (let i = pos; i < end; i++) {
      if (source.charCodeAt(i) === 10) {
        line++;
        lineStart = i + 1;
      }
    }
    pos = end;
  };

  while (pos < source.length) {
    const c = source[pos]!;
    const column = pos - lineStart + 1;
    if (c === ' ' || c === '\t' || c === '\r' || c === '\n') {
      advanceTo(pos + 1);
      continue;
    }
    if (c === '/' && source[pos + 1] === '/') {
      let end = pos + 2;
      while (end < source.length && source[end] !== '\n' && source[end] !== '\r') end++;
      advanceTo(end);
      continue;
    }
    if (c === '/' && source[pos + 1] === '*') {
      const end = source.indexOf('*/', pos + 2);
      if (end < 0) throw new LexError('unterminated /* comment', line, column);
      advanceTo(end + 2);
      continue;
    }
    if (c === '"' || c === "'") {
      const { value, end } = readString(source, pos, line, column);
      tokens.push({ kind: 'string', text: source.slice(pos, end), value, line, column });
      advanceTo(end);
      continue;
    }
    if (isDigit(c) || (c === '.' && isDigit(source[pos + 1]))) {
      const tok = readNumber(source, pos, line, column);
      tokens.push(tok.token);
      advanceTo(tok.end);
      continue;
    }
    const code = source.charCodeAt(pos);
    if (isIdentStart(code)) {
      let end = pos + 1;
      while (end < source.length && isIdentPart(source.charCodeAt(end))) end++;
      const text = source.slice(pos, end);
      const lower = text.toLowerCase();
      if (KEYWORDS.has(lower)) tokens.push({ kind: 'keyword', text: lower, line, column });
      else tokens.push({ kind: 'ident', text, line, column });
      advanceTo(end);
      continue;
    }
    const punct = PUNCTUATION.find((p) => source.startsWith(p, pos));
    if (punct) {
      tokens.push({ kind: 'punct', text: punct, line, column });
      advanceTo(pos + punct.length);
      continue;
    }
    const shown = c === '_' ? "'_' (identifiers must start with a letter)" : JSON.stringify(c);
    throw new LexError(`unexpected character ${shown}`, line, column);
  }
  tokens.push({ kind: 'eof', text: '<end of input>', line, column: pos - lineStart + 1 });
  return tokens;
}

const SIMPLE_ESCAPES: Record<string, number> = {
  a: 7,
  b: 8,
  f: 12,
  n: 10,
  r: 13,
  t: 9,
  v: 11,
  '\\': 92,
};

/**
 * Decodes a string literal as Go's strconv.UnquoteChar does (Grule's unquoteString): `\xHH` and
 * octal escapes are raw bytes, so the result is assembled as UTF-8 and decoded once at the end.
 */
function readString(
  source: string,
  start: number,
  line: number,
  column: number,
): { value: string; end: number } {
  const quote = source[start]!;
  // Most literals have no escapes: take them as written.
  const close = source.indexOf(quote, start + 1);
  if (close > 0) {
    const raw = source.slice(start + 1, close);
    if (!raw.includes('\\')) return { value: raw, end: close + 1 };
  }
  const bytes: number[] = [];
  const encoder = new TextEncoder();
  let i = start + 1;
  for (;;) {
    if (i >= source.length) throw new LexError('unterminated string literal', line, column);
    const c = source[i]!;
    if (c === quote) break;
    if (c !== '\\') {
      const cp = source.codePointAt(i)!;
      const ch = String.fromCodePoint(cp);
      for (const b of encoder.encode(ch)) bytes.push(b);
      i += ch.length;
      continue;
    }
    const e = source[i + 1];
    if (e === undefined) throw new LexError('unterminated string literal', line, column);
    const simple = SIMPLE_ESCAPES[e];
    if (simple !== undefined) {
      bytes.push(simple);
      i += 2;
    } else if (e === quote) {
      bytes.push(quote.charCodeAt(0));
      i += 2;
    } else if (e === 'x' || e === 'u' || e === 'U') {
      const n = e === 'x' ? 2 : e === 'u' ? 4 : 8;
      const hex = source.slice(i + 2, i + 2 + n);
      if (hex.length !== n || ![...hex].every(isHex)) {
        throw new LexError(`invalid \\${e} escape in string literal: needs ${n} hex digits`, line, column);
      }
      const v = parseInt(hex, 16);
      if (e === 'x') bytes.push(v);
      else {
        if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) {
          throw new LexError(`invalid Unicode code point \\${e}${hex} in string literal`, line, column);
        }
        for (const b of encoder.encode(String.fromCodePoint(v))) bytes.push(b);
      }
      i += 2 + n;
    } else if (isOctal(e)) {
      const oct = source.slice(i + 1, i + 4);
      if (oct.length !== 3 || ![...oct].every(isOctal) || parseInt(oct, 8) > 255) {
        throw new LexError(
          'invalid octal escape in string literal: needs 3 octal digits up to \\377',
          line,
          column,
        );
      }
      bytes.push(parseInt(oct, 8));
      i += 4;
    } else {
      throw new LexError(`unknown escape sequence \\${e} in string literal`, line, column);
    }
  }
  const value = new TextDecoder('utf-8').decode(Uint8Array.from(bytes));
  return { value, end: i + 1 };
}

function readExponent(source: string, at: number): number {
  // [eE] [+-]? digits — returns the end of the exponent, or `at` when there is none.
  const c = source[at];
  if (c !== 'e' && c !== 'E') return at;
  let i = at + 1;
  if (source[i] === '+' || source[i] === '-') i++;
  if (!isDigit(source[i])) return at;
  while (isDigit(source[i])) i++;
  return i;
}

function intToken(text: string, digits: string, radix: bigint, line: number, column: number): Token {
  let v = 0n;
  for (const ch of digits) v = v * radix + BigInt(parseInt(ch, 16));
  if (v > INT64_MAX + 1n) throw new LexError(`integer literal ${text} overflows int64`, line, column);
  // INT64_MAX + 1 is only valid negated; the parser checks that when it applies the sign.
  return { kind: 'int', text, value: Number(v), line, column };
}

function readNumber(
  source: string,
  start: number,
  line: number,
  column: number,
): { token: Token; end: number } {
  let i = start;
  if (source[i] === '0' && (source[i + 1] === 'x' || source[i + 1] === 'X')) {
    let j = i + 2;
    while (isHex(source[j])) j++;
    const intDigits = source.slice(i + 2, j);
    let k = j;
    let fracDigits = '';
    if (source[k] === '.') {
      k++;
      while (isHex(source[k])) k++;
      fracDigits = source.slice(j + 1, k);
    }
    const p = source[k];
    if ((intDigits || fracDigits) && (p === 'p' || p === 'P')) {
      let e = k + 1;
      if (source[e] === '+' || source[e] === '-') e++;
      if (isDigit(source[e])) {
        while (isDigit(source[e])) e++;
        const mant =
          parseInt(intDigits || '0', 16) +
          (fracDigits ? parseInt(fracDigits, 16) / 16 ** fracDigits.length : 0);
        const value = mant * 2 ** Number(source.slice(k + 1, e));
        return { token: { kind: 'float', text: source.slice(start, e), value, line, column }, end: e };
      }
    }
    if (!intDigits)
      throw new LexError('invalid hexadecimal literal: needs hex digits after 0x', line, column);
    return { token: intToken(source.slice(start, j), intDigits, 16n, line, column), end: j };
  }
  if (source[i] === '.') {
    i++;
    while (isDigit(source[i])) i++;
    const end = readExponent(source, i);
    const text = source.slice(start, end);
    return { token: { kind: 'float', text, value: Number(text), line, column }, end };
  }
  let j = i;
  while (isDigit(source[j])) j++;
  if (source[i] === '0' && j > i + 1) {
    // Longest match between DEC_LIT "0" and OCT_LIT "0[0-7]+"; "08" lexes as "0" then "8".
    let k = i + 1;
    while (isOctal(source[k])) k++;
    if (k === i + 1) return { token: intToken('0', '0', 10n, line, column), end: i + 1 };
    return { token: intToken(source.slice(i, k), source.slice(i + 1, k), 8n, line, column), end: k };
  }
  // DEC_LIT, possibly followed by a fraction and/or exponent (a float).
  let end = j;
  let isFloat = false;
  if (source[end] === '.' && isDigit(source[end + 1])) {
    end += 1;
    while (isDigit(source[end])) end++;
    isFloat = true;
  }
  const expEnd = readExponent(source, end);
  if (expEnd !== end) {
    end = expEnd;
    isFloat = true;
  }
  const text = source.slice(start, end);
  if (isFloat) return { token: { kind: 'float', text, value: Number(text), line, column }, end };
  return { token: intToken(text, text, 10n, line, column), end };
}
