import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineNetwork, to } from '@handoff/core';
import { lastUserText, systemText, type RecordedRequest } from '@handoff/testing';
import { startInProcess, type InProcessRuntime } from '../support/in-process.js';
import { by, call, scriptedAgent, toolNames, toolResults, when } from '../support/scripted-agents.js';

const descriptionOf = (req: RecordedRequest, tool: string) => req.body.tools?.find((t) => t.function?.name === tool)?.function?.description;

/** The handoff rules of an agent, in AG2's order, with availability, templates and typed arguments. */
describe('handoff rules', () => {
  let rt: InProcessRuntime;
  beforeAll(async () => {
    rt = await startInProcess({
      label: 'rules',
      network: (url) =>
        defineNetwork({
          name: 'rules',
          agents: [
            scriptedAgent(url, 'Desk', {
              handoffs: [
                { agent: 'Vip', description: 'For customers of tier ${tier}.', available: '${tier} == "gold"' },
                { agent: 'Fulfil', args: z.object({ orderId: z.string().describe('The order to ship') }) },
              ],
              contextConditions: [{ target: 'Fast', condition: '${skip_queue}', available: 'fast_lane_open' }],
              afterWork: [{ target: 'Vip', condition: 'len(${vip_notes}) > 0' }, { target: to.terminate() }],
            }),
            scriptedAgent(url, 'Vip'),
            scriptedAgent(url, 'Fulfil'),
            scriptedAgent(url, 'Fast'),
            scriptedAgent(url, 'Strict', { contextConditions: [{ target: 'Fast', condition: '${undeclared_flag}' }] }),
            scriptedAgent(url, 'Greedy', { handoffs: ['Vip', 'Fulfil'] }),
          ],
        }),
      rules: [
        when('Desk', (req) => {
          const text = lastUserText(req) ?? '';
          if (text.startsWith('ship')) return toolResults(req).length === 0 ? call('transfer_to_Fulfil', { orderId: 7 }) : call('transfer_to_Fulfil', { orderId: 'A1', reason: 'ready to ship' });
          return { content: `Desk answers: ${text}` };
        }),
        when('Vip', { content: 'VIP desk.' }),
        when('Fulfil', { content: 'Shipping.' }),
        when('Fast', { content: 'Fast lane.' }),
        when('Greedy', { toolCalls: [{ name: 'transfer_to_Vip', arguments: { reason: 'first' } }, { name: 'transfer_to_Fulfil', arguments: { reason: 'second' } }] }),
      ],
    });
  });
  afterAll(() => rt.close());

  const requestsOf = (agent: string, input: string) => rt.model.requests.filter((r) => by(agent)(r) && r.body.messages.some((m) => m.role === 'user' && m.content === input));

  it('offers an LLM condition only while available, with its description filled from the context', async () => {
    const gold = await (await rt.client.start({ agent: 'Desk', input: 'hello gold', context: { tier: 'gold', vip_notes: [], fast_lane_open: false } })).result({ timeoutMs: 10_000 });
    expect(gold.status).toBe('completed');
    const goldRequest = requestsOf('Desk', 'hello gold')[0]!;
    expect(toolNames(goldRequest)).toEqual(['transfer_to_Vip', 'transfer_to_Fulfil']);
    expect(descriptionOf(goldRequest, 'transfer_to_Vip')).toBe('For customers of tier gold.');

    await (await rt.client.start({ agent: 'Desk', input: 'hello silver', context: { tier: 'silver', vip_notes: [], fast_lane_open: false } })).result({ timeoutMs: 10_000 });
    expect(toolNames(requestsOf('Desk', 'hello silver')[0]!)).toEqual(['transfer_to_Fulfil']);
  });

  it('evaluates context conditions before the model, and only while available', async () => {
    const fast = await (await rt.client.start({ agent: 'Desk', input: 'in a hurry', context: { tier: 'silver', skip_queue: true, fast_lane_open: true, vip_notes: [] } })).result({ timeoutMs: 10_000 });
    expect(fast).toMatchObject({ status: 'completed', agent: 'Fast', path: ['Desk', 'Fast'] });
    expect(requestsOf('Desk', 'in a hurry')).toHaveLength(0);

    const closed = await (await rt.client.start({ agent: 'Desk', input: 'lane closed', context: { tier: 'silver', skip_queue: true, fast_lane_open: false, vip_notes: [] } })).result({ timeoutMs: 10_000 });
    expect(closed).toMatchObject({ agent: 'Desk', path: ['Desk'] });
  });

  it('validates typed handoff arguments, and the target agent sees them', async () => {
    const result = await (await rt.client.start({ agent: 'Desk', input: 'ship my order', context: { tier: 'silver', vip_notes: [], fast_lane_open: false } })).result({ timeoutMs: 10_000 });
    expect(result).toMatchObject({ status: 'completed', agent: 'Fulfil', path: ['Desk', 'Fulfil'] });
    const retry = requestsOf('Desk', 'ship my order')[1]!;
    expect(toolResults(retry).at(-1)).toMatch(/^Error: invalid arguments for transfer_to_Fulfil: orderId: /);
    const fulfil = requestsOf('Fulfil', 'ship my order')[0]!;
    expect(systemText(fulfil)).toContain('Desk handed this conversation to you with these arguments: {"orderId":"A1"}');
    const schema = retry.body.tools?.find((t) => t.function?.name === 'transfer_to_Fulfil')?.function?.parameters as { properties: Record<string, unknown>; required?: string[] };
    expect(Object.keys(schema.properties)).toEqual(['orderId', 'reason']);
    expect(schema.required).toEqual(['orderId']);
  });

  it('follows after-work rules in order: a condition that holds, else the unconditional one', async () => {
    const vip = await (await rt.client.start({ agent: 'Desk', input: 'notes', context: { tier: 'silver', vip_notes: ['likes tea'], fast_lane_open: false } })).result({ timeoutMs: 10_000 });
    expect(vip).toMatchObject({ agent: 'Vip', path: ['Desk', 'Vip'] });
    const none = await (await rt.client.start({ agent: 'Desk', input: 'no notes', context: { tier: 'silver', vip_notes: [], fast_lane_open: false } })).result({ timeoutMs: 10_000 });
    expect(none).toMatchObject({ agent: 'Desk', output: 'Desk answers: no notes', path: ['Desk'] });
  });

  it('ends the conversation with a clear error when a condition names a variable the context lacks', async () => {
    const result = await (await rt.client.start({ agent: 'Strict', input: 'hi', context: { other: 1 } })).result({ timeoutMs: 10_000 });
    expect(result).toMatchObject({ status: 'failed', error: { code: 'MISSING_CONTEXT_VARIABLE', details: { variable: 'undeclared_flag' } } });
  });

  it('takes the first of several transfer calls and answers the others as not taken', async () => {
    const conversation = await rt.client.start({ agent: 'Greedy', input: 'both please' });
    expect(await conversation.result({ timeoutMs: 10_000 })).toMatchObject({ agent: 'Vip', path: ['Greedy', 'Vip'] });
    const history = (await rt.redis.lrange(`${rt.prefix}:conv:{${conversation.id}}:history`, 0, -1)).map((m) => JSON.parse(m));
    const results = history.filter((m) => m.role === 'tool').map((m) => m.content);
    expect(results).toEqual(['{"assistant":"Vip"}', expect.stringMatching(/^Not taken: another handoff in this turn came first/)]);
    // The next agent does not see the transfer calls.
    const vipRequest = requestsOf('Vip', 'both please')[0]!;
    expect(vipRequest.body.messages.map((m) => m.role)).toEqual(['system', 'user']);
  });
});
