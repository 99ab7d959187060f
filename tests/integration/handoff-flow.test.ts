import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineAgent, defineNetwork, messageText, type StoredEvent } from '@handoff/core';
import { hasTool, systemIncludes } from '@handoff/testing';
import { startInProcess, type InProcessRuntime } from '../support/in-process.js';

/**
 * A three-agent chain with context: checks that history and context variables survive every hop —
 * each agent's request to the model carries the whole prior conversation — and that the events
 * come in order.
 */
describe('handoffs carry history and context', () => {
  let rt: InProcessRuntime;
  beforeAll(async () => {
    rt = await startInProcess({
      label: 'flow',
      network: (url) => {
        const model = { name: 'scripted', baseURL: url, apiKey: 'test', maxRetries: 0 };
        return defineNetwork({
          name: 'triage',
          // Keep the transfer calls in the history the next agents see, to check it is all there.
          keepTransferMessages: true,
          agents: [
            defineAgent({ name: 'Triage', description: 'Routes', instructions: 'You are Triage.', model, handoffs: ['Tech'] }),
            defineAgent({ name: 'Tech', description: 'Tech issues', instructions: 'You are Tech.', model, handoffs: ['Escalation'] }),
            defineAgent({ name: 'Escalation', description: 'Hard cases', instructions: 'You are Escalation.', model }),
          ],
        });
      },
      rules: [
        { when: hasTool('transfer_to_Tech'), reply: { content: 'Let me find the right person. ', toolCalls: [{ name: 'transfer_to_Tech', arguments: { reason: 'technical' } }] } },
        { when: hasTool('transfer_to_Escalation'), reply: { toolCalls: [{ name: 'transfer_to_Escalation', arguments: { reason: 'needs escalation' } }] } },
        { when: systemIncludes('You are Escalation.'), reply: { content: 'Escalation: fixed it for you.' } },
      ],
    });
  });
  afterAll(() => rt.close());

  it('moves through every agent and ends with the last answer', async () => {
    const readAheadBefore = rt.workers.historyCache.readAhead.used;
    const conversation = await rt.client.start({ agent: 'Triage', input: 'My laptop will not boot', context: { customerTier: 'gold', tickets: 2 } });
    const result = await conversation.result({ timeoutMs: 15_000 });
    expect(result).toMatchObject({
      status: 'completed',
      reason: 'final_output',
      output: 'Escalation: fixed it for you.',
      agent: 'Escalation',
      path: ['Triage', 'Tech', 'Escalation'],
      context: { customerTier: 'gold', tickets: 2 },
    });

    // The last agent's request holds its instructions, then the whole conversation so far.
    const requests = rt.model.requests;
    expect(requests).toHaveLength(3);
    const last = requests[2]!.body.messages;
    expect(last[0]).toEqual({ role: 'system', content: 'You are Escalation.' });
    expect(last.slice(1).map((m) => m.role)).toEqual(['user', 'assistant', 'tool', 'assistant', 'tool']);
    expect(last[1]).toEqual({ role: 'user', content: 'My laptop will not boot' });
    expect(last[2]).toMatchObject({ role: 'assistant', content: 'Let me find the right person. ', tool_calls: [{ function: { name: 'transfer_to_Tech' } }] });
    expect(last[4]).toMatchObject({ role: 'assistant', tool_calls: [{ function: { name: 'transfer_to_Escalation' } }] });
    // Every request extends the previous one: nothing is lost between hops.
    const secondHistory = requests[1]!.body.messages.slice(1);
    expect(last.slice(1, 1 + secondHistory.length)).toEqual(secondHistory);

    const history = await rt.client.conversation(conversation.id).status();
    expect(history.appliedSeq).toBe(3);
    const stored = await rt.redis.lrange(`${rt.prefix}:conv:{${conversation.id}}:history`, 0, -1);
    expect(stored.map((m) => JSON.parse(m).role)).toEqual(['user', 'assistant', 'tool', 'assistant', 'tool', 'assistant']);
    expect(messageText(JSON.parse(stored[5]!))).toBe('Escalation: fixed it for you.');
    // Each agent's worker waited for its hop, and was woken by a marker naming it: the turn input
    // was read together with the take (a wake-up that raced a take may miss one).
    expect(rt.workers.historyCache.readAhead.used - readAheadBefore).toBeGreaterThanOrEqual(2);
  });

  it('streams events in order, and a late subscriber sees them all', async () => {
    const conversation = await rt.client.start({ agent: 'Triage', input: 'Printer on fire' });
    await conversation.result({ timeoutMs: 15_000 });
    const events: StoredEvent[] = [];
    for await (const event of conversation.events()) events.push(event);
    const milestones = events.filter((e) => e.type !== 'text.delta' && e.type !== 'tool.called' && e.type !== 'tool.result');
    expect(milestones.map((e) => (e.type === 'handoff' ? `handoff:${e.from}>${e.to}:${e.reason}` : 'agent' in e ? `${e.type}:${e.agent}` : e.type))).toEqual([
      'conversation.started',
      'agent.started:Triage',
      'agent.completed:Triage',
      'handoff:Triage>Tech:technical',
      'agent.started:Tech',
      'agent.completed:Tech',
      'handoff:Tech>Escalation:needs escalation',
      'agent.started:Escalation',
      'agent.completed:Escalation',
      'conversation.completed',
    ]);
    const text = events.filter((e) => e.type === 'text.delta').map((e) => (e.type === 'text.delta' ? e.text : '')).join('');
    expect(text).toBe('Let me find the right person. Escalation: fixed it for you.');
    // Event ids are strictly increasing.
    const ids = events.map((e) => e.id);
    expect([...ids].sort((a, b) => (a.localeCompare(b, 'en', { numeric: true })))).toEqual(ids);
  });
});
