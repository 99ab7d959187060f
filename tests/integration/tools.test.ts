import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineNetwork, defineTool, hrNow } from '@handoff/core';
import { lastUserText } from '@handoff/testing';
import { startInProcess, type InProcessRuntime } from '../support/in-process.js';
import { by, scriptedAgent, toolResults, when } from '../support/scripted-agents.js';

const spans: { name: string; start: number; end: number }[] = [];
const slow = (name: string, ms: number, sequential = false) =>
  defineTool({
    name,
    description: `Takes ${ms} ms`,
    parameters: z.object({ label: z.string() }),
    sequential,
    handler: async ({ label }) => {
      const start = hrNow();
      await new Promise((resolve) => setTimeout(resolve, ms));
      spans.push({ name: label, start, end: hrNow() });
      return `${label} done`;
    },
  });
const overlaps = (a: string, b: string) => {
  const x = spans.find((s) => s.name === a)!;
  const y = spans.find((s) => s.name === b)!;
  return x.start < y.end && y.start < x.end;
};

/** Function tools: arguments, context, errors, timeouts, parallel and sequential calls, approvals. */
describe('function tools', () => {
  let rt: InProcessRuntime;
  beforeAll(async () => {
    const lookup = defineTool({
      name: 'lookup',
      description: 'Look a customer up',
      parameters: z.object({ id: z.number().int() }),
      handler: async ({ id }, ctx) => {
        ctx.logger.info({ id }, 'looking up');
        ctx.setContext({ lastLookup: id, seenBy: ctx.agent });
        return { id, name: 'Ada', conversation: ctx.conversationId, hop: ctx.hopId };
      },
    });
    const broken = defineTool({ name: 'broken', description: 'Always throws', parameters: z.object({}), handler: () => { throw new Error('the disk is on fire'); } });
    const stuck = defineTool({
      name: 'stuck',
      description: 'Never finishes',
      parameters: z.object({}),
      timeoutMs: 200,
      handler: (_args, ctx) => new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(new Error('aborted')))),
    });
    const refund = defineTool({ name: 'refund', description: 'Refund money', parameters: z.object({ amount: z.number() }), needsApproval: (args) => Number(args.amount) > 100, handler: ({ amount }) => `refunded ${amount}` });
    rt = await startInProcess({
      label: 'tools',
      network: (url) =>
        defineNetwork({
          name: 'tools',
          agents: [
            scriptedAgent(url, 'Clerk', { tools: [lookup, broken, stuck, refund, slow('a', 300), slow('b', 150), slow('c', 50), slow('s', 100, true)] }),
          ],
        }),
      rules: [
        when('Clerk', (req) => {
          const text = lastUserText(req) ?? '';
          const results = toolResults(req);
          if (results.length > 0) return { content: `results: ${results.join(' | ')}` };
          if (text === 'lookup') return { toolCalls: [{ name: 'lookup', arguments: { id: 7 } }, { name: 'lookup', arguments: { id: 'seven' } }, { name: 'lookup', arguments: '{broken' }] };
          if (text === 'failures') return { toolCalls: [{ name: 'broken', arguments: {} }, { name: 'stuck', arguments: {} }] };
          if (text === 'parallel') return { toolCalls: ['a', 'b', 'c'].map((label) => ({ name: label, arguments: { label } })) };
          if (text === 'sequential') return { toolCalls: [{ name: 'c', arguments: { label: 'c1' } }, { name: 's', arguments: { label: 's1' } }, { name: 'c', arguments: { label: 'c2' } }] };
          if (text.startsWith('refund')) return { toolCalls: [{ name: 'refund', arguments: { amount: Number(text.split(' ')[1]) } }, { name: 'lookup', arguments: { id: 1 } }] };
          return { content: 'ok' };
        }),
      ],
    });
  });
  afterAll(() => rt.close());

  const run = async (input: string) => {
    const conversation = await rt.client.start({ agent: 'Clerk', input });
    return { conversation, result: await conversation.result({ timeoutMs: 15_000 }) };
  };

  it('passes parsed arguments and a context; invalid arguments go back to the model as errors', async () => {
    const { result, conversation } = await run('lookup');
    const [ok, badType, badJson] = (result.output ?? '').replace('results: ', '').split(' | ');
    expect(JSON.parse(ok!)).toEqual({ id: 7, name: 'Ada', conversation: conversation.id, hop: `${conversation.id}.h1` });
    expect(badType).toMatch(/^Error: invalid arguments for lookup: id: /);
    expect(badJson).toMatch(/^Error: arguments are not valid JSON/);
    expect(result.context).toEqual({ lastLookup: 7, seenBy: 'Clerk' });
  });

  it('turns a throwing handler and a timeout into error results, and the worker keeps serving', async () => {
    const { result } = await run('failures');
    expect(result.output).toBe('results: Error: broken failed: the disk is on fire | Error: stuck failed: stuck did not finish within 200 ms');
    expect((await run('hello')).result.output).toBe('ok');
  });

  it('runs parallel calls concurrently and keeps their results in call order', async () => {
    spans.length = 0;
    const { result } = await run('parallel');
    expect(result.output).toBe('results: a done | b done | c done');
    expect(spans.map((s) => s.name)).toEqual(['c', 'b', 'a']); // finished in reverse
    expect(overlaps('a', 'b') && overlaps('a', 'c')).toBe(true);
  });

  it('runs a sequential tool alone: after the calls before it, before the calls after it', async () => {
    spans.length = 0;
    const { result } = await run('sequential');
    expect(result.output).toBe('results: c1 done | s1 done | c2 done');
    expect(overlaps('c1', 's1') || overlaps('s1', 'c2')).toBe(false);
  });

  it('pauses for approval, holds nothing in the meantime, and runs the tool once approved', async () => {
    const { result, conversation } = await run('refund 500');
    expect(result).toMatchObject({ status: 'awaiting_user', waiting: { kind: 'approval', agent: 'Clerk', calls: [{ name: 'refund', arguments: '{"amount":500}' }] } });
    expect((await conversation.status()).next).toBeNull();
    await conversation.approve();
    const done = await conversation.result({ timeoutMs: 10_000 });
    expect(done.status).toBe('completed');
    expect(done.output).toMatch(/^results: .*refunded 500/);
    const events = [];
    for await (const e of conversation.events()) events.push(e.type);
    expect(events).toContain('approval.requested');
    expect(events).toContain('approval.decided');
  });

  it('tells the model when a person rejects a call; small refunds need no approval', async () => {
    const { conversation } = await run('refund 900');
    await conversation.reject({ reason: 'too much' });
    const done = await conversation.result({ timeoutMs: 10_000 });
    expect(done.output).toMatch(/Rejected by the user: too much/);
    expect((await run('refund 20')).result.output).toMatch(/refunded 20/);
    expect(rt.model.requests.filter(by('Clerk')).length).toBeGreaterThan(0);
  });
});
