import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineNetwork, defineTool, replyResult, to } from '@handoff/core';
import { lastUserText, systemText } from '@handoff/testing';
import { startInProcess, type InProcessRuntime } from '../support/in-process.js';
import { by, call, scriptedAgent, toolNames, when } from '../support/scripted-agents.js';

/** Every target of both seeds, each moving control the way it should, on a real Redis. */
describe('targets', () => {
  let rt: InProcessRuntime;
  let counter = 0;

  beforeAll(async () => {
    rt = await startInProcess({
      label: 'targets',
      network: (url) => {
        const count = defineTool({
          name: 'count',
          description: 'Count one more step',
          parameters: z.object({}),
          handler: (_args, ctx) => {
            const n = Number(ctx.context.n ?? 0) + 1;
            return replyResult({ message: `n is ${n}`, context: { n }, target: n < 3 ? to.stay() : to.terminate() });
          },
        });
        return defineNetwork({
          name: 'targets',
          agents: [
            scriptedAgent(url, 'Stayer', { tools: [count] }),
            scriptedAgent(url, 'Ender', { handoffs: [{ target: to.terminate(), description: 'End the conversation now.', toolName: 'end_conversation' }] }),
            scriptedAgent(url, 'Clerk', { afterWork: to.revertToUser() }),
            scriptedAgent(url, 'Asker', { afterWork: to.askUser({ question: 'Billing or Sales?', choices: ['Billing', 'Sales'] }) }),
            scriptedAgent(url, 'Billing'),
            scriptedAgent(url, 'Sales'),
            scriptedAgent(url, 'Dice', { handoffs: [{ target: to.random(['Dice', 'Billing', 'Sales']), toolName: 'roll' }] }),
            scriptedAgent(url, 'Chair', { afterWork: to.groupManager({ candidates: ['Billing', 'Sales', 'Clerk'] }) }),
            scriptedAgent(url, 'Lead', {
              handoffs: [
                { target: to.nestedChat([{ agent: 'Researcher' }, { agent: 'Writer' }]), toolName: 'research_and_write' },
                { target: to.groupChat({ entry: 'Researcher', agents: ['Researcher', 'Writer'], pattern: 'round_robin', maxHops: 2 }), toolName: 'group_chat' },
              ],
            }),
            scriptedAgent(url, 'Researcher'),
            scriptedAgent(url, 'Writer', { afterWork: [{ target: to.terminate() }] }),
          ],
        });
      },
      rules: [
        when('Stayer', call('count')),
        when('Ender', { content: 'Wrapping up.', toolCalls: [{ name: 'end_conversation', arguments: { reason: 'done' } }] }),
        when('Clerk', (req) => ({ content: lastUserText(req) === 'my order is 42' ? 'Order 42 ships tomorrow.' : 'What is your order number?' })),
        when('Asker', { content: 'Do you want Billing or Sales?' }),
        when('Billing', { content: 'Billing speaking.' }),
        when('Sales', { content: 'Sales speaking.' }),
        when('Dice', call('roll')),
        when('Chair', { content: 'Let me get the right person.' }),
        { name: 'group manager', when: (req) => (systemText(req) ?? '').includes('role play game'), reply: () => ({ content: counter++ === 0 ? 'Hmm.' : counter === 2 ? 'Billing or Sales' : 'Sales' }) },
        when('Lead', (req) =>
          lastUserText(req)?.startsWith('Result of the nested chat') ? { content: `Lead: ${lastUserText(req)}` } : call(lastUserText(req)?.includes('group') ? 'group_chat' : 'research_and_write'),
        ),
        when('Researcher', (req) => ({ content: `research on "${lastUserText(req)}"` })),
        when('Writer', (req) => ({ content: `article from ${lastUserText(req)}` })),
      ],
    });
  });
  afterAll(() => rt.close());

  it('stay keeps control with the agent; a tool reply result moves control and patches the context', async () => {
    const result = await (await rt.client.start({ agent: 'Stayer', input: 'count to three' })).result({ timeoutMs: 10_000 });
    expect(result).toMatchObject({ status: 'completed', path: ['Stayer', 'Stayer', 'Stayer'], context: { n: 3 } });
  });

  it('terminate ends the conversation with the answer', async () => {
    const result = await (await rt.client.start({ agent: 'Ender', input: 'bye' })).result({ timeoutMs: 10_000 });
    expect(result).toMatchObject({ status: 'completed', reason: 'final_output', output: 'Wrapping up.', path: ['Ender'] });
  });

  it('revert to user parks the conversation; the reply goes back to the agent that asked', async () => {
    const conversation = await rt.client.start({ agent: 'Clerk', input: 'where is my order?' });
    const waiting = await conversation.result({ timeoutMs: 10_000 });
    expect(waiting).toMatchObject({ status: 'awaiting_user', output: 'What is your order number?', waiting: { kind: 'user', mode: 'revert', agent: 'Clerk' } });
    expect((await conversation.status()).next).toBeNull(); // nothing queued while it waits
    await conversation.send('my order is 42');
    const answered = await conversation.result({ timeoutMs: 10_000 });
    expect(answered).toMatchObject({ status: 'awaiting_user', output: 'Order 42 ships tomorrow.', path: ['Clerk', 'Clerk'] });
    // The same send twice (a double click, a retry after a lost answer: one operation id) is one message, and both calls resolve.
    await Promise.all([conversation.send('again', { operationId: 'op_double_click' }), conversation.send('again', { operationId: 'op_double_click' })]);
    // A different message while the first one runs is refused, said to its caller — not dropped in silence.
    await expect(conversation.send('and again')).rejects.toMatchObject({ code: expect.stringMatching(/^(CONVERSATION_NOT_WAITING|VERSION_CONFLICT)$/) });
    await conversation.result({ timeoutMs: 10_000 });
    const history = await rt.redis.lrange(`${rt.prefix}:conv:{${conversation.id}}:history`, 0, -1);
    expect(history.map((m) => JSON.parse(m)).filter((m) => m.role === 'user' && m.content === 'again')).toHaveLength(1);
  });

  it('refuses a message for a conversation that failed, saying why', async () => {
    const conversation = await rt.client.start({ agent: 'Stayer', input: 'count', limits: { maxHops: 1 } });
    expect(await conversation.result({ timeoutMs: 10_000 })).toMatchObject({ status: 'failed', reason: 'max_hops_exceeded' });
    await expect(conversation.send('hello?')).rejects.toMatchObject({ code: 'CONVERSATION_NOT_WAITING', message: expect.stringMatching(/is failed/) });
  });

  it('ask user lets the user pick who continues, or answer the agent that asked', async () => {
    const picked = await rt.client.start({ agent: 'Asker', input: 'I have a question' });
    expect(await picked.result({ timeoutMs: 10_000 })).toMatchObject({ status: 'awaiting_user', waiting: { mode: 'ask', question: 'Billing or Sales?', choices: ['Billing', 'Sales'] } });
    await picked.send('please', { agent: 'Sales' });
    expect(await picked.result({ timeoutMs: 10_000 })).toMatchObject({ status: 'completed', agent: 'Sales', output: 'Sales speaking.', path: ['Asker', 'Sales'] });

    const byName = await rt.client.start({ agent: 'Asker', input: 'another question' });
    await byName.result({ timeoutMs: 10_000 });
    await byName.send('Billing');
    expect(await byName.result({ timeoutMs: 10_000 })).toMatchObject({ agent: 'Billing', path: ['Asker', 'Billing'] });

    const answered = await rt.client.start({ agent: 'Asker', input: 'a third question' });
    await answered.result({ timeoutMs: 10_000 });
    await answered.send('not sure yet');
    expect(await answered.result({ timeoutMs: 10_000 })).toMatchObject({ status: 'awaiting_user', path: ['Asker', 'Asker'] });
  });

  it('a random agent is never the current one, and the same hop always picks the same', async () => {
    const picks = new Set<string>();
    for (let i = 0; i < 12; i++) {
      const result = await (await rt.client.start({ agent: 'Dice', input: `roll ${i}` })).result({ timeoutMs: 10_000 });
      expect(result.status).toBe('completed');
      expect(result.path[0]).toBe('Dice');
      picks.add(result.path[1]!);
    }
    expect([...picks].sort()).toEqual(['Billing', 'Sales']);
  });

  it('the group manager picks the next speaker, re-asking until its answer names exactly one', async () => {
    const conversation = await rt.client.start({ agent: 'Chair', input: 'I want to buy more seats' });
    const result = await conversation.result({ timeoutMs: 10_000 });
    expect(result).toMatchObject({ status: 'completed', agent: 'Sales', path: ['Chair', 'Sales'] });
    const selections = rt.model.requests.filter((r) => (systemText(r) ?? '').includes('role play game'));
    expect(selections).toHaveLength(3);
    expect(systemText(selections[0]!)).toMatch(/Billing: The Billing agent\nSales: The Sales agent\nClerk: The Clerk agent/);
    expect(lastUserText(selections[1]!)).toMatch(/did not name any of the roles/);
    expect(lastUserText(selections[2]!)).toMatch(/named several roles \(Billing, Sales\)/);
    const events = [];
    for await (const event of conversation.events()) events.push(event);
    expect(events.find((e) => e.type === 'handoff')).toMatchObject({ from: 'Chair', to: 'Sales', source: 'group_manager', reason: 'group manager selected Sales' });
  });

  it('nested chats run in sequence as child conversations, and the summary returns to the caller', async () => {
    const conversation = await rt.client.start({ agent: 'Lead', input: 'queues in Redis' });
    const result = await conversation.result({ timeoutMs: 15_000 });
    expect(result).toMatchObject({ status: 'completed', agent: 'Lead', path: ['Lead', 'Lead'] });
    expect(result.output).toBe('Lead: Result of the nested chat (Writer): article from research on "queues in Redis"');
    const events = [];
    for await (const event of conversation.events()) events.push(event);
    const started = events.filter((e) => e.type === 'nested.started');
    expect(started.map((e) => (e.type === 'nested.started' ? e.entry : ''))).toEqual(['Researcher', 'Writer']);
    const first = started[0];
    const child = await rt.client.conversation(first?.type === 'nested.started' ? first.childConversationId : '').status();
    expect(child).toMatchObject({ status: 'completed', parent: { conversationId: conversation.id, caller: 'Lead' }, depth: 1, output: 'research on "queues in Redis"' });
  });

  it('a group chat runs a sub-network under its own pattern and returns its result to the caller', async () => {
    const conversation = await rt.client.start({ agent: 'Lead', input: 'group: write about queues' });
    const result = await conversation.result({ timeoutMs: 15_000 });
    expect(result.status).toBe('completed');
    const events = [];
    for await (const event of conversation.events()) events.push(event);
    const done = events.find((e) => e.type === 'nested.completed');
    // Researcher, then (round robin) Writer, whose own after-work terminates: within maxHops 2.
    expect(done).toMatchObject({ status: 'completed', summary: 'article from group: write about queues' });
    const child = await rt.client.conversation(done?.type === 'nested.completed' ? done.childConversationId : '').status();
    expect(child).toMatchObject({ path: ['Researcher', 'Writer'], group: { members: ['Researcher', 'Writer'], pattern: 'round_robin' } });
    expect(rt.model.requests.some((r) => by('Writer')(r) && toolNames(r).length === 0)).toBe(true);
  });
});
