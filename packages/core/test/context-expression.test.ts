import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ContextExpression,
  ErrorCode,
  ExpressionEvaluationError,
  ExpressionSyntaxError,
  HandoffError,
  MAX_EXPRESSION_DEPTH,
  MAX_EXPRESSION_LENGTH,
  MissingContextVariableError,
  interpolateContext,
  isHandoffError,
  parseCondition,
  type ExpressionNode,
} from '../dist/index.js';

/** Runs `fn` and returns what it threw (fails the test if it did not throw). */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

const syntaxError = (source: string): ExpressionSyntaxError => {
  const error = thrown(() => ContextExpression.parse(source));
  expect(error).toBeInstanceOf(ExpressionSyntaxError);
  return error as ExpressionSyntaxError;
};

const evaluate = (source: string, context: Record<string, unknown>): boolean => ContextExpression.parse(source).evaluate(context);

describe('ContextExpression: AG2 documented examples', () => {
  const cases: Array<[string, Record<string, unknown>, Record<string, unknown>]> = [
    ['${logged_in} and ${is_admin}', { logged_in: true, is_admin: true }, { logged_in: true, is_admin: false }],
    ['not ${is_banned}', { is_banned: false }, { is_banned: true }],
    ['${attempts} >= 3', { attempts: 3 }, { attempts: 2 }],
    ['${tier} == "gold" or ${tier} == \'platinum\'', { tier: 'platinum' }, { tier: 'silver' }],
    ['len(${items}) > 0', { items: ['x'] }, { items: [] }],
    ['!${done} & (${retries} < 5 | ${force})', { done: false, retries: 7, force: true }, { done: false, retries: 7, force: false }],
    ['${temperature} > -1.5', { temperature: -1 }, { temperature: -2 }],
    ['${name} != ""', { name: 'Ada' }, { name: '' }],
  ];
  it.each(cases)('%s', (source, whenTrue, whenFalse) => {
    const expression = ContextExpression.parse(source);
    expect(expression.evaluate(whenTrue)).toBe(true);
    expect(expression.evaluate(whenFalse)).toBe(false);
    expect(expression.source).toBe(source);
  });

  it('is case-sensitive about keywords but accepts both spellings of the booleans', () => {
    expect(evaluate('${a} == True and ${b} == false', { a: true, b: false })).toBe(true);
    expect(evaluate('False or true', {})).toBe(true);
    expect(syntaxError('${a} AND ${b}').details).toMatchObject({ position: 5, found: '"AND"' });
  });
});

