/**
 * The lexer of the context-expression language: source text to tokens, by hand (no regular
 * expressions). Malformed input becomes an `invalid` token that the parser reports, so errors come
 * out in source order with the parser's idea of what was expected.
 * @module
 */
import type { ComparisonOperator } from './expression-ast.js';

/** A token with the 0-based offset of its first character and its exact source text. */
export type Token = { readonly position: number; readonly text: string } & (
  | { readonly kind: 'lparen' | 'rparen' | 'and' | 'or' | 'not' | 'len' | 'end' }
  | { readonly kind: 'compare'; readonly operator: ComparisonOperator }
  | { readonly kind: 'variable'; readonly name: string }
  | { readonly kind: 'number'; readonly value: number }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'boolean'; readonly value: boolean }
  /** A bare word that is not a keyword (`foo`, `AND`, `null`): always a syntax error. */
  | { readonly kind: 'identifier' }
  /**
   * Input the lexer could not read. `position` is where the problem is. `expected` is set when the
   * lexer knows what should have been there (inside a string, a variable or a number); when it is
   * undefined the character is simply not part of the language and the parser says what it wanted.
   */
  | { readonly kind: 'invalid'; readonly expected: string | undefined; readonly found: string; readonly hint: string | undefined }
);

/** Words with a meaning; every other bare word is an `identifier` token. */
const KEYWORDS: ReadonlyMap<string, Token['kind']> = new Map<string, Token['kind']>([
  ['and', 'and'],
  ['or', 'or'],
  ['not', 'not'],
  ['len', 'len'],
  ['true', 'boolean'],
  ['false', 'boolean'],
  ['True', 'boolean'],
  ['False', 'boolean'],
]);

/** Escape sequences allowed in string literals, by the character after the backslash. */
const ESCAPES: ReadonlyMap<string, string> = new Map([
  ["'", "'"],
  ['"', '"'],
  ['\\', '\\'],
  ['n', '\n'],
  ['t', '\t'],
]);

/** Hints for characters that are not part of the language but that people try. */
const CHARACTER_HINTS: ReadonlyMap<string, string> = new Map([
  ['=', 'use "==" to compare'],
  ['+', 'arithmetic is not supported'],
  ['-', 'arithmetic is not supported; negative numbers are written -1.5'],
  ['*', 'arithmetic is not supported'],
  ['/', 'arithmetic is not supported'],
  ['%', 'arithmetic is not supported'],
  ['.', 'attribute access is not supported; a variable whose name has dots is written ${a.b}'],
  ['[', 'indexing is not supported'],
]);

const isDigit = (ch: string | undefined): boolean => ch !== undefined && ch >= '0' && ch <= '9';
const isLetter = (ch: string | undefined): boolean => ch !== undefined && ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z'));
const isWhitespace = (ch: string): boolean => ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r' || ch === '\v' || ch === '\f';
/** True for a character that may start a keyword or identifier: `[A-Za-z_]`. */
const isWordStart = (ch: string | undefined): boolean => ch === '_' || isLetter(ch);
/** True for a character that may continue a keyword or identifier: `[A-Za-z0-9_]`. */
const isWordChar = (ch: string | undefined): boolean => isWordStart(ch) || isDigit(ch);

/** True for a character that may start a variable name: `[A-Za-z_]`. */
export function isVariableNameStart(ch: string | undefined): boolean {
  return isWordStart(ch);
}

/** True for a character that may continue a variable name: `[A-Za-z0-9_.-]`. */
export function isVariableNameChar(ch: string | undefined): boolean {
  return isWordChar(ch) || ch === '.' || ch === '-';
}

/** True when `name` is a valid variable name, `[A-Za-z_][A-Za-z0-9_.-]*`. */
export function isVariableName(name: string): boolean {
  if (!isVariableNameStart(name[0])) return false;
  for (let i = 1; i < name.length; i++) if (!isVariableNameChar(name[i])) return false;
  return true;
}

/** How a character (or the end) at `index` of `source` is shown in error messages. */
export function describeCharAt(source: string, index: number): string {
  const codePoint = source.codePointAt(index);
  return codePoint === undefined ? 'end of input' : JSON.stringify(String.fromCodePoint(codePoint));
}

/** How a token is shown in error messages (quoted, cut at 40 characters). */
export function describeToken(token: Token): string {
  if (token.kind === 'end') return 'end of input';
  if (token.kind === 'invalid') return token.found;
  return JSON.stringify(token.text.length > 40 ? `${token.text.slice(0, 40)}…` : token.text);
}

/**
 * Splits `source` into tokens. The list always ends with an `end` token or, at the first
 * malformed input, an `invalid` token (nothing is read after it).
 */
export function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  for (;;) {
    while (i < source.length && isWhitespace(source[i] as string)) i++;
    const token = readToken(source, i);
    tokens.push(token);
    if (token.kind === 'end' || token.kind === 'invalid') return tokens;
    i = token.position + token.text.length;
  }
}

