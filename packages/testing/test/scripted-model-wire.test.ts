import { request as httpRequest } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { startScriptedModel, type ChatCompletionChunkObject, type ScriptedModel } from '../dist/index.js';

let model: ScriptedModel | undefined;

afterEach(async () => {
  await model?.close();
  model = undefined;
});

async function post(path: string, body: string): Promise<Response> {
  if (!model) throw new Error('no model');
  return fetch(`${model.url.replace(/\/v1$/, '')}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });
}

function parseSse(text: string): { events: ChatCompletionChunkObject[]; done: boolean } {
  const blocks = text.split('\n\n');
  expect(blocks.at(-1)).toBe(''); // every event ends with a blank line
  const payloads = blocks.slice(0, -1).map((block) => {
    expect(block.startsWith('data: ')).toBe(true);
    return block.slice('data: '.length);
  });
  const done = payloads.at(-1) === '[DONE]';
  return { events: payloads.filter((p) => p !== '[DONE]').map((p) => JSON.parse(p) as ChatCompletionChunkObject), done };
}

describe('scripted model wire format', () => {
  it('serves on 127.0.0.1 with a /v1 base URL', async () => {
    model = await startScriptedModel();
    expect(model.url).toBe(`http://127.0.0.1:${model.port}/v1`);
    expect(model.port).toBeGreaterThan(0);
  });

  it('streams SSE events ending with [DONE], with a usage chunk only when asked for', async () => {
    model = await startScriptedModel({ rules: [{ reply: { content: 'abcdefghij' } }], chunkSize: 4 });
    const base = { model: 'm', stream: true, messages: [{ role: 'user', content: 'x' }] };

    const plain = await post('/v1/chat/completions', JSON.stringify(base));
    expect(plain.status).toBe(200);
    expect(plain.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const a = parseSse(await plain.text());
    expect(a.done).toBe(true);
    expect(a.events.map((e) => e.choices[0]?.delta.content ?? null)).toEqual(['', 'abcd', 'efgh', 'ij', null]);
    expect(a.events[0]?.choices[0]?.delta.role).toBe('assistant');
    expect(a.events.map((e) => e.choices[0]?.finish_reason)).toEqual([null, null, null, null, 'stop']);
    expect(a.events.every((e) => !('usage' in e))).toBe(true);
    expect(new Set(a.events.map((e) => e.id)).size).toBe(1);

    const withUsage = await post('/v1/chat/completions', JSON.stringify({ ...base, stream_options: { include_usage: true } }));
    const b = parseSse(await withUsage.text());
    const last = b.events.at(-1);
    expect(last?.choices).toEqual([]);
    expect(last?.usage).toEqual({ prompt_tokens: 1, completion_tokens: 3, total_tokens: 4 });
    expect(b.events.slice(0, -1).every((e) => e.usage === null)).toBe(true);
  });

  it('cuts streamed tool-call arguments into pieces after a header chunk per call', async () => {
    model = await startScriptedModel({ rules: [{ reply: { toolCalls: [{ name: 'f', arguments: '0123456789' }] } }], chunkSize: 4 });
    const res = await post('/v1/chat/completions', JSON.stringify({ model: 'm', stream: true, messages: [{ role: 'user', content: 'x' }] }));
    const { events } = parseSse(await res.text());
    const toolDeltas = events.flatMap((e) => e.choices[0]?.delta.tool_calls ?? []);
    expect(toolDeltas).toEqual([
      { index: 0, id: 'call_1', type: 'function', function: { name: 'f', arguments: '' } },
      { index: 0, function: { arguments: '0123' } },
      { index: 0, function: { arguments: '4567' } },
      { index: 0, function: { arguments: '89' } },
    ]);
    expect(events[0]?.choices[0]?.delta).toEqual({ role: 'assistant', content: null, refusal: null });
    expect(events.at(-1)?.choices[0]?.finish_reason).toBe('tool_calls');
  });

  it('answers 404 JSON for unknown routes and 400 for invalid bodies, recording neither', async () => {
    model = await startScriptedModel({ rules: [{ reply: { content: 'x' } }] });
    const notFound = await post('/v1/embeddings', '{}');
    expect(notFound.status).toBe(404);
    expect(((await notFound.json()) as { error: { message: string } }).error.message).toContain('unknown route POST /v1/embeddings');

    const getRoute = await fetch(`${model.url}/chat/completions`);
    expect(getRoute.status).toBe(404);

    const badJson = await post('/v1/chat/completions', '{"model": "m", ');
    expect(badJson.status).toBe(400);
    expect(((await badJson.json()) as { error: { type: string } }).error.type).toBe('invalid_request_error');

    const noMessages = await post('/v1/chat/completions', '{"model": "m"}');
    expect(noMessages.status).toBe(400);
    expect(model.requests).toHaveLength(0);
  });

  it('describes the request in the no-rule-matched error and keeps it in unmatched', async () => {
    model = await startScriptedModel();
    const res = await post('/v1/chat/completions', JSON.stringify({ model: 'm', messages: [{ role: 'system', content: 's' }] }));
    expect(res.status).toBe(500);
    expect(res.headers.get('x-should-retry')).toBe('false');
    const body = (await res.json()) as { error: { message: string; type: string; code: string } };
    expect(body.error.message).toBe('scripted model: no rule matched request #0 (last user message: none)');
    expect(body.error.type).toBe('server_error');
    expect(model.unmatched).toHaveLength(1);
  });

  it('tries rules in order: prependRule goes first, addRule last; reset clears rules and records', async () => {
    model = await startScriptedModel({ rules: [{ reply: { content: 'initial' } }] });
    model.addRule({ reply: { content: 'appended' } });
    model.prependRule({ times: 1, reply: { content: 'prepended' } });
    const ask = async (): Promise<string | number> => {
      const res = await post('/v1/chat/completions', JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'q' }] }));
      if (res.status !== 200) return res.status;
      return ((await res.json()) as { choices: Array<{ message: { content: string } }> }).choices[0]?.message.content ?? '';
    };
    expect(await ask()).toBe('prepended');
    expect(await ask()).toBe('initial');
    expect(model.requests.map((r) => r.index)).toEqual([0, 1]);
    model.reset();
    expect(model.requests).toHaveLength(0);
    expect(await ask()).toBe(500);
    expect(model.unmatched.map((r) => r.index)).toEqual([0]);
  });

  it('reports a throwing reply function as a 500 naming the rule', async () => {
    model = await startScriptedModel({
      rules: [{ name: 'explodes', reply: () => { throw new Error('boom'); } }],
    });
    const res = await post('/v1/chat/completions', JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'q' }] }));
    expect(res.status).toBe(500);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain('rule "explodes" failed on request #0: boom');
  });

  it('waits delayMs and latencyMs before answering', async () => {
    model = await startScriptedModel({ rules: [{ reply: { content: 'late', delayMs: 120 } }], latencyMs: 80 });
    const started = Date.now();
    const res = await post('/v1/chat/completions', JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'q' }] }));
    expect(res.status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
  });

  it('close() ends hanging and held responses', async () => {
    model = await startScriptedModel({
      rules: [
        { when: (r) => r.body.model === 'hang', reply: { hang: true } },
        { reply: { content: 'never', hold: new Promise(() => {}) } },
      ],
    });
    const url = new URL(`${model.url}/chat/completions`);
    const rawPost = (bodyModel: string): Promise<string> =>
      new Promise((resolve) => {
        const req = httpRequest(url, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
          res.resume();
          res.on('end', () => resolve(`ended ${res.statusCode}`));
          res.on('error', (err) => resolve(`error ${err.message}`));
        });
        req.on('error', (err) => resolve(`error ${err.message}`));
        req.end(JSON.stringify({ model: bodyModel, messages: [{ role: 'user', content: 'q' }] }));
      });
    const hanging = rawPost('hang');
    const held = rawPost('held');
    await model.waitForRequests(2);
    const closed = model.close();
    model = undefined;
    const outcomes = await Promise.all([hanging, held]);
    await closed;
    for (const outcome of outcomes) expect(outcome).toMatch(/^error /);
  });

  it('serves many requests quickly over keep-alive at zero latency', async () => {
    model = await startScriptedModel({ rules: [{ reply: { content: 'fast' } }] });
    const started = Date.now();
    const body = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'q' }] });
    for (let i = 0; i < 200; i += 1) {
      const res = await post('/v1/chat/completions', body);
      await res.arrayBuffer();
    }
    expect(model.requests).toHaveLength(200);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