describe('ContextExpression: semantics', () => {
  it('treats every JSON type by truthiness, with empty arrays and objects false (as in Python)', () => {
    const table: Array<[unknown, boolean]> = [
      [true, true],
      [false, false],
      [0, false],
      [1, true],
      [-0.5, true],
      ['', false],
      ['a', true],
      [' ', true],
      ['0', true],
      [null, false],
      [[], false],
      [[0], true],
      [{}, false],
      [{ a: null }, true],
    ];
    for (const [value, truthy] of table) {
      expect(evaluate('${v}', { v: value }), JSON.stringify(value)).toBe(truthy);
      expect(evaluate('not ${v}', { v: value }), JSON.stringify(value)).toBe(!truthy);
    }
    expect(evaluate('0', {})).toBe(false);
    expect(evaluate('"0"', {})).toBe(true);
    expect(evaluate("''", {})).toBe(false);
  });

  it('gives "not" and comparisons higher precedence than "and", and "and" than "or"', () => {
    expect(evaluate('${a} or ${b} and ${c}', { a: true, b: false, c: false })).toBe(true);
    expect(evaluate('(${a} or ${b}) and ${c}', { a: true, b: false, c: false })).toBe(false);
    expect(evaluate('not ${a} and ${b}', { a: false, b: false })).toBe(false);
    expect(evaluate('not ${n} == 1', { n: 2 })).toBe(true);
    expect(evaluate('!!${n}', { n: 2 })).toBe(true);
  });

  it('short-circuits and/or: a variable that is not needed is not looked up', () => {
    expect(evaluate('${a} or ${missing}', { a: true })).toBe(true);
    expect(evaluate('${a} and ${missing}', { a: false })).toBe(false);
    expect(evaluate('!${done} & (${retries} < 5 | ${force})', { done: true })).toBe(false);
    expect(thrown(() => evaluate('${a} or ${missing}', { a: false }))).toBeInstanceOf(MissingContextVariableError);
  });

  it('compares numbers and strings, and values of any type with ==/!= (different types are unequal)', () => {
    expect(evaluate('${a} < ${b}', { a: 'apple', b: 'banana' })).toBe(true);
    expect(evaluate('${a} <= 2.5', { a: 2.5 })).toBe(true);
    expect(evaluate('${a} == ${b}', { a: 1, b: '1' })).toBe(false);
    expect(evaluate('${a} != ${b}', { a: 1, b: '1' })).toBe(true);
    expect(evaluate('${a} == ${b}', { a: null, b: null })).toBe(true);
    expect(evaluate('${a} == false', { a: null })).toBe(false);
    expect(evaluate('${a} == 0', { a: false })).toBe(false);
    expect(evaluate('${a} == ${b}', { a: { x: [1, { y: 'z' }] }, b: { x: [1, { y: 'z' }] } })).toBe(true);
    expect(evaluate('${a} == ${b}', { a: [1, 2], b: [2, 1] })).toBe(false);
    expect(evaluate('(${a} and ${b}) == true', { a: 1, b: 'x' })).toBe(true);
    expect(evaluate('(${n}) == 3', { n: 3 })).toBe(true);
  });

  it('reports an ordering comparison between different or unordered types as an evaluation error', () => {
    const source = '${attempts} > "3"';
    const error = thrown(() => evaluate(source, { attempts: 3 })) as ExpressionEvaluationError;
    expect(error).toBeInstanceOf(ExpressionEvaluationError);
    expect(error.code).toBe(ErrorCode.INVALID_EXPRESSION);
    expect(error.message).toContain('cannot compare a number with a string using ">"');
    expect(error.details).toMatchObject({ source, position: 12 });
    expect(thrown(() => evaluate('${a} < ${b}', { a: true, b: false }))).toBeInstanceOf(ExpressionEvaluationError);
    expect(thrown(() => evaluate('${a} >= ${b}', { a: null, b: null }))).toBeInstanceOf(ExpressionEvaluationError);
    expect(thrown(() => evaluate('${a} > 1', { a: [2] }))).toBeInstanceOf(ExpressionEvaluationError);
  });

  it('measures len() of strings (code points), arrays and objects, and 0 for anything else', () => {
    const len = (v: unknown) => [0, 1, 2, 3, 5].find((n) => evaluate(`len(\${v}) == ${n}`, { v }));
    expect(len('héllo')).toBe(5);
    expect(len('😀')).toBe(1);
    expect(len([1, 2, 3])).toBe(3);
    expect(len({ a: 1, b: 2 })).toBe(2);
    expect(len(42)).toBe(0);
    expect(len(true)).toBe(0);
    expect(len(null)).toBe(0);
  });

  it('names a missing variable and lists the available ones, never evaluating to a silent false', () => {
    const error = thrown(() => evaluate('${tier} == "gold" and ${score} > 3', { tier: 'gold', b: 1, a: 2, gone: undefined }));
    expect(error).toBeInstanceOf(MissingContextVariableError);
    const missing = error as MissingContextVariableError;
    expect(missing.code).toBe(ErrorCode.MISSING_CONTEXT_VARIABLE);
    expect(missing.variable).toBe('score');
    expect(missing.details).toEqual({ variable: 'score', available: ['a', 'b', 'tier'] });
    expect(missing.message).toContain('"score"');
    expect(missing.message).toContain('Available: a, b, tier.');
    // Inherited properties are not context variables.
    expect(thrown(() => evaluate('${constructor}', {}))).toBeInstanceOf(MissingContextVariableError);
    expect(missing.toJSON()).toMatchObject({ code: 'MISSING_CONTEXT_VARIABLE', retryable: false });
  });

  it('treats dots and dashes as part of a flat variable name', () => {
    const expression = ContextExpression.parse('${user.tier-2} == 1');
    expect(expression.variables).toEqual(['user.tier-2']);
    expect(expression.evaluate({ 'user.tier-2': 1 })).toBe(true);
  });
});

