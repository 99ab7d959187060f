import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_MODEL_NAME, defineAgent, defineNetwork } from '../dist/index.js';

/** HANDOFF_MODEL is the model of agents that name none, in every process that loads the network (workers too). */
describe('HANDOFF_MODEL', () => {
  const saved = process.env.HANDOFF_MODEL;
  afterEach(() => {
    if (saved === undefined) delete process.env.HANDOFF_MODEL;
    else process.env.HANDOFF_MODEL = saved;
  });
  const network = () =>
    defineNetwork({ name: 'n', agents: [defineAgent({ name: 'A', instructions: 'a' }), defineAgent({ name: 'B', instructions: 'b', model: 'named-model' })] });

  it('names the model of agents without one; an agent that names its model keeps it', () => {
    process.env.HANDOFF_MODEL = 'llama3.1';
    const n = network();
    expect(n.agent('A').resolvedModel.name).toBe('llama3.1');
    expect(n.agent('B').resolvedModel.name).toBe('named-model');
  });

  it('falls back to the default when unset', () => {
    delete process.env.HANDOFF_MODEL;
    expect(network().agent('A').resolvedModel.name).toBe(DEFAULT_MODEL_NAME);
  });
});
