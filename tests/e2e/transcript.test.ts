import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, createHttpClient, type HandoffClient, type RedisHandoffClient } from '@handoff/client';
import type { TranscriptPage } from '@handoff/core';
import { ManagedProcess, findFreePort, startScriptedModel, type ScriptedModel } from '@handoff/testing';
import { redisUrl, uniquePrefix } from '../support/env.js';
import { HANDOFF_BIN, REPO_ROOT, startHandoff } from '../support/processes.js';
import { NO_STALL_NETWORK, NO_STALL_RULES } from '../faults/support/no-stall-model.js';

/**
 * A conversation's transcript — its messages in the OpenAI format, each with the agent that wrote
 * it, a page at a time — read the same way over Redis, over HTTP and from the CLI, from a gateway
 * and a worker running as processes.
 */
describe('reading a conversation\'s messages', () => {
  const prefix = uniquePrefix('transcript');
  let model: ScriptedModel;
  let processes: ManagedProcess[];
  let client: RedisHandoffClient;
  let http: HandoffClient;
  let env: Record<string, string>;

  beforeAll(async () => {
    model = await startScriptedModel({ rules: NO_STALL_RULES() });
    env = { REDIS_URL: redisUrl(), HANDOFF_PREFIX: prefix, OPENAI_BASE_URL: model.url, OPENAI_API_KEY: 'test' };
    const port = await findFreePort();
    processes = await Promise.all([
      startHandoff('gateway', ['gateway', '--network', NO_STALL_NETWORK, '--http-port', String(port), '--no-auth'], env),
      startHandoff('worker', ['worker', '--network', NO_STALL_NETWORK], env),
    ]);
    client = createClient({ redis: { url: redisUrl(), prefix } });
    http = createHttpClient({ baseUrl: `http://127.0.0.1:${port}` });
  }, 60_000);

  afterAll(async () => {
    await Promise.all([client?.close(), http?.close()]);
    await Promise.all((processes ?? []).map((p) => p.stop(3_000)));
    await model?.close();
  });

  it('pages through the history with the agent of every message, the same over Redis, HTTP and the CLI', async () => {
    const conversation = await client.start({ agent: 'Front', input: 'primary please, who are you?' });
    expect(await conversation.result({ timeoutMs: 20_000 })).toMatchObject({ status: 'completed', path: ['Front', 'Primary'] });
    // A follow-up continues with the last agent.
    await conversation.send('and one more thing');
    expect(await conversation.result({ timeoutMs: 20_000 })).toMatchObject({ status: 'completed' });

    const all = await conversation.messages({ limit: 1_000 });
    expect(all.total).toBe(6);
    expect(all.next).toBeNull();
    expect(all.entries.map((e) => [e.index, e.message.role, e.agent])).toEqual([
      [0, 'user', null],
      [1, 'assistant', 'Front'],
      [2, 'tool', 'Front'],
      [3, 'assistant', 'Primary'],
      [4, 'user', null],
      [5, 'assistant', 'Primary'],
    ]);
    expect(all.entries[1]!.message).toMatchObject({ role: 'assistant', tool_calls: [{ function: { name: 'transfer_to_Primary' } }] });
    expect(all.entries[5]!.message).toEqual({ role: 'assistant', content: 'Primary answers: and one more thing' });

    // Pages of two, over Redis and over HTTP alike.
    const pages = async (handle: { messages(query: { from: number; limit: number }): Promise<TranscriptPage> }) => {
      const seen: unknown[] = [];
      const nexts: (number | null)[] = [];
      for (let from: number | null = 0; from !== null; ) {
        const page = await handle.messages({ from, limit: 2 });
        seen.push(...page.entries);
        nexts.push(page.next);
        from = page.next;
      }
      return { seen, nexts };
    };
    const overRedis = await pages(conversation);
    const overHttp = await pages(http.conversation(conversation.id));
    expect(overRedis.nexts).toEqual([2, 4, null]);
    expect(overRedis.seen).toEqual(all.entries);
    expect(overHttp).toEqual(overRedis);

    // The CLI prints the same transcript.
    const cli = await ManagedProcess.start({ name: 'handoff inspect --messages', command: process.execPath, args: [HANDOFF_BIN, 'inspect', conversation.id, '--messages', '--json'], cwd: REPO_ROOT, env });
    expect((await cli.exited).code, cli.lines.join('\n')).toBe(0);
    expect(JSON.parse(cli.lines.join('\n'))).toEqual({ conversationId: conversation.id, total: 6, entries: all.entries });
    const text = await ManagedProcess.start({ name: 'handoff inspect --messages', command: process.execPath, args: [HANDOFF_BIN, 'inspect', conversation.id, '--messages'], cwd: REPO_ROOT, env });
    expect((await text.exited).code).toBe(0);
    expect(text.lines).toContain('  [3] assistant (Primary): Primary answers: primary please, who are you?');
  }, 60_000);

  it('refuses a bad page and an unknown conversation with the same typed errors on both clients', async () => {
    const conversation = await client.start({ agent: 'Front', input: 'hello there' });
    await conversation.result({ timeoutMs: 20_000 });
    for (const handle of [client.conversation(conversation.id), http.conversation(conversation.id)]) {
      await expect(handle.messages({ limit: 0 })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
      await expect(handle.messages({ from: -1 })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
      await expect(handle.messages({ limit: 1_001 })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    }
    for (const c of [client, http]) await expect(c.conversation('c_no_such_conversation').messages()).rejects.toMatchObject({ code: 'CONVERSATION_NOT_FOUND' });
    // A page past the end is empty, not an error.
    expect(await http.conversation(conversation.id).messages({ from: 50 })).toEqual({ conversationId: conversation.id, entries: [], total: 2, next: null });
  }, 30_000);
});