describe('ContextExpression: syntax errors', () => {
  const cases: Array<[string, number, string, string]> = [
    ['${a} >> 2', 6, 'an operand', '">"'],
    ['${a} and', 8, 'an operand', 'end of input'],
    ['len(1)', 4, 'a variable ${name}', '"1"'],
    ['foo(${a})', 0, 'an operand', '"foo"'],
    ['${a} = 1', 5, 'an operator or end of input', '"="'],
    ["'unterminated", 0, '"\'" to close the string that starts here', 'end of input'],
    ['${ 1bad}', 2, 'a variable name', '" "'],
    ['(${a}', 5, 'an operator or ")"', 'end of input'],
    ['${a})', 4, 'an operator or end of input', '")"'],
    ['${a} + 1', 5, 'an operator or end of input', '"+"'],
    ['${a}.b', 4, 'an operator or end of input', '"."'],
    ['${}', 2, 'a variable name', '"}"'],
    ['${a b}', 3, '"}" to close the variable', '" "'],
    ['$a', 1, '"{" after "$"', '"a"'],
    ['', 0, 'an operand', 'end of input'],
    ['1 < 2 < 3', 6, '"and", "or" or end of input', '"<"'],
    ['"a\\qb"', 2, String.raw`an escape (\' \" \\ \n \t)`, '"\\\\q"'],
    ['len ${a}', 4, '"(" after len', '"${a}"'],
    ['len(${a}, ${b})', 8, '")" to close len(', '","'],
    ['1.', 2, 'a digit after "."', 'end of input'],
    ['${a} > - 1', 7, 'an operand', '"-"'],
    ['${a} == null', 8, 'an operand', '"null"'],
    ['${a} ${b}', 5, 'an operator or end of input', '"${b}"'],
    ['${a} && ${b}', 6, 'an operand', '"&"'],
    ['()', 1, 'an operand', '")"'],
    ['not', 3, 'an operand', 'end of input'],
  ];
  it.each(cases)('%j is rejected at position %i', (source, position, expected, found) => {
    const error = syntaxError(source);
    expect(error.code).toBe(ErrorCode.INVALID_EXPRESSION);
    expect(error.position).toBe(position);
    expect(error.details).toEqual({ source, position, expected, found });
    expect(error.message.split('\n')[0]).toMatch(new RegExp(`^Invalid expression at position ${position} \\(`));
  });

  it('formats the message with the source and a caret under the position', () => {
    const error = syntaxError('${a} >> 2');
    expect(error.message).toBe('Invalid expression at position 6 ("${a} >> 2"): expected an operand, found ">"\n  ${a} >> 2\n        ^');
    expect(isHandoffError(error)).toBe(true);
    expect(error.toJSON()).toMatchObject({ code: 'INVALID_EXPRESSION', details: { position: 6 } });
  });

  it('adds hints for common mistakes', () => {
    expect(syntaxError('foo(${a})').message).toContain('the only function is len');
    expect(syntaxError('${a} = 1').message).toContain('use "==" to compare');
    expect(syntaxError('${a} + 1').message).toContain('arithmetic is not supported');
    expect(syntaxError('1 < 2 < 3').message).toContain('comparisons cannot be chained');
  });

  it(`bounds nesting at ${MAX_EXPRESSION_DEPTH} levels and input at ${MAX_EXPRESSION_LENGTH} characters`, () => {
    const nested = (n: number) => `${'('.repeat(n)}\${a}${')'.repeat(n)}`;
    expect(ContextExpression.parse(nested(64)).evaluate({ a: 1 })).toBe(true);
    expect(syntaxError(nested(65)).position).toBe(64);
    expect(ContextExpression.parse(`${'!'.repeat(64)}\${a}`).evaluate({ a: 1 })).toBe(true);
    expect(syntaxError(`${'!'.repeat(65)}\${a}`).position).toBe(64);
    expect(syntaxError(`${'not ('.repeat(33)}\${a}${')'.repeat(33)}`).position).toBe(160);

    const longest = `\${a}${' '.repeat(MAX_EXPRESSION_LENGTH - 4)}`;
    expect(ContextExpression.parse(longest).evaluate({ a: true })).toBe(true);
    const tooLong = syntaxError(`${longest} `);
    expect(tooLong.position).toBe(MAX_EXPRESSION_LENGTH);
    expect(tooLong.details).toMatchObject({ found: `${MAX_EXPRESSION_LENGTH + 1} characters` });
    expect(tooLong.message.length).toBeLessThan(400);
  });

  it('evaluates a long flat chain without deep recursion', () => {
    const source = Array.from({ length: 800 }, () => '${a}').join('&');
    expect(ContextExpression.parse(source).evaluate({ a: 1 })).toBe(true);
  });
});

