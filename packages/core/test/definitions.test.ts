import { describe, expect, it } from 'vitest';
import { DefinitionError, ErrorCode, UnknownAgentError, defineAgent, defineNetwork, to } from '../dist/index.js';

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
        'entry: "Z" is not an agent or router of the network',
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

describe('rules and targets in a network', () => {
  it('rejects an expression that does not parse, with the agent, the rule and the position', () => {
    const bad = defineAgent({ name: 'A', instructions: 'x', contextConditions: [{ target: 'B', condition: '${severity} >> 8' }] });
    expect(() => defineNetwork({ name: 'n', agents: [bad, agent('B')] })).toThrowError(
      /agent "A" context condition 1 condition: Invalid expression at position 13 \("\$\{severity\} >> 8"\): expected an operand, found ">"/,
    );
  });

  it('rejects targets that name agents not in the network, wherever they are', () => {
    const a = defineAgent({
      name: 'A',
      instructions: 'x',
      handoffs: [{ target: to.random(['B', 'Ghost']) }],
      afterWork: [{ target: to.nestedChat([{ agent: 'Phantom' }]) }],
    });
    let caught: DefinitionError | undefined;
    try {
      defineNetwork({ name: 'n', agents: [a, agent('B')], afterWork: to.askUser({ choices: ['Nobody'] }) });
    } catch (error) {
      caught = error as DefinitionError;
    }
    expect(caught?.details?.issues).toEqual([
      'agent "A" handoff 1 (transfer_to_random): target "Ghost" is not in the network (it has: A, B)',
      'agent "A" after-work rule 1: target "Phantom" is not in the network (it has: A, B)',
      'afterWork: target "Nobody" is not in the network (it has: A, B)',
    ]);
  });

  it('allows cycles: the development-team mesh where everyone hands to everyone', () => {
    const names = ['TechLead', 'BackendDev', 'FrontendDev', 'DevOps'];
    const team = names.map((name) => defineAgent({ name, instructions: `You are ${name}.`, handoffs: names.filter((n) => n !== name) }));
    const network = defineNetwork({ name: 'dev-team', agents: team, entry: 'TechLead' });
    expect(network.agent('DevOps').handoffs.map((h) => h.toolName)).toEqual(['transfer_to_TechLead', 'transfer_to_BackendDev', 'transfer_to_FrontendDev']);
    expect(network.transferToolNames.size).toBe(4);
  });

  it('gives each pattern its after-work', () => {
    const agents = [agent('A'), agent('B'), agent('C')];
    const types = (pattern: 'default' | 'auto' | 'round_robin' | 'random' | 'manual') =>
      defineNetwork({ name: 'n', agents, pattern }).agent('C').compiledAfterWork.map((r) => r.target);
    expect(types('default')).toEqual([{ type: 'terminate' }]);
    expect(types('auto')).toEqual([{ type: 'group_manager', candidates: ['A', 'B'] }]);
    expect(types('round_robin')).toEqual([{ type: 'agent', agent: 'A' }]);
    expect(types('random')).toEqual([{ type: 'random', agents: ['A', 'B', 'C'] }]);
    expect(types('manual')).toEqual([{ type: 'ask_user', choices: ['A', 'B', 'C'] }]);
  });
});
