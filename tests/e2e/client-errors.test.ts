import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, createHttpClient, type HandoffClient, type RedisHandoffClient } from '@handoff/client';
import { ErrorCode, HandoffError, type StoredEvent } from '@handoff/core';
import { ManagedProcess, hasTool, lastUserText, startScriptedModel, type ScriptedModel } from '@handoff/testing';
import { redisUrl, uniquePrefix } from '../support/env.js';
import { startHandoff } from '../support/processes.js';

const KEY = 'edge-key';
const NETWORK = 'tests/e2e/networks/edges.ts';

/** What a caller can tell about a thrown error: its class, code and retryable flag. */
interface Caught {
  class: string;
  code: string;
  retryable: boolean;
}

/** The error `run` throws (failing the test when it throws none, or something not a HandoffError). */
async function caught(run: () => Promise<unknown>): Promise<Caught> {
  try {
    await run();
  } catch (error) {
    if (!(error instanceof HandoffError)) throw new Error(`expected a HandoffError, got ${String(error)}`, { cause: error });
    return { class: error.constructor.name, code: error.code, retryable: error.retryable };
  }
  throw new Error('expected an error, none was thrown');
}

/** Collects every event of an iteration, failing when it does not end within `ms`. */
async function drain(events: AsyncIterable<StoredEvent>, ms = 5_000): Promise<StoredEvent[]> {
  const seen: StoredEvent[] = [];
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the event iteration did not end within ${ms} ms (saw: ${seen.map((e) => e.type).join(', ') || 'nothing'})`)), ms);
  });
  try {
    await Promise.race([(async () => { for await (const event of events) seen.push(event); })(), hang]);
  } finally {
    clearTimeout(timer);
  }
  return seen;
}

/** Reads a whole response body, failing when the server does not close it within `ms`. */
async function bodyWithin(response: Response, ms = 5_000): Promise<string> {
  const timer = setTimeout(() => void response.body?.cancel(new Error('still open')), ms);
  try {
    return await response.text();
  } catch {
    throw new Error(`the server kept the response open for more than ${ms} ms`);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The edges a user touches first, against gateway and worker processes: resuming a finished
 * conversation's events, malformed event ids, and the two clients throwing the same typed errors.
 */
describe('event resume and errors, over Redis and over HTTP', () => {
  const prefix = uniquePrefix('edges');
  let model: ScriptedModel;
  let processes: ManagedProcess[] = [];
  let base = '';
  let overRedis: RedisHandoffClient;
  let overHttp: HandoffClient;
  const api = (path: string, init: RequestInit = {}) => fetch(`${base}${path}`, { ...init, headers: { authorization: `Bearer ${KEY}`, ...(init.headers as Record<string, string>) } });

  beforeAll(async () => {
    model = await startScriptedModel({
      rules: [
        { when: (req) => (lastUserText(req) ?? '').includes('hang'), reply: { content: 'late', hang: true } },
        { when: (req) => hasTool('wipe_cache')(req) && req.body.messages.at(-1)?.role === 'user', reply: { toolCalls: [{ name: 'wipe_cache', arguments: { cache: 'thumbnails' } }] } },
        { when: hasTool('wipe_cache'), reply: { content: 'The cache is wiped.' } },
        { reply: (req) => ({ content: `Echo: ${lastUserText(req)}` }) },
      ],
    });
    const env = { REDIS_URL: redisUrl(), HANDOFF_PREFIX: prefix, OPENAI_BASE_URL: model.url, OPENAI_API_KEY: 'test' };
    processes = await Promise.all([
      startHandoff('gateway', ['gateway', '--network', NETWORK, '--http-port', '0', '--http-host', '127.0.0.1', '--api-keys', KEY], env),
      startHandoff('worker', ['worker', '--network', NETWORK, '--agents', 'Front,Careful'], env),
    ]);
    const line = processes[0]!.lines.find((l) => l.includes('"msg":"http listening"'))!;
    base = `http://127.0.0.1:${(JSON.parse(line) as { port: number }).port}`;
    overRedis = createClient({ redis: { url: redisUrl(), prefix } });
    overHttp = createHttpClient({ baseUrl: base, apiKey: KEY });
  }, 60_000);

  afterAll(async () => {
    await overRedis?.close();
    await Promise.all(processes.map((p) => p.stop()));
    await model?.close();
  });

  it('ends a resumed event stream of a finished conversation: SSE, the HTTP client and the Redis client', async () => {
    const conversation = await overHttp.start({ agent: 'Front', input: 'hello' });
    await conversation.result({ timeoutMs: 15_000 });
    const all = await drain(conversation.events());
    const terminal = all.at(-1)!;
    expect(terminal.type).toBe('conversation.completed');
    const [ms, seq] = terminal.id.split('-');
    for (const after of [terminal.id, `${ms}-${Number(seq) + 3}`, `${Number(ms) + 3_600_000}-0`]) {
      expect(await bodyWithin(await api(`/v1/conversations/${conversation.id}/events`, { headers: { 'last-event-id': after } }))).not.toContain('data:');
      expect(await bodyWithin(await api(`/v1/conversations/${conversation.id}/events?after=${after}`))).not.toContain('data:');
      expect(await drain(overHttp.conversation(conversation.id).events({ after }))).toEqual([]);
      expect(await drain(overRedis.conversation(conversation.id).events({ after }))).toEqual([]);
    }
    // Resumed before the terminal event, the rest comes, then the stream ends.
    const rest = await bodyWithin(await api(`/v1/conversations/${conversation.id}/events`, { headers: { 'last-event-id': all.at(-2)!.id } }));
    expect([...rest.matchAll(/^event: (.+)$/gm)].map((m) => m[1])).toEqual(['conversation.completed']);
  });

  it('refuses a malformed Last-Event-ID or ?after= with 400 VALIDATION_FAILED, and both clients throw ValidationError', async () => {
    const conversation = await overRedis.start({ agent: 'Front', input: 'hello' });
    await conversation.result({ timeoutMs: 15_000 });
    const before = processes[0]!.lines.length;
    for (const bad of ['not-an-id', '-', '+', '>', '$', '1-2-3', '99999999999999999999-0']) {
      for (const init of [{ path: '', headers: { 'last-event-id': bad } as Record<string, string> }, { path: `?after=${encodeURIComponent(bad)}`, headers: {} }]) {
        const response = await api(`/v1/conversations/${conversation.id}/events${init.path}`, { headers: init.headers });
        expect(response.status, `${bad} ${init.path ? 'as ?after=' : 'as Last-Event-ID'}`).toBe(400);
        const body = (await response.json()) as { error: { code: string; message: string; retryable: boolean } };
        expect(body.error).toMatchObject({ code: ErrorCode.VALIDATION_FAILED, retryable: false });
        expect(body.error.message).toMatch(init.path ? /after query parameter/ : /Last-Event-ID header/);
        expect(body.error.message).toMatch(/event id/);
      }
      for (const client of [overRedis, overHttp]) {
        expect(await caught(() => drain(client.conversation(conversation.id).events({ after: bad })))).toEqual({ class: 'ValidationError', code: ErrorCode.VALIDATION_FAILED, retryable: false });
      }
    }
    // No Redis error, stack or other non-JSON line reached the gateway's output.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const printed = processes[0]!.lines.slice(before);
    expect(printed.filter((line) => !line.startsWith('{'))).toEqual([]);
    expect(printed.join('\n')).not.toMatch(/ReplyError|BigInt|Invalid stream ID/);
  });

  it('refuses a context nested 20,000 levels sent by any HTTP client with 400, for its depth', async () => {
    const levels = 20_000;
    const body = `{"agent":"Front","input":"hi","context":{"deep":${'{"a":'.repeat(levels)}{}${'}'.repeat(levels)}}}`;
    const response = await api('/v1/conversations', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(response.status).toBe(400);
    const { error } = (await response.json()) as { error: { code: string; message: string } };
    expect(error.code).toBe(ErrorCode.VALIDATION_FAILED);
    expect(error.message).toMatch(/context\.deep: nests arrays or objects deeper than 128 levels, the limit \(MAX_JSON_DEPTH\)/);
  });

  it('puts retryable in every error body', async () => {
    const unknown = await api('/v1/conversations/c_nosuchconversation1');
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ error: { code: ErrorCode.CONVERSATION_NOT_FOUND, message: expect.any(String), retryable: false, details: { conversationId: 'c_nosuchconversation1' } } });
    const noKey = await fetch(`${base}/v1/agents`);
    expect(noKey.status).toBe(401);
    expect(await noKey.json()).toMatchObject({ error: { code: ErrorCode.UNAUTHORIZED, retryable: false } });
    const noRoute = await api('/v1/nothing-here');
    expect(noRoute.status).toBe(404);
    expect(await noRoute.json()).toMatchObject({ error: { code: ErrorCode.NOT_FOUND, retryable: false } });
  });

  it('throws the same typed errors from both clients, code for code', async () => {
    const running = await overRedis.start({ agent: 'Front', input: 'hang here' });
    const completed = await overRedis.start({ agent: 'Front', input: 'hello' });
    await completed.result({ timeoutMs: 15_000 });
    // Limited has no worker and takes one waiting hop: this start fills its queue.
    await overRedis.start({ agent: 'Limited', input: 'first' });
    const huge = 'x'.repeat(9 * 1024 * 1024);
    /** An object nested `levels` deep: { a: { a: … } }. */
    const deep = (levels: number) => {
      let value: Record<string, unknown> = {};
      for (let i = 1; i < levels; i++) value = { a: value };
      return value;
    };

    /** Each fault, as a caller makes it with either client. */
    const faults: Record<string, (client: HandoffClient) => Promise<unknown>> = {
      'start on an unknown agent': (client) => client.start({ agent: 'Nobody', input: 'hi' }),
      'start with a malformed input': (client) => client.start({ agent: 'Front', input: 42 } as never),
      'start of another schema version': (client) => client.start({ agent: 'Front', input: 'hi', schemaVersion: 99 } as never),
      'start with a 9 MiB input': (client) => client.start({ agent: 'Front', input: huge }),
      'start with a context nested 20,000 levels': (client) => client.start({ agent: 'Front', input: 'hi', context: { deep: deep(20_000) } }),
      'start on an overloaded agent': (client) => client.start({ agent: 'Limited', input: 'second' }),
      'status of an unknown conversation': (client) => client.conversation('c_nosuchconversation1').status(),
      'message to an unknown conversation': (client) => client.conversation('c_nosuchconversation1').send('hi'),
      'cancel of an unknown conversation': (client) => client.cancel('c_nosuchconversation1'),
      'message to a running conversation': (client) => client.conversation(running.id).send('hi'),
      'approval of a conversation that waits for none': (client) => client.conversation(completed.id).approve(),
      'events after a malformed id': (client) => drain(client.conversation(completed.id).events({ after: 'not-an-id' })),
      'result not in time': (client) => client.conversation(running.id).result({ timeoutMs: 300 }),
      'two messages at once': async (client) => {
        const handle = client.conversation(completed.id);
        // The fault is two sends that read the conversation before either applied. On a busy machine
        // the second (a separate HTTP request) can come after the first applied — then it is refused
        // as not waiting, which is not this fault: it is tried again.
        for (let attempt = 1; ; attempt++) {
          const outcomes = await Promise.allSettled([handle.send('one'), handle.send('two')]);
          await handle.result({ timeoutMs: 15_000 });
          const refused = outcomes.find((outcome) => outcome.status === 'rejected');
          if (!refused) return;
          if (attempt < 5 && (refused.reason as { code?: string }).code === ErrorCode.CONVERSATION_NOT_WAITING) continue;
          throw refused.reason;
        }
      },
    };
    const expected: Record<string, [string, ErrorCode]> = {
      'start on an unknown agent': ['UnknownAgentError', ErrorCode.UNKNOWN_AGENT],
      'start with a malformed input': ['ValidationError', ErrorCode.VALIDATION_FAILED],
      'start of another schema version': ['UnsupportedSchemaVersionError', ErrorCode.UNSUPPORTED_SCHEMA_VERSION],
      'start with a 9 MiB input': ['PayloadTooLargeError', ErrorCode.PAYLOAD_TOO_LARGE],
      'start with a context nested 20,000 levels': ['ValidationError', ErrorCode.VALIDATION_FAILED],
      'start on an overloaded agent': ['OverloadedError', ErrorCode.OVERLOADED],
      'status of an unknown conversation': ['ConversationNotFoundError', ErrorCode.CONVERSATION_NOT_FOUND],
      'message to an unknown conversation': ['ConversationNotFoundError', ErrorCode.CONVERSATION_NOT_FOUND],
      'cancel of an unknown conversation': ['ConversationNotFoundError', ErrorCode.CONVERSATION_NOT_FOUND],
      'message to a running conversation': ['ConversationNotWaitingError', ErrorCode.CONVERSATION_NOT_WAITING],
      'approval of a conversation that waits for none': ['ConversationNotWaitingError', ErrorCode.CONVERSATION_NOT_WAITING],
      'events after a malformed id': ['ValidationError', ErrorCode.VALIDATION_FAILED],
      'result not in time': ['TimeoutError', ErrorCode.TIMEOUT],
      'two messages at once': ['VersionConflictError', ErrorCode.VERSION_CONFLICT],
    };
    for (const [fault, make] of Object.entries(faults)) {
      const viaRedis = await caught(() => make(overRedis));
      const viaHttp = await caught(() => make(overHttp));
      expect({ fault, ...viaHttp }).toEqual({ fault, ...viaRedis });
      expect({ fault, class: viaRedis.class, code: viaRedis.code }).toEqual({ fault, class: expected[fault]![0], code: expected[fault]![1] });
    }
    // Too deep a context is refused for its depth, with the limit, not with a stack overflow.
    for (const client of [overRedis, overHttp]) {
      const error = (await client.start({ agent: 'Front', input: 'hi', context: { deep: deep(20_000) } }).then(() => undefined, (e: unknown) => e)) as Error;
      expect(error.message).toMatch(/context\.deep: nests arrays or objects deeper than 128 levels/);
      expect(error.message).not.toMatch(/call stack/);
      // Within the limit, it starts.
      await expect(client.start({ agent: 'Front', input: 'hi', context: { deep: deep(127) } })).resolves.toBeDefined();
    }
    // Only over HTTP: a wrong API key.
    expect(await caught(() => createHttpClient({ baseUrl: base, apiKey: 'wrong' }).start({ agent: 'Front', input: 'hi' }))).toEqual({ class: 'UnauthorizedError', code: ErrorCode.UNAUTHORIZED, retryable: false });
    await overRedis.cancel(running.id);
  });

  it('answers a late approval with a message about approvals, and names the hop of an approved call in its tool.result', async () => {
    for (const [client, approver] of [[overRedis, overRedis], [overHttp, overHttp]] as const) {
      const conversation = await client.start({ agent: 'Careful', input: 'please wipe the thumbnails' });
      expect(await conversation.result({ timeoutMs: 15_000 })).toMatchObject({ status: 'awaiting_user', waiting: { kind: 'approval' } });
      // Two tabs approve at once: one applies, the other is late.
      const outcomes = await Promise.allSettled([approver.conversation(conversation.id).approve(), approver.conversation(conversation.id).approve()]);
      const late = outcomes.find((outcome) => outcome.status === 'rejected');
      expect(late, 'one of the two approvals is refused').toBeDefined();
      const error = (late as PromiseRejectedResult).reason as HandoffError;
      expect(error.code).toBe(ErrorCode.CONVERSATION_NOT_WAITING);
      expect(error.message).toMatch(/waits for no approval; tool calls can be approved or rejected only while it waits for them/);
      expect(error.message).not.toMatch(/message can be sent/);
      expect(await client.conversation(conversation.id).result({ timeoutMs: 15_000 })).toMatchObject({ status: 'completed', output: 'The cache is wiped.' });

      const events = await drain(client.conversation(conversation.id).events());
      const called = events.find((e) => e.type === 'tool.called');
      const result = events.find((e) => e.type === 'tool.result');
      expect(called).toMatchObject({ name: 'wipe_cache', hopId: `${conversation.id}.h1` });
      // Run by the next hop, the result names the hop that made the call: the console shows them together.
      expect(result).toMatchObject({ toolCallId: (called as { toolCallId: string }).toolCallId, result: 'wiped thumbnails', hopId: `${conversation.id}.h2`, callHopId: `${conversation.id}.h1` });
    }
  });
});
