/**
 * AG2's context conditions: boolean expressions over a conversation's context variables, such as
 * `${logged_in} and not ${is_banned}` or `len(${items}) > 0`, parsed by a real parser (no `eval`).
 * @module
 */
import { ExpressionSyntaxError, MissingContextVariableError } from '../errors/index.js';
import { evaluateExpression } from './evaluate-expression.js';
import { MAX_EXPRESSION_LENGTH, type ExpressionNode } from './expression-ast.js';
import { describeCharAt, isVariableName, isVariableNameChar, isVariableNameStart } from './expression-lexer.js';
import { parseExpression } from './expression-parser.js';

/** Longest template or source quoted in a {@link MissingContextVariableError} message. */
const QUOTED_IN_MESSAGE = 80;

/**
 * A parsed, immutable context-condition expression.
 *
 * Grammar (whitespace is insignificant; keywords are case-sensitive):
 * ```
 * expr    := or
 * or      := and (('or' | '|') and)*
 * and     := unary (('and' | '&') unary)*
 * unary   := ('not' | '!') unary | compare
 * compare := operand (('>' | '<' | '>=' | '<=' | '==' | '!=') operand)?
 * operand := '(' expr ')' | '${' name '}' | 'len' '(' '${' name '}' ')' | number | string | boolean
 * name    := [A-Za-z_][A-Za-z0-9_.-]*        (a flat context key: `${a.b}` is the key "a.b")
 * number  := -?digits(.digits)?
 * string  := '…' | "…"                       (escapes \' \" \\ \n \t)
 * boolean := true | false | True | False
 * ```
 *
 * Semantics: a value used as a condition means its truthiness (`null`, `false`, `0`, `""`, `[]`,
 * `{}` are false); `not`/`and`/`or` give booleans and short-circuit left to right; `==`/`!=` compare
 * type and value (deeply for arrays and objects; different types are never equal); `<`, `<=`, `>`,
 * `>=` need two numbers or two strings; `len` counts a string's code points, an array's elements
 * or an object's keys, else 0. Parentheses only group: `(${n}) == 3` compares the value of `n`.
 *
 * @example
 * ```ts
 * const vip = ContextExpression.parse('${tier} == "gold" and len(${orders}) > 0');
 * vip.variables; // ['tier', 'orders']
 * vip.evaluate({ tier: 'gold', orders: [1] }); // true
 * ```
 */
export class ContextExpression {
  /** The expression's text, exactly as given. */
  readonly source: string;
  /** Every variable the expression references, once each, in order of first appearance. */
  readonly variables: readonly string[];
  /** The parsed tree. */
  readonly ast: ExpressionNode;

  private constructor(source: string, ast: ExpressionNode) {
    this.source = source;
    this.ast = ast;
    this.variables = Object.freeze(collectVariables(ast));
    Object.freeze(this);
  }

  /**
   * Parses an expression.
   * @throws ExpressionSyntaxError (code `INVALID_EXPRESSION`) with the 0-based position of the first
   *   input the grammar does not allow, or when the source is longer than
   *   {@link MAX_EXPRESSION_LENGTH} or nests deeper than {@link MAX_EXPRESSION_DEPTH}
   */
  static parse(source: string): ContextExpression {
    if (typeof source !== 'string') throw new ExpressionSyntaxError('', 0, 'an expression string', `a ${typeof source}`);
    return new ContextExpression(source, parseExpression(source));
  }

  /**
   * Evaluates the expression against a context of JSON values and returns the truthiness of the result.
   * @throws MissingContextVariableError (code `MISSING_CONTEXT_VARIABLE`) for a variable that is
   *   evaluated but absent from the context (a key holding `undefined` counts as absent); variables in
   *   operands that short-circuiting skips are not looked up
   * @throws ExpressionEvaluationError (code `INVALID_EXPRESSION`) for an ordering comparison of values
   *   of different or unordered types, e.g. `${n} > "a"` with a number `n`
   */
  evaluate(context: Readonly<Record<string, unknown>>): boolean {
    return evaluateExpression(this.ast, context, this.source);
  }