/** Reads the token that starts at `start` (which is not whitespace). */
function readToken(source: string, start: number): Token {
  const ch = source[start];
  const next = source[start + 1];
  const simple = (kind: 'lparen' | 'rparen' | 'and' | 'or' | 'not', length = 1): Token => ({
    kind,
    position: start,
    text: source.slice(start, start + length),
  });
  const compare = (operator: ComparisonOperator): Token => ({ kind: 'compare', operator, position: start, text: operator });
  switch (ch) {
    case undefined:
      return { kind: 'end', position: start, text: '' };
    case '(':
      return simple('lparen');
    case ')':
      return simple('rparen');
    case '&':
      return simple('and');
    case '|':
      return simple('or');
    case '!':
      return next === '=' ? compare('!=') : simple('not');
    case '>':
      return compare(next === '=' ? '>=' : '>');
    case '<':
      return compare(next === '=' ? '<=' : '<');
    case '=':
      return next === '=' ? compare('==') : unknownCharacter(source, start);
    case '$':
      return readVariable(source, start);
    case "'":
    case '"':
      return readString(source, start, ch);
    default:
      break;
  }
  if (isDigit(ch) || (ch === '-' && isDigit(next))) return readNumber(source, start);
  if (isWordStart(ch)) {
    let end = start + 1;
    while (isWordChar(source[end])) end++;
    const text = source.slice(start, end);
    const kind = KEYWORDS.get(text);
    if (kind === 'boolean') return { kind, value: text === 'true' || text === 'True', position: start, text };
    if (kind === 'and' || kind === 'or' || kind === 'not' || kind === 'len') return { kind, position: start, text };
    return { kind: 'identifier', position: start, text };
  }
  return unknownCharacter(source, start);
}

/** An `invalid` token for a character that is not part of the language here. */
function unknownCharacter(source: string, position: number): Token {
  const found = describeCharAt(source, position);
  return { kind: 'invalid', expected: undefined, found, hint: CHARACTER_HINTS.get(source[position] ?? ''), position, text: '' };
}

/** An `invalid` token for malformed input at `position`, where `expected` was wanted. */
function malformed(source: string, position: number, expected: string, hint?: string): Token {
  return { kind: 'invalid', expected, found: describeCharAt(source, position), hint, position, text: '' };
}

/** `${name}`, starting at the `$`. No whitespace is allowed inside the braces. */
function readVariable(source: string, start: number): Token {
  if (source[start + 1] !== '{') return malformed(source, start + 1, '"{" after "$"', 'variables are written ${name}');
  const nameStart = start + 2;
  if (!isVariableNameStart(source[nameStart])) {
    return malformed(source, nameStart, 'a variable name', 'names match [A-Za-z_][A-Za-z0-9_.-]*, with no spaces');
  }
  let end = nameStart + 1;
  while (isVariableNameChar(source[end])) end++;
  if (source[end] !== '}') return malformed(source, end, '"}" to close the variable', 'names match [A-Za-z_][A-Za-z0-9_.-]*, with no spaces');
  return { kind: 'variable', name: source.slice(nameStart, end), position: start, text: source.slice(start, end + 1) };
}

/** A quoted string, starting at its opening quote. */
function readString(source: string, start: number, quote: string): Token {
  let value = '';
  let i = start + 1;
  for (;;) {
    const ch = source[i];
    if (ch === undefined) {
      const expected = `${JSON.stringify(quote)} to close the string that starts here`;
      return { kind: 'invalid', expected, found: 'end of input', hint: undefined, position: start, text: '' };
    }
    if (ch === quote) return { kind: 'string', value, position: start, text: source.slice(start, i + 1) };
    if (ch === '\\') {
      const escaped = source[i + 1];
      if (escaped === undefined) {
        i++; // a trailing backslash: reported as an unterminated string on the next round
        continue;
      }
      const replacement = ESCAPES.get(escaped);
      if (replacement === undefined) {
        return { kind: 'invalid', expected: String.raw`an escape (\' \" \\ \n \t)`, found: JSON.stringify(`\\${escaped}`), hint: undefined, position: i, text: '' };
      }
      value += replacement;
      i += 2;
    } else {
      value += ch;
      i++;
    }
  }
}

/** `-?digits(.digits)?`, starting at the sign or first digit. */
function readNumber(source: string, start: number): Token {
  let end = source[start] === '-' ? start + 1 : start;
  while (isDigit(source[end])) end++;
  if (source[end] === '.') {
    if (!isDigit(source[end + 1])) return malformed(source, end + 1, 'a digit after "."');
    end++;
    while (isDigit(source[end])) end++;
  }
  const text = source.slice(start, end);
  return { kind: 'number', value: Number(text), position: start, text };
}
