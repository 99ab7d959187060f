/**
 * The syntax tree of AG2's context-condition expression language (see {@link ContextExpression}).
 * Every node records `position`, the 0-based offset in the source of its first character (for
 * `and`/`or`/comparison nodes: of their operator), which evaluation errors report.
 * @module
 */

/** Longest expression source accepted, in characters. */
export const MAX_EXPRESSION_LENGTH = 4096;

/** Deepest nesting accepted: parenthesised groups plus `not`/`!` prefixes, counted together. */
export const MAX_EXPRESSION_DEPTH = 64;

/** A comparison operator. */
export type ComparisonOperator = '>' | '<' | '>=' | '<=' | '==' | '!=';

/** `a or b or …` (also `|`): true as soon as one operand is truthy, evaluated left to right. */
export interface OrNode {
  readonly kind: 'or';
  /** Two or more operands; a chain is one node, not a nested tree. */
  readonly operands: readonly ExpressionNode[];
  /** Offset of the first operator. */
  readonly position: number;
}

/** `a and b and …` (also `&`): false as soon as one operand is falsy, evaluated left to right. */
export interface AndNode {
  readonly kind: 'and';
  /** Two or more operands; a chain is one node, not a nested tree. */
  readonly operands: readonly ExpressionNode[];
  /** Offset of the first operator. */
  readonly position: number;
}

/** `not a` (also `!a`): the negated truthiness of its operand. */
export interface NotNode {
  readonly kind: 'not';
  readonly operand: ExpressionNode;
  /** Offset of the `not` / `!`. */
  readonly position: number;
}

/** `left <op> right`. Comparisons do not chain. */
export interface ComparisonNode {
  readonly kind: 'compare';
  readonly operator: ComparisonOperator;
  readonly left: ExpressionNode;
  readonly right: ExpressionNode;
  /** Offset of the operator. */
  readonly position: number;
}

/** `${name}`: the context's value for `name` (a flat key; dots and dashes are part of the name). */
export interface VariableNode {
  readonly kind: 'variable';
  readonly name: string;
  /** Offset of the `$`. */
  readonly position: number;
}

/** `len(${name})`: length of a string (code points) or array, key count of an object, else 0. */
export interface LenNode {
  readonly kind: 'len';
  readonly variable: VariableNode;
  /** Offset of `len`. */
  readonly position: number;
}

/** A number, string or boolean literal. */
export interface LiteralNode {
  readonly kind: 'literal';
  readonly value: number | string | boolean;
  /** Offset of the literal's first character. */
  readonly position: number;
}

/** Any node of the expression tree. Parentheses leave no node; they only shape the tree. */
export type ExpressionNode = OrNode | AndNode | NotNode | ComparisonNode | VariableNode | LenNode | LiteralNode;
