/**
 * Evaluation of a parsed context expression against a context of JSON values.
 * @module
 */
import { ExpressionEvaluationError, MissingContextVariableError } from '../errors/index.js';
import type { ComparisonOperator, ExpressionNode, VariableNode } from './expression-ast.js';

/** The JSON type of a value, as comparisons see it; `other` for anything JSON has no name for. */
type ValueKind = 'null' | 'boolean' | 'number' | 'string' | 'array' | 'object' | 'other';

/** Longest piece of source quoted in a {@link MissingContextVariableError} message. */
const SOURCE_IN_MESSAGE = 80;

/**
 * The truthiness of a value, as in Python: `null`/`undefined`, `false`, `0`, `NaN`, `""`, `[]` and
 * `{}` are false; everything else is true.
 */
export function isTruthy(value: unknown): boolean {
  if (value === null || value === undefined) return false;
  switch (typeof value) {
    case 'boolean':
      return value;
    case 'number':
      return value !== 0 && !Number.isNaN(value);
    case 'string':
      return value.length > 0;
    case 'bigint':
      return value !== 0n;
    case 'object':
      return Array.isArray(value) ? value.length > 0 : Object.keys(value).length > 0;
    default:
      return true;
  }
}

/**
 * What `len(${x})` returns: the length of a string (in Unicode code points, as Python counts), the
 * length of an array, the number of keys of an object, and 0 for anything else.
 */
export function lengthOf(value: unknown): number {
  if (typeof value === 'string') {
    let count = value.length;
    for (let i = 0; i < value.length - 1; i++) {
      const unit = value.charCodeAt(i);
      const nextUnit = value.charCodeAt(i + 1);
      if (unit >= 0xd800 && unit <= 0xdbff && nextUnit >= 0xdc00 && nextUnit <= 0xdfff) {
        count--; // a surrogate pair is one code point
        i++;
      }
    }
    return count;
  }
  if (Array.isArray(value)) return value.length;
  if (value !== null && typeof value === 'object') return Object.keys(value).length;
  return 0;
}

/**
 * Evaluates `node` (parsed from `source`) against `context` and returns the truthiness of the result.
 * `and`/`or` short-circuit, so variables in operands that are not needed are not looked up.
 * @throws MissingContextVariableError for a variable the context does not hold (or holds as `undefined`)
 * @throws ExpressionEvaluationError for an ordering comparison between values of different or
 *   unordered types, or a variable holding a function, symbol or bigint
 */
export function evaluateExpression(node: ExpressionNode, context: Readonly<Record<string, unknown>>, source: string): boolean {
  return isTruthy(new Evaluator(context, source).value(node));
}

/** One evaluation of one expression. */
class Evaluator {
  constructor(
    private readonly context: Readonly<Record<string, unknown>>,
    private readonly source: string,
  ) {}

  /** The value of a node: and/or/not/comparisons give booleans, the others their value. */
  value(node: ExpressionNode): unknown {
    switch (node.kind) {
      case 'or':
        for (const operand of node.operands) if (isTruthy(this.value(operand))) return true;
        return false;
      case 'and':
        for (const operand of node.operands) if (!isTruthy(this.value(operand))) return false;
        return true;
      case 'not':
        return !isTruthy(this.value(node.operand));
      case 'compare':
        return this.compare(node.operator, this.value(node.left), this.value(node.right), node.position);
      case 'variable':
        return this.lookup(node);
      case 'len':
        return lengthOf(this.lookup(node.variable));
      case 'literal':
        return node.value;
    }
  }

  /** The context's value of a variable; never `undefined`. */
  private lookup(node: VariableNode): unknown {
    const value = Object.hasOwn(this.context, node.name) ? this.context[node.name] : undefined;
    if (value === undefined) {
      const available = Object.keys(this.context)
        .filter((key) => this.context[key] !== undefined)
        .sort();
      const shown = this.source.length > SOURCE_IN_MESSAGE ? `${this.source.slice(0, SOURCE_IN_MESSAGE)}…` : this.source;
      throw new MissingContextVariableError(node.name, available, `expression "${shown}" at position ${node.position}`);
    }
    const type = typeof value;
    if (type === 'function' || type === 'symbol' || type === 'bigint') {
      throw new ExpressionEvaluationError(this.source, `context variable "${node.name}" holds a ${type}, not a JSON value`, node.position);
    }
    return value;
  }

  /** `left <operator> right`, by the rules of the language (see {@link ContextExpression}). */
  private compare(operator: ComparisonOperator, left: unknown, right: unknown, position: number): boolean {
    if (operator === '==') return jsonEqual(left, right);
    if (operator === '!=') return !jsonEqual(left, right);
    const leftKind = kindOf(left);
    const rightKind = kindOf(right);
    if (leftKind !== rightKind || (leftKind !== 'number' && leftKind !== 'string')) {
      throw new ExpressionEvaluationError(
        this.source,
        `cannot compare ${describeKind(leftKind)} with ${describeKind(rightKind)} using "${operator}"; ` +
          'ordering comparisons need two numbers or two strings',
        position,
      );
    }
    const a = left as number | string;
    const b = right as number | string;
    switch (operator) {
      case '<':
        return a < b;
      case '<=':
        return a <= b;
      case '>':
        return a > b;
      case '>=':
        return a >= b;
    }
  }
}

/** The {@link ValueKind} of a value. */
function kindOf(value: unknown): ValueKind {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
    case 'number':
    case 'string':
      return typeof value as 'boolean' | 'number' | 'string';
    case 'object':
      return Array.isArray(value) ? 'array' : 'object';
    default:
      return 'other';
  }
}

/** "a number", "an array", … for messages. */
function describeKind(kind: ValueKind): string {
  switch (kind) {
    case 'null':
      return 'null';
    case 'array':
    case 'object':
    case 'other':
      return kind === 'other' ? 'a non-JSON value' : `an ${kind}`;
    default:
      return `a ${kind}`;
  }
}

/**
 * Structural equality of JSON values: same type and same value; arrays element by element; objects
 * key by key, in any order. Values of different types are never equal. Iterative, so deeply nested
 * values cannot overflow the stack, and safe on cyclic objects (pairs already being compared count as equal).
 */
function jsonEqual(a: unknown, b: unknown): boolean {
  const pending: Array<readonly [unknown, unknown]> = [[a, b]];
  const seen = new WeakMap<object, WeakSet<object>>();
  for (let pair = pending.pop(); pair !== undefined; pair = pending.pop()) {
    const [x, y] = pair;
    if (x === y) continue;
    const kind = kindOf(x);
    if (kind !== kindOf(y) || (kind !== 'array' && kind !== 'object')) return false;
    const xo = x as object;
    const yo = y as object;
    let partners = seen.get(xo);
    if (partners === undefined) seen.set(xo, (partners = new WeakSet()));
    if (partners.has(yo)) continue;
    partners.add(yo);
    if (kind === 'array') {
      const xs = x as readonly unknown[];
      const ys = y as readonly unknown[];
      if (xs.length !== ys.length) return false;
      for (let i = 0; i < xs.length; i++) pending.push([xs[i], ys[i]]);
    } else {
      const xr = x as Record<string, unknown>;
      const yr = y as Record<string, unknown>;
      const keys = Object.keys(xr);
      if (keys.length !== Object.keys(yr).length) return false;
      for (const key of keys) {
        if (!Object.hasOwn(yr, key)) return false;
        pending.push([xr[key], yr[key]]);
      }
    }
  }
  return true;
}
