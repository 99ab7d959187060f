import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type HandoffClient } from '@handoff/client';
import { type StoredEvent } from '@handoff/core';
import { systemIncludes, startScriptedModel, type ManagedProcess, type ScriptedModel } from '@handoff/testing';
import { englishSpanishRules } from '@handoff/examples/dist/english-spanish/scripted-model.js';
import { redisUrl, uniquePrefix } from '../support/env.js';
import { startHandoff } from '../support/processes.js';
import { hopRunsOf } from '../support/queues.js';

/**
 * The seed's example end to end, as separate OS processes: a gateway and two workers that serve
 * different agents, started with the `handoff` command; the test drives them through the client.
 */
describe('English/Spanish handoff across processes', () => {
  const prefix = uniquePrefix('e2e');
  let model: ScriptedModel;
  let gateway: ManagedProcess;
  let englishWorker: ManagedProcess;
  let spanishWorker: ManagedProcess;
  let client: HandoffClient;
  let redis: Redis;

  beforeAll(async () => {
    model = await startScriptedModel({ rules: englishSpanishRules });
    const env = { REDIS_URL: redisUrl(), HANDOFF_PREFIX: prefix, OPENAI_BASE_URL: model.url, OPENAI_API_KEY: 'test' };
    // The TypeScript module (loaded through tsx) and its compiled form are the same network.
    [gateway, englishWorker, spanishWorker] = await Promise.all([
      startHandoff('gateway', ['gateway', '--network', 'examples/english-spanish/network.ts'], env),
      startHandoff('english worker', ['worker', '--network', 'examples/dist/english-spanish/network.js', '--agents', 'EnglishAgent', '--concurrency', '4'], env),
      startHandoff('spanish worker', ['worker', '--network', 'examples/english-spanish/network.ts', '--agents', 'SpanishAgent'], env),
    ]);
    client = createClient({ redis: { url: redisUrl(), prefix } });
    redis = new Redis(redisUrl());
  }, 60_000);

  afterAll(async () => {
    await client?.close();
    redis?.disconnect();
    await Promise.all([gateway, englishWorker, spanishWorker].map((p) => p?.stop()));
    await model?.close();
  });

  it('hands "¿cuanto es 2+2?" from EnglishAgent to SpanishAgent, which answers', async () => {
    const conversation = await client.start({ agent: 'EnglishAgent', input: '¿cuanto es 2+2?' });
    const result = await conversation.result({ timeoutMs: 20_000 });
    expect(result).toMatchObject({
      status: 'completed',
      reason: 'final_output',
      agent: 'SpanishAgent',
      output: '2 + 2 son 4.',
      path: ['EnglishAgent', 'SpanishAgent'],
    });

    const events: StoredEvent[] = [];
    for await (const event of conversation.events()) events.push(event);
    const story = events
      .filter((e) => ['conversation.started', 'agent.started', 'handoff', 'agent.completed', 'conversation.completed'].includes(e.type))
      .map((e) => (e.type === 'handoff' ? `handoff ${e.from}→${e.to} (${e.reason})` : 'agent' in e ? `${e.type} ${e.agent}` : e.type));
    expect(story).toEqual([
      'conversation.started',
      'agent.started EnglishAgent',
      'agent.completed EnglishAgent',
      'handoff EnglishAgent→SpanishAgent (The user writes in Spanish.)',
      'agent.started SpanishAgent',
      'agent.completed SpanishAgent',
      'conversation.completed',
    ]);

    // SpanishAgent's request carried the conversation; EnglishAgent's transfer call is stripped from
    // what later agents see (the network does not ask to keep transfer messages).
    const spanishRequest = model.requests.find((r) => systemIncludes('only respond in spanish')(r));
    expect(spanishRequest?.body.messages.map((m) => m.role)).toEqual(['system', 'user']);
    expect(spanishRequest?.body.messages[1]).toEqual({ role: 'user', content: '¿cuanto es 2+2?' });

    // Each turn ran in the worker process that serves its agent, not in this one.
    const [first] = await hopRunsOf(redis, prefix, conversation.id, 1);
    const [second] = await hopRunsOf(redis, prefix, conversation.id, 2);
    expect(first?.agent).toBe('EnglishAgent');
    expect(second?.agent).toBe('SpanishAgent');
    expect(first?.workerId).toMatch(/^worker/);
    expect(second?.workerId).toMatch(/^worker/);
    expect(first?.workerId).not.toBe(second?.workerId);
  });

  it('serves many conversations at once, each worker only its own agent', async () => {
    const questions = Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? `¿cuanto es 2+2? (${i})` : `What is the capital of France? (${i})`));
    const conversations = await Promise.all(questions.map((input) => client.start({ agent: 'EnglishAgent', input })));
    const results = await Promise.all(conversations.map((c) => c.result({ timeoutMs: 30_000 })));
    results.forEach((result, i) => {
      expect(result.status).toBe('completed');
      expect(result.agent).toBe(i % 2 === 0 ? 'SpanishAgent' : 'EnglishAgent');
    });
    // Every turn of an agent ran in the one worker process that serves it.
    const runs = (await Promise.all(conversations.map(async (c) => [...(await hopRunsOf(redis, prefix, c.id, 1)), ...(await hopRunsOf(redis, prefix, c.id, 2))]))).flat();
    const englishWorkers = new Set(runs.filter((r) => r.agent === 'EnglishAgent').map((r) => r.workerId));
    const spanishWorkers = new Set(runs.filter((r) => r.agent === 'SpanishAgent').map((r) => r.workerId));
    expect(englishWorkers.size).toBe(1);
    expect(spanishWorkers.size).toBe(1);
    expect([...englishWorkers][0]).not.toBe([...spanishWorkers][0]);
  });

  it('shuts down gracefully on SIGTERM', async () => {
    const exits = await Promise.all([englishWorker.stop(10_000), spanishWorker.stop(10_000), gateway.stop(10_000)]);
    for (const exit of exits) expect(exit).toEqual({ code: 0, signal: null });
  });
});
