import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { z as z3 } from 'zod/v3';
import { DefinitionError, ErrorCode, defineAgent, defineNetwork, defineTool } from '../dist/index.js';

/** Runs `fn` and returns what it threw (fails the test if it did not throw). */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

/**
 * zod is a peer dependency (^4.1.0): a schema built with zod 3 — here zod's own `zod/v3` build,
 * the same classes as the zod 3 package — is refused when the definition is made, with a typed
 * error naming the fix, not a crash in JSON Schema generation at worker start.
 */
describe('zod 3 schemas', () => {
  it('defineTool refuses zod 3 parameters with INVALID_DEFINITION naming zod 4', () => {
    const error = thrown(() =>
      defineTool({ name: 'look_up', description: 'd', parameters: z3.object({ word: z3.string() }) as never, handler: () => 'x' }),
    );
    expect(error).toBeInstanceOf(DefinitionError);
    expect((error as DefinitionError).code).toBe(ErrorCode.INVALID_DEFINITION);
    expect((error as Error).message).toBe(
      'Tool "look_up": parameters is a zod 3 schema; Handoff needs zod 4 (its peer dependency, ^4.1.0). Install it (npm install zod@^4.1.0) and build the schema with `import { z } from \'zod\'`',
    );
  });

  it('defineAgent refuses zod 3 handoff arguments the same way', () => {
    const error = thrown(() =>
      defineNetwork({
        name: 'n',
        agents: [
          defineAgent({ name: 'A', instructions: 'a', handoffs: [{ agent: 'B', args: z3.object({ reason: z3.string() }) as never }] }),
          defineAgent({ name: 'B', instructions: 'b' }),
        ],
      }),
    );
    expect(error).toBeInstanceOf(DefinitionError);
    expect((error as Error).message).toContain('is a zod 3 schema; Handoff needs zod 4');
  });

  it('defineAgent and defineNetwork refuse a zod 3 context schema the same way', () => {
    for (const define of [
      () => defineAgent({ name: 'A', instructions: 'a', context: z3.object({ tier: z3.string() }) as never }),
      () => defineNetwork({ name: 'n', context: z3.object({ tier: z3.string() }) as never, agents: [defineAgent({ name: 'A', instructions: 'a' })] }),
    ]) {
      const error = thrown(define);
      expect(error).toBeInstanceOf(DefinitionError);
      expect((error as Error).message).toMatch(/context: is a zod 3 schema; Handoff needs zod 4/);
    }
  });

  it('accepts zod 4 schemas', () => {
    expect(defineTool({ name: 'ok', description: 'd', parameters: z.object({ a: z.string() }), handler: () => 'x' }).name).toBe('ok');
    expect(() => defineAgent({ name: 'A', instructions: 'a', handoffs: [{ agent: 'B', args: z.object({ r: z.string() }) }] })).not.toThrow();
  });
});