describe('ContextExpression: API', () => {
  it('lists every referenced variable once, in order of first appearance', () => {
    expect(ContextExpression.parse('${a} and ${b} or ${a} and len(${c}) > ${d}').variables).toEqual(['a', 'b', 'c', 'd']);
    expect(ContextExpression.parse('true').variables).toEqual([]);
  });

  it('serialises as its source and is immutable', () => {
    const expression = ContextExpression.parse('${x} >= 1');
    expect(JSON.stringify({ when: expression })).toBe('{"when":"${x} >= 1"}');
    expect(Object.isFrozen(expression)).toBe(true);
    expect(Object.isFrozen(expression.variables)).toBe(true);
  });

  it('parseCondition: a variable name means its truthiness; anything with ${ is an expression', () => {
    const byName = parseCondition('logged_in');
    expect(byName.source).toBe('${logged_in}');
    expect(byName.variables).toEqual(['logged_in']);
    expect(byName.evaluate({ logged_in: 'yes' })).toBe(true);
    expect(byName.evaluate({ logged_in: [] })).toBe(false);
    expect(parseCondition('  is_vip ').source).toBe('${is_vip}');
    expect(parseCondition('${n} > 1').evaluate({ n: 2 })).toBe(true);
    const notAName = thrown(() => parseCondition('not logged_in')) as ExpressionSyntaxError;
    expect(notAName).toBeInstanceOf(ExpressionSyntaxError);
    expect(notAName.position).toBe(3);
    expect((thrown(() => parseCondition('')) as ExpressionSyntaxError).position).toBe(0);
  });

  it('interpolateContext fills ${name} with strings as they are and other values as JSON', () => {
    expect(interpolateContext('Tier: ${tier}, n=${n}', { tier: 'gold', n: 3 })).toBe('Tier: gold, n=3');
    expect(interpolateContext('${o} ${l} ${z} ${b}', { o: { a: 1 }, l: [1, 'x'], z: null, b: false })).toBe('{"a":1} [1,"x"] null false');
    expect(interpolateContext('cost: $${p}; ${ p} ${ and ${', { p: 5 })).toBe('cost: $5; ${ p} ${ and ${');
    expect(interpolateContext('no variables', {})).toBe('no variables');
    const error = thrown(() => interpolateContext('Hi ${who}', { tier: 'gold' }));
    expect(error).toBeInstanceOf(MissingContextVariableError);
    expect((error as MissingContextVariableError).details).toEqual({ variable: 'who', available: ['tier'] });
  });
});

// ---------------------------------------------------------------------------------------------
// Property tests
// ---------------------------------------------------------------------------------------------