  /** The source, so that an expression serialises as the string it was parsed from. */
  toJSON(): string {
    return this.source;
  }

  /** The source. */
  toString(): string {
    return this.source;
  }
}

/**
 * Parses an AG2 `available` / condition predicate: a string containing `${` is an expression;
 * any other string is the name of one context variable (surrounding whitespace ignored), meaning
 * its truthiness — the result's source is then `${name}`.
 * @throws ExpressionSyntaxError for an invalid expression or name
 */
export function parseCondition(spec: string): ContextExpression {
  if (typeof spec !== 'string' || spec.includes('${')) return ContextExpression.parse(spec);
  const start = spec.length - spec.trimStart().length;
  const name = spec.trim();
  if (!isVariableName(name) || name.length + 3 > MAX_EXPRESSION_LENGTH) {
    let position = start;
    if (isVariableNameStart(spec[position])) do position++; while (isVariableNameChar(spec[position]));
    throw new ExpressionSyntaxError(
      spec,
      Math.min(position, MAX_EXPRESSION_LENGTH - 3),
      'a context variable name ([A-Za-z_][A-Za-z0-9_.-]*, at most 4093 characters) or an expression',
      name.length + 3 > MAX_EXPRESSION_LENGTH ? `${name.length} characters` : describeCharAt(spec, position),
      'expressions refer to variables as ${name}',
    );
  }
  return ContextExpression.parse(`\${${name}}`);
}

/**
 * Replaces every `${name}` in `template` with the context's value: strings as they are, anything
 * else as JSON (for tool descriptions). Text that is not a well-formed `${name}` (such as `${ x}` or
 * a lone `${`) is left as it is.
 * @throws MissingContextVariableError for a variable the context does not hold (or holds as `undefined`)
 */
export function interpolateContext(template: string, context: Readonly<Record<string, unknown>>): string {
  let out = '';
  let done = 0;
  for (let start = template.indexOf('${'); start !== -1; start = template.indexOf('${', start + 2)) {
    let end = start + 2;
    if (!isVariableNameStart(template[end])) continue;
    while (isVariableNameChar(template[end])) end++;
    if (template[end] !== '}') continue;
    const name = template.slice(start + 2, end);
    const value = Object.hasOwn(context, name) ? context[name] : undefined;
    if (value === undefined) {
      const available = Object.keys(context)
        .filter((key) => context[key] !== undefined)
        .sort();
      const shown = template.length > QUOTED_IN_MESSAGE ? `${template.slice(0, QUOTED_IN_MESSAGE)}…` : template;
      throw new MissingContextVariableError(name, available, `template "${shown}"`);
    }
    out += template.slice(done, start) + renderValue(value);
    done = end + 1;
  }
  return out + template.slice(done);
}

/** A context value as text: strings as they are, anything else as JSON (or `String()` if not JSON). */
function renderValue(value: unknown): string {
  if (typeof value === 'string') return value;
  try {
    const json = JSON.stringify(value) as string | undefined;
    return json ?? String(value);
  } catch {
    return String(value);
  }
}

/** The variables of a tree, once each, in order of first appearance in the source. */
function collectVariables(root: ExpressionNode): string[] {
  const names = new Set<string>();
  const pending: ExpressionNode[] = [root];
  for (let node = pending.pop(); node !== undefined; node = pending.pop()) {
    switch (node.kind) {
      case 'or':
      case 'and':
        for (let i = node.operands.length - 1; i >= 0; i--) pending.push(node.operands[i] as ExpressionNode);
        break;
      case 'not':
        pending.push(node.operand);
        break;
      case 'compare':
        pending.push(node.right, node.left);
        break;
      case 'variable':
        names.add(node.name);
        break;
      case 'len':
        names.add(node.variable.name);
        break;
      case 'literal':
        break;
    }
  }
  return [...names];
}
