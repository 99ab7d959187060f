import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineAgent, defineNetwork, type StoredEvent } from '@handoff/core';
import { lastUserText, systemIncludes, type RecordedRequest, type RequestPredicate } from '@handoff/testing';
import type { ConversationHandle } from '@handoff/client';
import { startInProcess, type InProcessRuntime } from '../support/in-process.js';

/**
 * The model endpoint misbehaves the ways real ones do — rate limits with Retry-After, 5xx bursts,
 * responses that never come — and each agent's model settings (`maxRetries`, `timeoutMs`) decide
 * what happens: the official openai client retries with backoff, then the turn fails with
 * MODEL_UNAVAILABLE and the conversation ends with the reason. Real HTTP to the scripted model.
 */
describe('model endpoint faults', () => {
  let rt: InProcessRuntime;

  /** Requests of one agent for one conversation input, in arrival order. */
  const requestsOf = (instructions: string, input: string): RecordedRequest[] =>
    rt.model.requests.filter((r) => systemIncludes(instructions)(r) && lastUserText(r) === input);
  const forAgent = (instructions: string): RequestPredicate => systemIncludes(instructions);

  async function eventsOf(conversation: ConversationHandle): Promise<StoredEvent[]> {
    const events: StoredEvent[] = [];
    for await (const event of conversation.events({ timeoutMs: 10_000 })) events.push(event);
    return events;
  }

  beforeAll(async () => {
    rt = await startInProcess({
      label: 'model-faults',
      network: (url) => {
        const base = { name: 'scripted', baseURL: url, apiKey: 'test' };
        return defineNetwork({
          name: 'model-faults',
          agents: [
            defineAgent({ name: 'RateLimited', instructions: 'You are RateLimited.', model: { ...base, maxRetries: 2, timeoutMs: 10_000 } }),
            defineAgent({ name: 'Bursty', instructions: 'You are Bursty.', model: { ...base, maxRetries: 3, timeoutMs: 10_000 } }),
            defineAgent({ name: 'Hanging', instructions: 'You are Hanging.', model: { ...base, maxRetries: 0, timeoutMs: 500 } }),
            defineAgent({ name: 'Down', instructions: 'You are Down.', model: { ...base, maxRetries: 1, timeoutMs: 10_000 } }),
          ],
        });
      },
      rules: [
        // RateLimited: the first request is rate limited with Retry-After: 1, then it answers.
        {
          name: 'rate limit once',
          when: forAgent('You are RateLimited.'),
          times: 1,
          reply: { error: { status: 429, message: 'slow down', type: 'rate_limit_error', code: 'rate_limit_exceeded', headers: { 'retry-after': '1' } } },
        },
        { when: forAgent('You are RateLimited.'), reply: { content: 'RateLimited answers.' } },
        // Bursty: two server errors, then an answer.
        { name: 'first 5xx', when: forAgent('You are Bursty.'), times: 1, reply: { error: { status: 503, message: 'overloaded' } } },
        { name: 'second 5xx', when: forAgent('You are Bursty.'), times: 1, reply: { error: { status: 500, message: 'internal' } } },
        { when: forAgent('You are Bursty.'), reply: { content: 'Bursty answers.' } },
        // Hanging: never answers at all.
        { when: forAgent('You are Hanging.'), reply: { hang: true } },
        // Down: always 503.
        { when: forAgent('You are Down.'), reply: { error: { status: 503, message: 'service unavailable' } } },
      ],
    });
  });
  afterAll(() => rt?.close());

  it('honours Retry-After on a 429, then completes', async () => {
    const input = 'rate limited question';
    const conversation = await rt.client.start({ agent: 'RateLimited', input });
    const result = await conversation.result({ timeoutMs: 15_000 });
    expect(result).toMatchObject({ status: 'completed', reason: 'final_output', agent: 'RateLimited', output: 'RateLimited answers.' });

    const calls = requestsOf('You are RateLimited.', input);
    expect(calls).toHaveLength(2);
    // The client waited for the server's Retry-After (1 s), not its own 0.5 s default backoff.
    expect(calls[1]!.receivedAt - calls[0]!.receivedAt).toBeGreaterThanOrEqual(900);
    expect(calls[1]!.receivedAt - calls[0]!.receivedAt).toBeLessThan(5_000);
    // A retry the client absorbed is not an error of the conversation.
    const events = await eventsOf(conversation);
    expect(events.some((e) => e.type === 'error')).toBe(false);
    expect(events.at(-1)?.type).toBe('conversation.completed');
  });

  it('retries 5xx with growing backoff and completes on the third request', async () => {
    const input = 'bursty question';
    const conversation = await rt.client.start({ agent: 'Bursty', input });
    const result = await conversation.result({ timeoutMs: 15_000 });
    expect(result).toMatchObject({ status: 'completed', agent: 'Bursty', output: 'Bursty answers.' });

    const calls = requestsOf('You are Bursty.', input);
    expect(calls).toHaveLength(3);
    const firstGap = calls[1]!.receivedAt - calls[0]!.receivedAt;
    const secondGap = calls[2]!.receivedAt - calls[1]!.receivedAt;
    // openai's backoff: 0.5 s then 1 s, each with up to 25 % jitter off: [375, 500] then [750, 1000].
    expect(firstGap).toBeGreaterThanOrEqual(350);
    expect(secondGap).toBeGreaterThanOrEqual(700);
    expect(secondGap).toBeGreaterThan(firstGap);
    // One turn, one agent.started: the retries happened inside the model client, not as job retries.
    const events = await eventsOf(conversation);
    expect(events.filter((e) => e.type === 'agent.started')).toHaveLength(1);
  });

  it('gives up on a response that never comes after timeoutMs and fails with MODEL_UNAVAILABLE', async () => {
    const input = 'anyone there?';
    const startedAt = Date.now();
    const conversation = await rt.client.start({ agent: 'Hanging', input });
    const result = await conversation.result({ timeoutMs: 15_000 });
    const elapsed = Date.now() - startedAt;
    expect(result).toMatchObject({
      status: 'failed',
      reason: 'error',
      agent: 'Hanging',
      output: null,
      error: { code: 'MODEL_UNAVAILABLE', retryable: true, details: { agent: 'Hanging' } },
    });
    expect(result.error?.message).toMatch(/timed out/i);
    // The 500 ms timeout did fire (not an instant failure), and the conversation ended soon after.
    expect(elapsed).toBeGreaterThanOrEqual(450);
    expect(elapsed).toBeLessThan(5_000);
    expect(requestsOf('You are Hanging.', input)).toHaveLength(1);

    const events = await eventsOf(conversation);
    const error = events.find((e) => e.type === 'error');
    expect(error).toMatchObject({ type: 'error', agent: 'Hanging', error: { code: 'MODEL_UNAVAILABLE' } });
    expect(events.map((e) => e.type).slice(-3)).toEqual(['agent.completed', 'error', 'conversation.failed']);
  });

  it('with maxRetries 1, fails with MODEL_UNAVAILABLE after exactly two 503s', async () => {
    const input = 'is the service up?';
    const conversation = await rt.client.start({ agent: 'Down', input });
    const result = await conversation.result({ timeoutMs: 15_000 });
    expect(result).toMatchObject({
      status: 'failed',
      reason: 'error',
      error: { code: 'MODEL_UNAVAILABLE', retryable: true, details: { agent: 'Down', status: 503 } },
    });
    expect(result.error?.message).toMatch(/HTTP 503/);
    // Wait a moment longer than the client's longest backoff: no third request may follow.
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    const calls = requestsOf('You are Down.', input);
    expect(calls).toHaveLength(2);
    const events = await eventsOf(conversation);
    expect(events.filter((e) => e.type === 'error')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'agent.started')).toHaveLength(1);
  });
});