/** A generated tree: an ExpressionNode without positions. */
type Gen =
  | { kind: 'or' | 'and'; operands: Gen[] }
  | { kind: 'not'; operand: Gen }
  | { kind: 'compare'; operator: '>' | '<' | '>=' | '<=' | '==' | '!='; left: Gen; right: Gen }
  | { kind: 'variable'; name: string }
  | { kind: 'len'; variable: { kind: 'variable'; name: string } }
  | { kind: 'literal'; value: number | string | boolean };

/** The tree without positions, to compare with a generated one. */
function strip(node: ExpressionNode): Gen {
  switch (node.kind) {
    case 'or':
    case 'and':
      return { kind: node.kind, operands: node.operands.map(strip) };
    case 'not':
      return { kind: 'not', operand: strip(node.operand) };
    case 'compare':
      return { kind: 'compare', operator: node.operator, left: strip(node.left), right: strip(node.right) };
    case 'variable':
      return { kind: 'variable', name: node.name };
    case 'len':
      return { kind: 'len', variable: { kind: 'variable', name: node.variable.name } };
    case 'literal':
      return { kind: 'literal', value: node.value };
  }
}

const nameArb = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_.-]{0,6}$/);
const numberTextArb = fc.stringMatching(/^-?[0-9]{1,6}(\.[0-9]{1,4})?$/);
const genArb = fc.letrec<{ expr: Gen; atom: Gen }>((tie) => ({
  expr: fc.oneof(
    { maxDepth: 5, depthSize: 'small' },
    tie('atom'),
    fc.record({ kind: fc.constantFrom('or' as const, 'and' as const), operands: fc.array(tie('expr'), { minLength: 2, maxLength: 3 }) }),
    fc.record({ kind: fc.constant('not' as const), operand: tie('expr') }),
    fc.record({
      kind: fc.constant('compare' as const),
      operator: fc.constantFrom('>' as const, '<' as const, '>=' as const, '<=' as const, '==' as const, '!=' as const),
      left: tie('expr'),
      right: tie('expr'),
    }),
  ),
  atom: fc.oneof(
    nameArb.map((name): Gen => ({ kind: 'variable', name })),
    nameArb.map((name): Gen => ({ kind: 'len', variable: { kind: 'variable', name } })),
    numberTextArb.map((text): Gen => ({ kind: 'literal', value: Number(text) })),
    fc.string({ maxLength: 8 }).map((value): Gen => ({ kind: 'literal', value })),
    fc.boolean().map((value): Gen => ({ kind: 'literal', value })),
  ),
}));

/** Prints a generated tree as source, with random spacing, spellings and redundant parentheses. */
function print(tree: Gen, seed: number): string {
  let state = seed >>> 0 || 1;
  const random = (n: number): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) % n;
  };
  const pick = <T,>(...options: T[]): T => options[random(options.length)] as T;
  const ws = () => pick('', '', ' ', '  ', '\n', '\t');
  const ws1 = () => pick(' ', ' ', '\n ', '\t');
  const literal = (value: number | string | boolean): string => {
    if (typeof value === 'boolean') return value ? pick('true', 'True') : pick('false', 'False');
    if (typeof value === 'number') return Object.is(value, -0) ? '-0' : String(value);
    const quote = pick("'", '"');
    let body = '';
    for (const ch of value) {
      if (ch === quote || ch === '\\') body += `\\${ch}`;
      else if (ch === '\n') body += '\\n';
      else if (ch === '\t') body += pick('\\t', '\t');
      else if ((ch === "'" || ch === '"') && random(2) === 0) body += `\\${ch}`;
      else body += ch;
    }
    return `${quote}${body}${quote}`;
  };
  const paren = (s: string) => `(${ws()}${s}${ws()})`;
  const maybeParen = (s: string) => (random(6) === 0 ? paren(s) : s);
  const go = (node: Gen): string => {
    switch (node.kind) {
      case 'or':
        return node.operands
          .map((op) => (op.kind === 'or' ? paren(go(op)) : go(op)))
          .map(maybeParen)
          .join(pick(`${ws1()}or${ws1()}`, `${ws()}|${ws()}`));
      case 'and':
        return node.operands
          .map((op) => (op.kind === 'or' || op.kind === 'and' ? paren(go(op)) : go(op)))
          .map(maybeParen)
          .join(pick(`${ws1()}and${ws1()}`, `${ws()}&${ws()}`));
      case 'not': {
        const inner = node.operand.kind === 'or' || node.operand.kind === 'and' ? paren(go(node.operand)) : go(node.operand);
        return pick(`not${ws1()}${inner}`, `!${ws()}${inner}`);
      }
      case 'compare': {
        const side = (n: Gen) => (n.kind === 'or' || n.kind === 'and' || n.kind === 'not' || n.kind === 'compare' ? paren(go(n)) : maybeParen(go(n)));
        return `${side(node.left)}${ws()}${node.operator}${ws()}${side(node.right)}`;
      }
      case 'variable':
        return `\${${node.name}}`;
      case 'len':
        return `len${ws()}(${ws()}\${${node.variable.name}}${ws()})`;
      case 'literal':
        return literal(node.value);
    }
  };
  return `${ws()}${go(tree)}${ws()}`;
}

