/**
 * A recursive-descent parser for the context-expression language:
 *
 * ```
 * expr    := or
 * or      := and (('or' | '|') and)*
 * and     := unary (('and' | '&') unary)*
 * unary   := ('not' | '!') unary | compare
 * compare := operand (('>' | '<' | '>=' | '<=' | '==' | '!=') operand)?
 * operand := '(' expr ')' | variable | 'len' '(' variable ')' | number | string | boolean
 * ```
 *
 * Input length is bounded by {@link MAX_EXPRESSION_LENGTH} and nesting by
 * {@link MAX_EXPRESSION_DEPTH}, so recursion depth is bounded too.
 * @module
 */
import { ExpressionSyntaxError } from '../errors/index.js';
import {
  MAX_EXPRESSION_DEPTH,
  MAX_EXPRESSION_LENGTH,
  type ExpressionNode,
  type LiteralNode,
  type VariableNode,
} from './expression-ast.js';
import { describeToken, tokenize, type Token } from './expression-lexer.js';

/** Words that people write for "nothing", which the language does not have. */
const NULL_WORDS: ReadonlySet<string> = new Set(['null', 'None', 'undefined', 'nil']);

/**
 * Parses `source` into an expression tree, or throws {@link ExpressionSyntaxError} with the
 * 0-based position of the first input the grammar does not allow.
 */
export function parseExpression(source: string): ExpressionNode {
  if (source.length > MAX_EXPRESSION_LENGTH) {
    throw new ExpressionSyntaxError(source, MAX_EXPRESSION_LENGTH, `at most ${MAX_EXPRESSION_LENGTH} characters`, `${source.length} characters`);
  }
  return new Parser(source).parseAll();
}

/** One parse of one source. */
class Parser {
  private readonly tokens: readonly Token[];
  private index = 0;
  /** Current nesting: open parentheses plus enclosing `not`s. */
  private depth = 0;
  /** Open parentheses only (decides whether `)` or the end closes the current expression). */
  private openParens = 0;

  constructor(private readonly source: string) {
    this.tokens = tokenize(source);
  }

  /** The whole source as one expression. */
  parseAll(): ExpressionNode {
    const node = this.parseOr();
    if (this.peek().kind !== 'end') this.fail('an operator or end of input');
    return node;
  }

  /** The token being looked at (the list ends with `end`/`invalid`, which are never passed). */
  private peek(): Token {
    return this.tokens[this.index] as Token;
  }

  /** Moves past the current token and returns it. */
  private advance(): Token {
    const token = this.peek();
    if (token.kind !== 'end' && token.kind !== 'invalid') this.index++;
    return token;
  }

  /** Throws a syntax error at the current token; a malformed token reports its own expectation. */
  private fail(expected: string, hint?: string): never {
    const token = this.peek();
    if (token.kind === 'invalid') {
      throw new ExpressionSyntaxError(this.source, token.position, token.expected ?? expected, token.found, token.hint ?? hint);
    }
    throw new ExpressionSyntaxError(this.source, token.position, expected, describeToken(token), hint);
  }

  /** What closes the expression being parsed: `")"` inside parentheses, else the end. */
  private get closer(): string {
    return this.openParens > 0 ? '")"' : 'end of input';
  }

  /** Enters one nesting level at the current token, enforcing {@link MAX_EXPRESSION_DEPTH}. */
  private enter(): void {
    this.depth++;
    if (this.depth > MAX_EXPRESSION_DEPTH) {
      throw new ExpressionSyntaxError(
        this.source,
        this.peek().position,
        `at most ${MAX_EXPRESSION_DEPTH} levels of nested parentheses and "not"s`,
        `nesting level ${this.depth}`,
      );
    }
  }

  private parseOr(): ExpressionNode {
    const first = this.parseAnd();
    if (this.peek().kind !== 'or') return first;
    const position = this.peek().position;
    const operands = [first];
    while (this.peek().kind === 'or') {
      this.advance();
      operands.push(this.parseAnd());
    }
    return Object.freeze({ kind: 'or', operands: Object.freeze(operands), position });
  }

  private parseAnd(): ExpressionNode {
    const first = this.parseUnary();
    if (this.peek().kind !== 'and') return first;
    const position = this.peek().position;
    const operands = [first];
    while (this.peek().kind === 'and') {
      this.advance();
      operands.push(this.parseUnary());
    }
    return Object.freeze({ kind: 'and', operands: Object.freeze(operands), position });
  }

  private parseUnary(): ExpressionNode {
    if (this.peek().kind !== 'not') return this.parseCompare();
    this.enter();
    const position = this.advance().position;
    const operand = this.parseUnary();
    this.depth--;
    return Object.freeze({ kind: 'not', operand, position });
  }

  private parseCompare(): ExpressionNode {
    const left = this.parseOperand();
    const token = this.peek();
    if (token.kind !== 'compare') return left;
    this.advance();
    const right = this.parseOperand();
    if (this.peek().kind === 'compare') this.fail(`"and", "or" or ${this.closer}`, 'comparisons cannot be chained');
    return Object.freeze({ kind: 'compare', operator: token.operator, left, right, position: token.position });
  }

  private parseOperand(): ExpressionNode {
    const token = this.peek();
    switch (token.kind) {
      case 'lparen': {
        this.enter();
        this.openParens++;
        this.advance();
        const inner = this.parseOr();
        if (this.peek().kind !== 'rparen') this.fail('an operator or ")"');
        this.advance();
        this.openParens--;
        this.depth--;
        return inner;
      }
      case 'variable':
        return this.variable(token);
      case 'len': {
        this.advance();
        if (this.peek().kind !== 'lparen') this.fail('"(" after len');
        this.advance();
        const argument = this.peek();
        if (argument.kind !== 'variable') return this.fail('a variable ${name}', 'len takes exactly one variable');
        const variable = this.variable(argument);
        if (this.peek().kind !== 'rparen') this.fail('")" to close len(', 'len takes exactly one variable');
        this.advance();
        return Object.freeze({ kind: 'len', variable, position: token.position });
      }
      case 'number':
      case 'string':
      case 'boolean': {
        this.advance();
        const literal: LiteralNode = { kind: 'literal', value: token.value, position: token.position };
        return Object.freeze(literal);
      }
      case 'identifier': {
        const isCall = this.tokens[this.index + 1]?.kind === 'lparen';
        return this.fail(
          'an operand',
          isCall
            ? `unknown function "${token.text}"; the only function is len(\${name})`
            : NULL_WORDS.has(token.text)
              ? 'there is no null literal; test truthiness instead, e.g. not ${name}'
              : `unknown identifier; variables are written \${${token.text}}, strings are quoted`,
        );
      }
      default:
        return this.fail('an operand');
    }
  }

  /** Consumes the current token, a variable, as a node. */
  private variable(token: Extract<Token, { kind: 'variable' }>): VariableNode {
    this.advance();
    return Object.freeze({ kind: 'variable', name: token.name, position: token.position });
  }
}
