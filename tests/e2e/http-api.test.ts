import { Redis } from 'ioredis';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, createHttpClient, type HandoffClient } from '@handoff/client';
import { RuntimeEvent, type StoredEvent } from '@handoff/core';
import { ManagedProcess, lastUserText, startScriptedModel, systemIncludes, type ScriptedModel } from '@handoff/testing';
import { redisUrl, uniquePrefix } from '../support/env.js';
import { REPO_ROOT, startHandoff } from '../support/processes.js';

const KEY = 'test-key-123';
const NETWORK = 'examples/dist/english-spanish/network.js';

/** Reads an SSE response until `stop` says so; returns the events and the raw ids. */
async function readSse(response: Response, stop: (events: StoredEvent[]) => boolean): Promise<StoredEvent[]> {
  const events: StoredEvent[] = [];
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    while (!stop(events)) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let cut;
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const id = /^id: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (id && data) events.push({ ...RuntimeEvent.parse(JSON.parse(data)), id });
        if (stop(events)) break;
      }
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return events;
}

/** The gateway's HTTP API, driven by real HTTP clients against gateway and worker processes. */
describe('HTTP API', () => {
  const prefix = uniquePrefix('http');
  let model: ScriptedModel;
  let processes: ManagedProcess[] = [];
  let base = '';
  let client: HandoffClient;
  let redis: Redis;
  const auth = { authorization: `Bearer ${KEY}` };
  const api = (path: string, init: RequestInit = {}) => fetch(`${base}${path}`, { ...init, headers: { ...auth, ...(init.headers as Record<string, string>) } });

  beforeAll(async () => {
    model = await startScriptedModel({
      rules: [
        { when: (req) => systemIncludes('only respond in english')(req) && /¿|cuanto/.test(lastUserText(req) ?? ''), reply: { toolCalls: [{ name: 'transfer_to_SpanishAgent', arguments: { reason: 'Spanish' } }] } },
        { when: (req) => (lastUserText(req) ?? '').includes('long story'), reply: { content: Array.from({ length: 60 }, (_, i) => `word${i} `).join(''), chunkDelayMs: 15 } },
        { when: (req) => (lastUserText(req) ?? '').includes('wait forever'), reply: { content: 'late', hang: true } },
        { when: systemIncludes('only respond in spanish'), reply: { content: '2 + 2 son 4.' } },
        { reply: (req) => ({ content: `Echo: ${lastUserText(req)}` }) },
      ],
      chunkSize: 4,
    });
    const env = { REDIS_URL: redisUrl(), HANDOFF_PREFIX: prefix, OPENAI_BASE_URL: model.url, OPENAI_API_KEY: 'test' };
    processes = await Promise.all([
      startHandoff('gateway', ['gateway', '--network', NETWORK, '--http-port', '0', '--http-host', '127.0.0.1', '--api-keys', `other,${KEY}`, '--event-retention', '3600'], env),
      startHandoff('worker', ['worker', '--network', NETWORK], env),
    ]);
    const line = processes[0]!.lines.find((l) => l.includes('"msg":"http listening"'))!;
    base = `http://127.0.0.1:${(JSON.parse(line) as { port: number }).port}`;
    client = createHttpClient({ baseUrl: base, apiKey: KEY });
    redis = new Redis(redisUrl());
  }, 60_000);

  afterAll(async () => {
    redis?.disconnect();
    await Promise.all(processes.map((p) => p.stop()));
    await model?.close();
  });

  it('runs a conversation through the HTTP client: start, events, result, status, agents, metrics', async () => {
    const conversation = await client.start({ agent: 'EnglishAgent', input: '¿cuanto es 2+2?' });
    const result = await conversation.result({ timeoutMs: 15_000 });
    expect(result).toMatchObject({ status: 'completed', agent: 'SpanishAgent', output: '2 + 2 son 4.', path: ['EnglishAgent', 'SpanishAgent'] });
    const seen: RuntimeEvent[] = [];
    for await (const event of conversation.events()) seen.push(event);
    const types = seen.map((event) => event.type);
    expect(types[0]).toBe('conversation.started');
    // The opening event carries the user's message.
    expect(seen[0]).toMatchObject({ type: 'conversation.started', entryAgent: 'EnglishAgent', input: '¿cuanto es 2+2?' });
    expect(types.at(-1)).toBe('conversation.completed');
    expect(types).toContain('handoff');
    const status = await conversation.status();
    expect(status).toMatchObject({ status: 'completed', currentAgent: 'SpanishAgent', output: '2 + 2 son 4.' });
    expect(status).not.toHaveProperty('appliedSeq');
    // The finished conversation's log is kept for --event-retention, its record for the (default) retention.
    const eventTtl = await redis.ttl(`${prefix}:conv:{${conversation.id}}:eventlog`);
    expect(eventTtl).toBeGreaterThan(3000);
    expect(eventTtl).toBeLessThanOrEqual(3600);
    expect(await redis.ttl(`${prefix}:conv:{${conversation.id}}:record`)).toBeGreaterThan(6 * 24 * 3600);
    const agents = (await (await api('/v1/agents')).json()) as { agents: { name: string; liveWorkers: number }[] };
    expect(agents.agents.map((a) => [a.name, a.liveWorkers >= 1])).toEqual([['EnglishAgent', true], ['SpanishAgent', true]]);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/handoff_handoffs_total\{from="EnglishAgent",to="SpanishAgent",source="llm_condition"\} \d+/);
    expect(metrics).toMatch(/handoff_queue_wait_seconds_bucket/);
  });

  it('resumes a cut SSE stream with Last-Event-ID, losing and repeating nothing', async () => {
    const conversation = await client.start({ agent: 'EnglishAgent', input: 'tell me a long story' });
    const first = await readSse(await api(`/v1/conversations/${conversation.id}/events`), (events) => events.filter((e) => e.type === 'text.delta').length >= 2);
    expect(first.length).toBeGreaterThanOrEqual(3);
    const resumed = await readSse(await api(`/v1/conversations/${conversation.id}/events`, { headers: { 'last-event-id': first.at(-1)!.id } }), (events) => events.at(-1)?.type === 'conversation.completed');
    const story = Array.from({ length: 60 }, (_, i) => `word${i} `).join('');
    const textOf = (events: RuntimeEvent[]) => events.flatMap((e) => (e.type === 'text.delta' ? [e.text] : [])).join('');
    // Resumed mid-turn, the text kept coming as deltas: nothing lost, nothing twice.
    expect([...first, ...resumed].filter((e) => e.type === 'text.delta').length).toBeGreaterThan(2);
    expect(textOf([...first, ...resumed])).toBe(story);
    // Replayed once the conversation ended, the same events come with the same ids — the turn's
    // streamed text now as one delta (the log was compacted when it ended).
    const all = await readSse(await api(`/v1/conversations/${conversation.id}/events`), (events) => events.at(-1)?.type === 'conversation.completed');
    const milestones = (events: StoredEvent[]) => events.filter((e) => e.type !== 'text.delta').map((e) => e.id);
    expect(milestones([...first, ...resumed])).toEqual(milestones(all));
    expect(textOf(all)).toBe(story);
  });

  it('speaks OpenAI: the official client, streamed and not', async () => {
    const openai = new OpenAI({ baseURL: `${base}/v1`, apiKey: KEY, maxRetries: 0 });
    const completion = await openai.chat.completions.create({ model: 'EnglishAgent', messages: [{ role: 'user', content: '¿cuanto es 2+2?' }] });
    expect(completion.choices[0]?.message.content).toBe('2 + 2 son 4.');
    expect(completion.object).toBe('chat.completion');
    const stream = await openai.chat.completions.create({ model: 'EnglishAgent', messages: [{ role: 'user', content: 'a long story please' }], stream: true, stream_options: { include_usage: true } });
    let text = '';
    let finish: string | null | undefined;
    let usage;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      usage = chunk.usage ?? usage;
    }
    expect(text).toBe(Array.from({ length: 60 }, (_, i) => `word${i} `).join(''));
    expect(finish).toBe('stop');
    expect(usage?.total_tokens).toBeGreaterThan(0);
    const models = await openai.models.list();
    expect(models.data.map((m) => m.id)).toEqual(['EnglishAgent', 'SpanishAgent']);
  });

  it('enforces the bearer token on /v1, and leaves the probes open', async () => {
    const none = await fetch(`${base}/v1/agents`);
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({ error: { code: 'UNAUTHORIZED', message: expect.stringMatching(/Authorization: Bearer/) } });
    const wrong = await fetch(`${base}/v1/agents`, { headers: { authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect(await (await fetch(`${base}/readyz`)).json()).toEqual({ ready: true, redis: true, coordinator: true, networkRegistered: true });
  });

  it('answers every kind of bad input with a 4xx and a code, and changes nothing in Redis', async () => {
    const finished = await client.start({ agent: 'EnglishAgent', input: 'hi' });
    await finished.result({ timeoutMs: 10_000 });
    // (Leaving out the wake-up marks and live streams that earlier conversations leave for a moment after they end.)
    const lingering = (key: string) => /:(done|events)$/.test(key);
    const snapshot = async () => (await redis.keys(`${prefix}:conv:*`)).filter((key) => !lingering(key)).sort().join('\n') + (await Promise.all(Array.from({ length: 8 }, (_, p) => redis.llen(`${prefix}:{coordinator.${p}}:coordinator.${p}:wait`)))).join(',');
    const before = await snapshot();
    const post = (path: string, body: string, headers: Record<string, string> = {}) => api(path, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
    const cases: [string, Promise<Response>, number, string][] = [
      ['malformed JSON', post('/v1/conversations', '{"input": '), 400, 'VALIDATION_FAILED'],
      ['schema violation', post('/v1/conversations', JSON.stringify({ agent: 'EnglishAgent', input: '' })), 400, 'VALIDATION_FAILED'],
      ['unknown agent', post('/v1/conversations', JSON.stringify({ agent: 'KlingonAgent', input: 'hi' })), 404, 'UNKNOWN_AGENT'],
      ['unknown conversation', api('/v1/conversations/c_doesnotexist'), 404, 'CONVERSATION_NOT_FOUND'],
      ['unknown conversation events', api('/v1/conversations/c_doesnotexist/events'), 404, 'CONVERSATION_NOT_FOUND'],
      ['oversize body', post('/v1/conversations', JSON.stringify({ agent: 'EnglishAgent', input: 'x'.repeat(5 * 1024 * 1024) })), 413, 'PAYLOAD_TOO_LARGE'],
      ['unknown route', api('/v1/nothing-here'), 404, 'NOT_FOUND'],
      ['bad chat request', post('/v1/chat/completions', JSON.stringify({ model: 'EnglishAgent', messages: [] })), 400, 'VALIDATION_FAILED'],
      ['chat with an unknown model', post('/v1/chat/completions', JSON.stringify({ model: 'gpt-9', messages: [{ role: 'user', content: 'hi' }] })), 404, 'UNKNOWN_AGENT'],
    ];
    for (const [what, request, status, code] of cases) {
      const response = await request;
      expect(response.status, what).toBe(status);
      const body = (await response.json()) as { error: { code: string; message: string; details: unknown } };
      expect(body.error.code, what).toBe(code);
      expect(body.error.message.length, what).toBeGreaterThan(10);
    }
    expect(await snapshot()).toBe(before);
    // A message to a finished (failed) conversation, and a message while it runs.
    const failed = await client.start({ agent: 'EnglishAgent', input: 'hi', limits: { maxTokens: 1 } });
    expect((await failed.result({ timeoutMs: 10_000 })).status).toBe('failed');
    const late = await post(`/v1/conversations/${failed.id}/messages`, JSON.stringify({ message: 'hello?' }));
    expect(late.status).toBe(409);
    expect(((await late.json()) as { error: { code: string } }).error.code).toBe('CONVERSATION_NOT_WAITING');
  });

  it('cancels over HTTP, and another process re-attaches to a conversation over HTTP', async () => {
    const slow = await client.start({ agent: 'EnglishAgent', input: 'please wait forever' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    await slow.cancel('testing');
    expect(await slow.result({ timeoutMs: 10_000 })).toMatchObject({ status: 'cancelled', error: { message: 'Cancelled: testing' } });

    const conversation = await client.start({ agent: 'EnglishAgent', input: '¿cuanto es 2+2?' });
    const attacher = await ManagedProcess.start({ name: 'attacher', command: process.execPath, args: ['tests/e2e/fixtures/attach-http.mjs', base, KEY, conversation.id], cwd: REPO_ROOT });
    expect((await attacher.exited).code).toBe(0);
    const printed = JSON.parse(attacher.lines.at(-1)!) as { pid: number; result: { agent: string; status: string }; types: string[] };
    expect(printed.pid).not.toBe(process.pid);
    expect(printed.result).toMatchObject({ status: 'completed', agent: 'SpanishAgent' });
    expect(printed.types.at(-1)).toBe('conversation.completed');
  });

  it('serves Bull Board over the queues, behind the same API keys', async () => {
    const done = await client.start({ agent: 'EnglishAgent', input: '¿cuanto es 2+2?' });
    await done.result({ timeoutMs: 10_000 });
    const refused = await fetch(`${base}/queues`);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toMatch(/^Basic realm="handoff"/);
    expect((await fetch(`${base}/queues`, { headers: { authorization: `Basic ${Buffer.from('ops:wrong').toString('base64')}` } })).status).toBe(401);

    const basic = { authorization: `Basic ${Buffer.from(`ops:${KEY}`).toString('base64')}` };
    const page = await fetch(`${base}/queues`, { headers: basic });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('Handoff · english-spanish');
    // The page's own script loads from behind the same auth.
    const script = /src="([^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    expect((await fetch(new URL(script!, `${base}/queues/`), { headers: basic })).status).toBe(200);

    const listed = await fetch(`${base}/queues/api/queues?activeQueue=&status=latest&page=1`, { headers: auth });
    expect(listed.status).toBe(200);
    const { queues } = (await listed.json()) as { queues: { name: string; counts: Record<string, number> }[] };
    const byName = new Map(queues.map((q) => [q.name, q]));
    // The BullMQ queues: coordinator partitions and dead letters (hops are in agents' lanes, counted on /v1/agents).
    expect([...byName.keys()].sort()).toEqual([...Array.from({ length: 8 }, (_, p) => `coordinator.${p}`), 'dead-letter'].sort());
    const completed = [...byName.values()].reduce((sum, q) => sum + (q.counts.completed ?? 0), 0);
    expect(completed).toBeGreaterThan(0);
  });

  it('lists conversations started over Redis too, not only over HTTP', async () => {
    const overRedis = createClient({ redis: { url: redisUrl(), prefix } });
    try {
      const started = await overRedis.start({ agent: 'EnglishAgent', input: '¿cuanto es 2+2?' });
      await started.result({ timeoutMs: 10_000 });
      const listed = (await (await api('/v1/conversations?limit=500')).json()) as { conversations: { conversationId: string; status: string; path: string[] }[] };
      expect(listed.conversations.find((c) => c.conversationId === started.id)).toMatchObject({ status: 'completed', path: ['EnglishAgent', 'SpanishAgent'] });
    } finally {
      await overRedis.close();
    }
  });
});
