import OpenAI, { APIConnectionTimeoutError, APIError, RateLimitError, InternalServerError } from 'openai';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { lastUserIncludes, startScriptedModel, type ScriptedModel } from '../dist/index.js';

let model: ScriptedModel;
let openai: OpenAI;

beforeEach(async () => {
  model = await startScriptedModel();
  openai = new OpenAI({ baseURL: model.url, apiKey: 'test', maxRetries: 0 });
});

afterEach(async () => {
  await model.close();
});

const tools: OpenAI.Chat.Completions.ChatCompletionTool[] = [
  { type: 'function', function: { name: 'lookup', parameters: { type: 'object', properties: { q: { type: 'string' } } } } },
  { type: 'function', function: { name: 'broken', parameters: { type: 'object' } } },
];

describe('scripted model with the official openai client', () => {
  it('answers a non-streamed request with a chat.completion and records the request', async () => {
    model.addRule({ reply: { content: 'Hello there.' } });
    const completion = await openai.chat.completions.create({
      model: 'gpt-test',
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'hi' },
      ],
    });
    expect(completion.object).toBe('chat.completion');
    expect(completion.id).toMatch(/^chatcmpl-\d+$/);
    expect(completion.model).toBe('gpt-test');
    expect(completion.choices[0]?.message).toEqual({ role: 'assistant', content: 'Hello there.', refusal: null });
    expect(completion.choices[0]?.finish_reason).toBe('stop');
    expect(completion.usage?.completion_tokens).toBe(Math.ceil('Hello there.'.length / 4));
    expect(completion.usage?.total_tokens).toBe((completion.usage?.prompt_tokens ?? NaN) + (completion.usage?.completion_tokens ?? NaN));

    expect(model.requests).toHaveLength(1);
    const recorded = model.requests[0];
    expect(recorded?.index).toBe(0);
    expect(recorded?.body.model).toBe('gpt-test');
    expect(recorded?.body.messages.map((m) => m.role)).toEqual(['system', 'user']);
    expect(recorded?.headers['authorization']).toBe('Bearer test');
    expect(model.unmatched).toHaveLength(0);
  });

  it('streams text in chunks of chunkSize characters that add up to the content', async () => {
    const text = 'The quick brown fox jumps over the lazy dog.';
    model.addRule({ reply: { content: text, usage: { prompt_tokens: 11, completion_tokens: 22 } } });
    const stream = await openai.chat.completions.create({
      model: 'gpt-test',
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'go' }],
    });
    const deltas: string[] = [];
    const finishReasons: Array<string | null> = [];
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      expect(chunk.object).toBe('chat.completion.chunk');
      for (const choice of chunk.choices) {
        if (choice.delta.content) deltas.push(choice.delta.content);
        finishReasons.push(choice.finish_reason);
      }
      if (chunk.usage) usage = chunk.usage;
    }
    expect(deltas.join('')).toBe(text);
    expect(deltas).toHaveLength(Math.ceil(text.length / 8));
    expect(deltas.every((d) => d.length <= 8)).toBe(true);
    expect(finishReasons.filter((r) => r !== null)).toEqual(['stop']);
    expect(usage).toEqual({ prompt_tokens: 11, completion_tokens: 22, total_tokens: 33 });
  });

  it('streams tool calls with object arguments and with an invalid-JSON string verbatim', async () => {
    const invalid = '{"q": "unterminated';
    model.addRule({
      reply: {
        toolCalls: [
          { name: 'lookup', arguments: { q: 'weather in Paris', n: 3 } },
          { name: 'broken', arguments: invalid, id: 'call_custom' },
        ],
      },
    });
    const stream = await openai.chat.completions.create({
      model: 'gpt-test',
      stream: true,
      tools,
      messages: [{ role: 'user', content: 'look it up' }],
    });
    const calls = new Map<number, { id?: string; type?: string; name?: string; args: string; chunks: number }>();
    let finish: string | null = null;
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      if (!choice) continue;
      finish = choice.finish_reason ?? finish;
      for (const delta of choice.delta.tool_calls ?? []) {
        const call = calls.get(delta.index) ?? { args: '', chunks: 0 };
        if (call.chunks === 0) {
          // the first chunk of a call names it and carries empty arguments
          expect(delta.id).toBeTruthy();
          expect(delta.type).toBe('function');
          expect(delta.function?.name).toBeTruthy();
          expect(delta.function?.arguments).toBe('');
        } else {
          expect(delta.id).toBeUndefined();
          expect(delta.function?.name).toBeUndefined();
        }
        call.id ??= delta.id;
        call.type ??= delta.type;
        call.name ??= delta.function?.name;
        call.args += delta.function?.arguments ?? '';
        call.chunks += 1;
        calls.set(delta.index, call);
      }
    }
    expect(finish).toBe('tool_calls');
    expect([...calls.keys()]).toEqual([0, 1]);
    expect(calls.get(0)?.id).toMatch(/^call_\d+$/);
    expect(calls.get(0)?.name).toBe('lookup');
    expect(JSON.parse(calls.get(0)?.args ?? '')).toEqual({ q: 'weather in Paris', n: 3 });
    expect(calls.get(0)?.chunks).toBeGreaterThan(2); // arguments arrive in several pieces
    expect(calls.get(1)).toMatchObject({ id: 'call_custom', type: 'function', name: 'broken', args: invalid });
  });

  it('returns tool calls in a non-streamed completion with finish_reason tool_calls and null content', async () => {
    model.addRule({ reply: { toolCalls: [{ name: 'lookup' }] } });
    const completion = await openai.chat.completions.create({ model: 'm', tools, messages: [{ role: 'user', content: 'x' }] });
    const message = completion.choices[0]?.message;
    expect(completion.choices[0]?.finish_reason).toBe('tool_calls');
    expect(message?.content).toBeNull();
    expect(message?.tool_calls).toEqual([{ id: expect.stringMatching(/^call_\d+$/), type: 'function', function: { name: 'lookup', arguments: '{}' } }]);
  });

  it('works with chat.completions.stream() and finalChatCompletion()', async () => {
    model.addRule({ reply: { content: 'Calling a tool now.', toolCalls: [{ name: 'lookup', arguments: { q: 'x' } }] } });
    const runner = openai.chat.completions.stream({ model: 'gpt-test', tools, messages: [{ role: 'user', content: 'hi' }] });
    const contentDeltas: string[] = [];
    runner.on('content', (delta) => contentDeltas.push(delta));
    const final = await runner.finalChatCompletion();
    expect(contentDeltas.join('')).toBe('Calling a tool now.');
    expect(contentDeltas.length).toBeGreaterThan(1);
    expect(final.choices[0]?.finish_reason).toBe('tool_calls');
    expect(final.choices[0]?.message.content).toBe('Calling a tool now.');
    const call = final.choices[0]?.message.tool_calls?.[0];
    expect(call?.type).toBe('function');
    if (call?.type !== 'function') throw new Error('expected a function tool call');
    expect(call.function).toMatchObject({ name: 'lookup', arguments: '{"q":"x"}' });
  });

  it('answers a scripted error with its status, body and Retry-After header as an APIError', async () => {
    model.addRule({
      reply: { error: { status: 429, message: 'slow down', type: 'requests', code: 'rate_limit_exceeded', headers: { 'retry-after': '7' } } },
    });
    const error = await openai.chat.completions
      .create({ model: 'm', messages: [{ role: 'user', content: 'x' }] })
      .then(() => undefined, (err: unknown) => err);
    expect(error).toBeInstanceOf(APIError);
    expect(error).toBeInstanceOf(RateLimitError);
    const apiError = error as APIError;
    expect(apiError.status).toBe(429);
    expect(apiError.headers?.get('retry-after')).toBe('7');
    expect(apiError.message).toContain('slow down');
    expect(apiError.type).toBe('requests');
    expect(apiError.code).toBe('rate_limit_exceeded');
    expect(model.requests).toHaveLength(1);
  });

  it('lets the client retry after a scripted error rule is used up (times)', async () => {
    const retrying = new OpenAI({ baseURL: model.url, apiKey: 'test', maxRetries: 2 });
    model.addRule({ name: 'overloaded once', times: 1, reply: { error: { status: 503, headers: { 'retry-after-ms': '10' } } } });
    model.addRule({ reply: { content: 'second time lucky' } });
    const completion = await retrying.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] });
    expect(completion.choices[0]?.message.content).toBe('second time lucky');
    expect(model.requests).toHaveLength(2);
  });

  it('consumes rules with times and then falls through to later rules', async () => {
    model.addRule({ times: 2, reply: { content: 'first' } });
    model.addRule({ times: 1, reply: { content: 'second' } });
    const answers: Array<string | null | undefined> = [];
    for (let i = 0; i < 3; i += 1) {
      const c = await openai.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: `q${i}` }] });
      answers.push(c.choices[0]?.message.content);
    }
    expect(answers).toEqual(['first', 'first', 'second']);
    const error = await openai.chat.completions
      .create({ model: 'm', messages: [{ role: 'user', content: 'one too many' }] })
      .then(() => undefined, (err: unknown) => err);
    expect(error).toBeInstanceOf(InternalServerError);
    expect(model.unmatched.map((r) => r.index)).toEqual([3]);
  });

  it('answers 500 with an OpenAI error naming the request when no rule matches, without client retries', async () => {
    const retrying = new OpenAI({ baseURL: model.url, apiKey: 'test', maxRetries: 2 });
    model.addRule({ when: lastUserIncludes('weather'), reply: { content: 'sunny' } });
    const error = await retrying.chat.completions
      .create({ model: 'm', messages: [{ role: 'user', content: 'tell me a joke' }] })
      .then(() => undefined, (err: unknown) => err);
    expect(error).toBeInstanceOf(APIError);
    const apiError = error as APIError;
    expect(apiError.status).toBe(500);
    expect(apiError.message).toContain('scripted model: no rule matched request #0 (last user message: "tell me a joke")');
    expect(apiError.type).toBe('server_error');
    expect(model.unmatched).toHaveLength(1); // x-should-retry: false, so no second attempt
    expect(model.requests).toHaveLength(1);
    expect(model.unmatched[0]?.body.messages[0]?.content).toBe('tell me a joke');
  });

  it('holds a turn open until the hold promise settles', async () => {
    let release!: () => void;
    const hold = new Promise<void>((resolve) => {
      release = resolve;
    });
    model.addRule({ reply: { content: 'released', hold } });
    let settled = false;
    const pending = openai.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] }).finally(() => {
      settled = true;
    });
    await model.waitForRequests(1);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(settled).toBe(false);
    release();
    const completion = await pending;
    expect(completion.choices[0]?.message.content).toBe('released');
  });

  it('answers a held turn after its hold promise rejects too', async () => {
    model.addRule({ reply: { content: 'still answered', hold: Promise.reject(new Error('nope')) } });
    const completion = await openai.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] });
    expect(completion.choices[0]?.message.content).toBe('still answered');
  });

  it('waitForRequests resolves when enough requests arrived and rejects on timeout', async () => {
    model.addRule({ reply: { content: 'ok' } });
    const waiting = model.waitForRequests(2, 2000);
    await openai.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: '1' }] });
    let resolved = false;
    void waiting.then(() => {
      resolved = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(resolved).toBe(false);
    await openai.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: '2' }] });
    await expect(waiting).resolves.toBeUndefined();
    await expect(model.waitForRequests(3, 50)).rejects.toThrow(/waited 50 ms for 3 request\(s\), got 2/);
  });

  it('hangs until the client gives up', async () => {
    model.addRule({ reply: { hang: true } });
    const started = Date.now();
    await expect(
      openai.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] }, { timeout: 200 }),
    ).rejects.toBeInstanceOf(APIConnectionTimeoutError);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
  });

  it('passes the request to reply functions and routes by predicate', async () => {
    model.addRule({ when: (req) => req.body.model === 'echo', reply: (req) => ({ content: `echo: ${String(req.body.messages.at(-1)?.content)}` }) });
    model.addRule({ reply: async () => ({ content: 'async default' }) });
    const echo = await openai.chat.completions.create({ model: 'echo', messages: [{ role: 'user', content: 'ping' }] });
    const other = await openai.chat.completions.create({ model: 'other', messages: [{ role: 'user', content: 'ping' }] });
    expect(echo.choices[0]?.message.content).toBe('echo: ping');
    expect(other.choices[0]?.message.content).toBe('async default');
  });
});