const tokenSoupArb = fc
  .tuple(
    fc.array(
      fc.constantFrom(
        '${a}', '${b.c-d}', '${ x}', '${}', '${', '(', ')', 'and', 'or', 'not', '&', '|', '!', '==', '!=', '<', '<=', '>', '>=',
        '=', 'len', 'len(', '1', '-2.5', '1.', '"s"', "'t\\n'", "'", '"', '\\', 'true', 'False', 'foo', 'null', '+', '-', '.', ',', '$', '}',
      ),
      { maxLength: 16 },
    ),
    fc.constantFrom('', ' '),
  )
  .map(([parts, separator]) => parts.join(separator));

/** Parses, and if that works evaluates against `context`; returns only if any throw is an expression error. */
function parseAndMaybeEvaluate(source: string, context: Record<string, unknown>): void {
  let expression: ContextExpression;
  try {
    expression = ContextExpression.parse(source);
  } catch (error) {
    expect(error).toBeInstanceOf(ExpressionSyntaxError);
    const position = (error as ExpressionSyntaxError).position;
    expect(position).toBeGreaterThanOrEqual(0);
    expect(position).toBeLessThanOrEqual(source.length);
    return;
  }
  try {
    expect(typeof expression.evaluate(context)).toBe('boolean');
  } catch (error) {
    expect(error instanceof ExpressionEvaluationError || error instanceof MissingContextVariableError).toBe(true);
    expect(error).toBeInstanceOf(HandoffError);
  }
}

describe('ContextExpression: properties', () => {
  it('never throws anything but ExpressionSyntaxError on arbitrary strings', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 60 }), fc.string({ unit: 'binary', maxLength: 60 })), (source) => {
        parseAndMaybeEvaluate(source, {});
      }),
      { numRuns: 3000 },
    );
  });

  it('never throws anything but expression errors on token soup, parsed and evaluated', () => {
    fc.assert(
      fc.property(tokenSoupArb, fc.jsonValue({ maxDepth: 2 }), fc.jsonValue({ maxDepth: 2 }), (source, a, b) => {
        parseAndMaybeEvaluate(source, { a, 'b.c-d': b });
      }),
      { numRuns: 3000 },
    );
  });

  it('parses printed trees back to the same tree, and parse(source) is stable', () => {
    fc.assert(
      fc.property(genArb.expr, fc.integer(), (tree, seed) => {
        const source = print(tree, seed);
        const expression = ContextExpression.parse(source);
        expect(strip(expression.ast)).toEqual(tree);
        const again = ContextExpression.parse(expression.source);
        expect(again.source).toBe(source);
        expect(again.ast).toEqual(expression.ast);
        expect(again.variables).toEqual(expression.variables);
      }),
      { numRuns: 1500 },
    );
  });
});
