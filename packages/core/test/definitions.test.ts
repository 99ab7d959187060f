import { describe, expect, it } from 'vitest';
import { DefinitionError, ErrorCode, UnknownAgentError, defineAgent, defineNetwork } from '../dist/index.js';

const agent = (name: string, handoffs: string[] = []) => defineAgent({ name, instructions: `You are ${name}.`, handoffs });

describe('defineAgent', () => {
  it('applies defaults and names transfer tools after their target', () => {
    const a = defineAgent({ name: 'EnglishAgent', instructions: 'Only English', handoffs: ['SpanishAgent', { agent: 'Billing', description: 'money' }] });
    expect(a.handoffs).toMatchObject([
      { target: { type: 'agent', agent: 'SpanishAgent' }, agent: 'SpanishAgent', toolName: 'transfer_to_SpanishAgent' },
      { target: { type: 'agent', agent: 'Billing' }, agent: 'Billing', description: 'money', toolName: 'transfer_to_Billing' },
    ]);
    expect(a.maxToolRounds).toBe(8);
    expect(Object.isFrozen(a)).toBe(true);
  });

  it('rejects a bad name and empty instructions, naming both fields', () => {
    let caught: unknown;
    try {
      defineAgent({ name: 'has space', instructions: '' });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(DefinitionError);
    const error = caught as DefinitionError;
    expect(error.code).toBe(ErrorCode.INVALID_DEFINITION);
    expect(error.message).toMatch(/name: must start with a letter/);
    expect(error.message).toMatch(/instructions: must not be empty/);
  });
});

describe('defineNetwork', () => {
  it('rejects a handoff to an agent that is not in the network, saying which', () => {
    expect(() => defineNetwork({ name: 'n', agents: [agent('A', ['Ghost'])] })).toThrowError(
      /agent "A" handoff 1 \(transfer_to_Ghost\): target "Ghost" is not in the network \(it has: A\)/,
    );
  });

  it('lists every problem at once: duplicates, self-handoff, unknown entry', () => {
    let caught: DefinitionError | undefined;
    try {
      defineNetwork({ name: 'n', agents: [agent('A', ['A']), agent('A')], entry: 'Z' });
    } catch (error) {
      caught = error as DefinitionError;
    }
    expect(caught?.details?.issues).toEqual(
      expect.arrayContaining([
        'agents: two agents are named "A"',
        'agent "A": hands off to itself (use the stay target to keep control)',
        'entry: "Z" is not an agent of the network',
      ]),
    );
  });

  it('defaults the entry to the first agent and maxHops to 10, and resolves model settings', () => {
    const network = defineNetwork({
      name: 'n',
      agents: [defineAgent({ name: 'A', instructions: 'x', model: 'small', handoffs: ['B'] }), agent('B', ['A'])],
      model: { name: 'big', baseURL: 'http://127.0.0.1:1/v1', maxRetries: 1 },
    });
    expect(network.entry).toBe('A');
    expect(network.maxHops).toBe(10);
    expect(network.agent('A').resolvedModel).toMatchObject({ name: 'small', baseURL: 'http://127.0.0.1:1/v1', maxRetries: 1 });
    expect(network.agent('B').resolvedModel.name).toBe('big');
  });

  it('answers an unknown agent lookup with UnknownAgentError listing the agents', () => {
    const network = defineNetwork({ name: 'n', agents: [agent('A')] });
    expect(() => network.agent('Nope', 'Entry agent')).toThrowError(UnknownAgentError);
    expect(() => network.agent('Nope', 'Entry agent')).toThrowError('Entry agent: unknown agent "Nope". The network has: A.');
    expect(() => network.agent('__proto__')).toThrowError(UnknownAgentError);
  });
});
