import { afterAll, describe, expect, it } from 'vitest';
import { defineNetwork, to, type NetworkDefinition, type Pattern } from '@handoff/core';
import { systemText, type ScriptRule } from '@handoff/testing';
import { startInProcess, type InProcessRuntime } from '../support/in-process.js';
import { scriptedAgent, when } from '../support/scripted-agents.js';

/** A network of A, B and C under a pattern; C ends the conversation through its transfer to terminate. */
function team(url: string, pattern: Pattern, maxHops = 6): NetworkDefinition {
  return defineNetwork({
    name: `team-${pattern}`,
    pattern,
    maxHops,
    agents: [
      scriptedAgent(url, 'A'),
      scriptedAgent(url, 'B'),
      scriptedAgent(url, 'C', { handoffs: [{ target: to.terminate(), toolName: 'finish' }] }),
    ],
  });
}

const rules: ScriptRule[] = [
  { name: 'manager', when: (req) => (systemText(req) ?? '').includes('role play game'), reply: (req) => ({ content: JSON.stringify(req.body.messages).includes('from B') ? 'C' : 'B' }) },
  when('A', { content: 'from A' }),
  when('B', { content: 'from B' }),
  when('C', { content: 'from C', toolCalls: [{ name: 'finish', arguments: {} }] }),
];

async function runtime(label: string, pattern: Pattern, maxHops?: number): Promise<InProcessRuntime> {
  return startInProcess({ label, network: (url) => team(url, pattern, maxHops), rules });
}

/** The network presets of AG2: what happens after a turn without a handoff. */
describe('patterns', () => {
  const runtimes: InProcessRuntime[] = [];
  afterAll(() => Promise.all(runtimes.map((r) => r.close())));
  const start = async (pattern: Pattern, maxHops?: number) => {
    const rt = await runtime(`pat-${pattern}`, pattern, maxHops);
    runtimes.push(rt);
    return rt;
  };

  it('default: a turn without a handoff ends the conversation', async () => {
    const rt = await start('default');
    expect(await (await rt.client.start({ agent: 'A', input: 'go' })).result({ timeoutMs: 10_000 })).toMatchObject({ status: 'completed', output: 'from A', path: ['A'] });
  });

  it('auto: the group manager picks each next speaker', async () => {
    const rt = await start('auto');
    const result = await (await rt.client.start({ agent: 'A', input: 'go' })).result({ timeoutMs: 10_000 });
    expect(result).toMatchObject({ status: 'completed', output: 'from C', path: ['A', 'B', 'C'] });
  });

  it('round robin: the agents speak in their fixed order', async () => {
    const rt = await start('round_robin', 5);
    const result = await (await rt.client.start({ agent: 'B', input: 'go' })).result({ timeoutMs: 10_000 });
    expect(result).toMatchObject({ status: 'completed', path: ['B', 'C'] });
    const fromA = await (await rt.client.start({ agent: 'A', input: 'again' })).result({ timeoutMs: 10_000 });
    expect(fromA.path).toEqual(['A', 'B', 'C']);
  });

  it('random: a random other agent speaks next, never the same twice in a row', async () => {
    const rt = await start('random', 8);
    for (let i = 0; i < 5; i++) {
      const result = await (await rt.client.start({ agent: 'A', input: `go ${i}` })).result({ timeoutMs: 10_000 });
      expect(['completed', 'failed']).toContain(result.status);
      for (let k = 1; k < result.path.length; k++) expect(result.path[k]).not.toBe(result.path[k - 1]);
      if (result.status === 'completed') expect(result.path.at(-1)).toBe('C');
      else expect(result.reason).toBe('max_hops_exceeded');
    }
  });

  it('manual: the user picks who speaks after every turn', async () => {
    const rt = await start('manual');
    const conversation = await rt.client.start({ agent: 'A', input: 'go' });
    expect(await conversation.result({ timeoutMs: 10_000 })).toMatchObject({ status: 'awaiting_user', waiting: { mode: 'ask', choices: ['A', 'B', 'C'] } });
    await conversation.send('B please', { agent: 'B' });
    expect(await conversation.result({ timeoutMs: 10_000 })).toMatchObject({ status: 'awaiting_user', output: 'from B', path: ['A', 'B'] });
    await conversation.send('C');
    expect(await conversation.result({ timeoutMs: 10_000 })).toMatchObject({ status: 'completed', output: 'from C', path: ['A', 'B', 'C'] });
  });
});
