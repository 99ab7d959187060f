import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '@handoff/client';
import { DEAD_LETTER_QUEUE, defineAgent, defineNetwork, hopId, keyLayout, commandJobId } from '@handoff/core';
import { decideStart } from '@handoff/gateway';
import { ConversationStore, CoordinatorPartitions, TurnInbox } from '@handoff/redis';
import { findFreePort, hasTool, lastUserText, systemIncludes, type RecordedRequest } from '@handoff/testing';
import { redisUrl, uniquePrefix } from '../support/env.js';
import { startInProcess, type InProcessRuntime } from '../support/in-process.js';
import { openLane, openQueue, coordinatorQueueOf } from '../support/queues.js';
import { startMonitor } from '../support/monitor.js';

const lastToolMessage = (req: RecordedRequest) => [...req.body.messages].reverse().find((m) => m.role === 'tool');

/** Bad input of every kind gets a clear, typed error and loses nothing. */
describe('bad input', () => {
  let rt: InProcessRuntime;
  let closedPort: number;
  beforeAll(async () => {
    closedPort = await findFreePort();
    rt = await startInProcess({
      label: 'bad',
      network: (url) => {
        const model = { name: 'scripted', baseURL: url, apiKey: 'test', maxRetries: 0 };
        return defineNetwork({
          name: 'bad-input',
          agents: [
            defineAgent({ name: 'Front', instructions: 'You are Front.', model, handoffs: ['Back'] }),
            defineAgent({ name: 'Back', instructions: 'You are Back.', model }),
            defineAgent({ name: 'Flaky', instructions: 'You are Flaky.', model: { ...model, maxRetries: 2 } }),
            defineAgent({ name: 'Offline', instructions: 'You are Offline.', model: { ...model, baseURL: `http://127.0.0.1:${closedPort}/v1`, maxRetries: 1 } }),
          ],
        });
      },
      rules: [
        // Front first calls its transfer tool with broken JSON, then an unknown tool, then correctly.
        {
          when: (req) => hasTool('transfer_to_Back')(req) && lastUserText(req) === 'broken json' && lastToolMessage(req) === undefined,
          reply: { toolCalls: [{ name: 'transfer_to_Back', arguments: '{"reason": "oops' }] },
        },
        {
          when: (req) => hasTool('transfer_to_Back')(req) && /not valid JSON/.test(String(lastToolMessage(req)?.content)),
          reply: { toolCalls: [{ name: 'lookup_order', arguments: {} }] },
        },
        {
          when: (req) => hasTool('transfer_to_Back')(req) && /no tool named "lookup_order"/.test(String(lastToolMessage(req)?.content)),
          reply: { toolCalls: [{ name: 'transfer_to_Back', arguments: { reason: 'fixed my call' } }] },
        },
        { when: systemIncludes('You are Front.'), reply: { content: 'Front answers.' } },
        { when: systemIncludes('You are Back.'), reply: { content: 'Back answers.' } },
        { when: systemIncludes('You are Flaky.'), reply: { error: { status: 503, message: 'overloaded' } } },
      ],
    });
  });
  afterAll(() => rt.close());

  it('refuses an unknown entry agent at the client, naming the agents, and enqueues nothing', async () => {
    // Every command Redis runs meanwhile is seen here: the refused start sends nothing about its conversation.
    const monitor = await startMonitor(redisUrl());
    await expect(rt.client.start({ agent: 'Nobody', input: 'hi', conversationId: 'c_unknown_at_client' })).rejects.toMatchObject({
      code: 'UNKNOWN_AGENT',
      message: 'Entry agent: unknown agent "Nobody". The network has: Front, Back, Flaky, Offline.',
    });
    await monitor.stop();
    expect(monitor.commands.filter((c) => c.args.some((a) => a.includes('c_unknown_at_client')))).toEqual([]);
    const keys = keyLayout(rt.prefix);
    expect(await rt.redis.exists(keys.starting('c_unknown_at_client'))).toBe(0);
    expect(await rt.redis.zscore(keys.inFlight, 'c_unknown_at_client')).toBeNull();
  });

  it('ends a conversation whose start command names an unknown agent (bypassing the client) with the reason', async () => {
    // A producer other than the client sends the start the way the client does (mark, index entry, inbox push), without its agent check.
    const id = 'c_unknown_entry';
    await new TurnInbox(rt.redis, keyLayout(rt.prefix), new CoordinatorPartitions({ redis: rt.redis, keys: keyLayout(rt.prefix) })).sendStart({ schemaVersion: 1, kind: 'start', conversationId: id, entryAgent: 'Ghost', input: 'hi', context: {}, limits: {}, operationId: 'op_raw', createdAt: Date.now() });
    const result = await rt.client.conversation(id).result({ timeoutMs: 10_000 });
    expect(result).toMatchObject({ status: 'failed', reason: 'error', error: { code: 'UNKNOWN_AGENT' } });
  });

  it('still takes a start as a BullMQ job on its coordinator partition, as clients before 2026-12 sent it', async () => {
    const id = 'c_unknown_entry_old_client';
    const coordinator = coordinatorQueueOf(id, rt.redis, rt.prefix);
    // Their mark was the operation id alone.
    await rt.redis.set(keyLayout(rt.prefix).starting(id), 'op_old', 'EX', 3600);
    await coordinator.add('start', { schemaVersion: 1, kind: 'start', conversationId: id, entryAgent: 'Ghost', input: 'hi', context: {}, limits: {}, operationId: 'op_old', createdAt: Date.now() }, { jobId: commandJobId(id, 'start', 'op_old') });
    const result = await rt.client.conversation(id).result({ timeoutMs: 10_000 });
    expect(result).toMatchObject({ status: 'failed', reason: 'error', error: { code: 'UNKNOWN_AGENT' } });
    expect(await rt.redis.exists(keyLayout(rt.prefix).starting(id))).toBe(0);
    await coordinator.close();
  });

  it('validates the start request', async () => {
    await expect(rt.client.start({ agent: 'Front', input: '' })).rejects.toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringMatching(/input/) });
    await expect(rt.client.start({ agent: 'Front', input: 'x', context: { when: new Date() as never } })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(rt.client.start({ agent: 'Front', input: 'x', conversationId: 'has:colon' })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });

  it('says when no gateway has registered a network under the prefix', async () => {
    const lonely = createClient({ redis: { url: redisUrl(), prefix: uniquePrefix('none') } });
    await expect(lonely.start({ input: 'hi' })).rejects.toMatchObject({ code: 'NETWORK_NOT_REGISTERED', message: expect.stringMatching(/Start a gateway/) });
    await lonely.close();
  });

  it('feeds invalid tool-call JSON and unknown tools back to the model, which then hands off', async () => {
    const conversation = await rt.client.start({ agent: 'Front', input: 'broken json' });
    const result = await conversation.result({ timeoutMs: 10_000 });
    expect(result).toMatchObject({ status: 'completed', agent: 'Back', output: 'Back answers.', path: ['Front', 'Back'] });
    const frontCalls = rt.model.requests.filter((r) => systemIncludes('You are Front.')(r) && lastUserText(r) === 'broken json');
    expect(frontCalls).toHaveLength(3);
    expect(lastToolMessage(frontCalls[1]!)?.content).toMatch(/^Error: arguments are not valid JSON .*Call transfer_to_Back again with a JSON object/);
    expect(lastToolMessage(frontCalls[2]!)?.content).toMatch(/^Error: there is no tool named "lookup_order". Available tools: transfer_to_Back\./);
    const events = [];
    for await (const event of conversation.events()) events.push(event);
    expect(events.filter((e) => e.type === 'tool.result' && e.isError)).toHaveLength(2);
    expect(events.find((e) => e.type === 'handoff')).toMatchObject({ from: 'Front', to: 'Back', reason: 'fixed my call' });
  });

  it('retries a failing model endpoint, then ends the conversation with MODEL_UNAVAILABLE', async () => {
    const conversation = await rt.client.start({ agent: 'Flaky', input: 'are you there?' });
    const result = await conversation.result({ timeoutMs: 20_000 });
    expect(result).toMatchObject({ status: 'failed', reason: 'error', error: { code: 'MODEL_UNAVAILABLE', retryable: true, details: { agent: 'Flaky', status: 503 } } });
    // One call and two retries with backoff.
    const calls = rt.model.requests.filter((r) => systemIncludes('You are Flaky.')(r) && lastUserText(r) === 'are you there?');
    expect(calls).toHaveLength(3);
    expect(calls[2]!.receivedAt - calls[0]!.receivedAt).toBeGreaterThan(300);
    const events = [];
    for await (const event of conversation.events()) events.push(event.type);
    expect(events.slice(-3)).toEqual(['agent.completed', 'error', 'conversation.failed']);
  });

  it('ends the conversation when the endpoint is down altogether', async () => {
    const result = await (await rt.client.start({ agent: 'Offline', input: 'hello?' })).result({ timeoutMs: 20_000 });
    expect(result).toMatchObject({ status: 'failed', error: { code: 'MODEL_UNAVAILABLE', message: expect.stringMatching(/could not be reached/) } });
  });

  it('dead-letters an invalid envelope with an error event, ends its conversation, and keeps serving', async () => {
    const id = 'c_bad_envelope';
    const front = openLane('Front', rt.redis, rt.prefix);
    const deadLetters = openQueue(DEAD_LETTER_QUEUE, rt.redis, rt.prefix);
    // A real conversation whose first hop arrives corrupt: the coordinator's apply ran (record,
    // history, events), and instead of its envelope a broken one naming the same hop is queued.
    const store = new ConversationStore(rt.redis, keyLayout(rt.prefix));
    const decision = decideStart(rt.network, { schemaVersion: 1, kind: 'start', conversationId: id, entryAgent: 'Front', input: 'hi', context: {}, limits: {}, createdAt: Date.now() });
    expect((await store.apply(decision.step)).outcome).toBe('applied');
    await front.push(hopId(id, 1), JSON.stringify({ conversationId: id, hopId: hopId(id, 1), seq: 1, schemaVersion: 1, historyLength: 'not a number' }));
    await front.push('garbage-1', JSON.stringify({ garbage: true }));

    const result = await rt.client.conversation(id).result({ timeoutMs: 10_000 });
    expect(result).toMatchObject({ status: 'failed', reason: 'error', error: { code: 'VALIDATION_FAILED', message: expect.stringMatching(/^Envelope on queue "agent.Front" is invalid: .*historyLength/) } });
    const ours = [hopId(id, 1), 'garbage-1'];
    await waitFor(async () => (await deadLetters.getJobs(['waiting'])).filter((j) => ours.includes(j.data.jobId)).length === 2);
    const letters = (await deadLetters.getJobs(['waiting'])).filter((j) => ours.includes(j.data.jobId));
    expect(letters.map((l) => l.data.error.code)).toEqual(['VALIDATION_FAILED', 'VALIDATION_FAILED']);
    expect(letters.find((l) => l.data.jobId === 'garbage-1')?.data).toMatchObject({ sourceQueue: 'agent.Front', payload: { garbage: true } });
    expect(letters.find((l) => l.data.jobId === hopId(id, 1))?.data).toMatchObject({ sourceQueue: 'agent.Front', conversationId: id, payload: { historyLength: 'not a number' } });
    const events = [];
    for await (const event of rt.client.conversation(id).events()) events.push(event);
    expect(events.some((e) => e.type === 'error' && e.error.code === 'VALIDATION_FAILED' && /historyLength/.test(e.error.message))).toBe(true);

    // The worker keeps serving.
    const next = await (await rt.client.start({ agent: 'Back', input: 'still there?' })).result({ timeoutMs: 10_000 });
    expect(next).toMatchObject({ status: 'completed', output: 'Back answers.' });
    await deadLetters.close();
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
