import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, createHttpClient, type HandoffClient, type RedisHandoffClient } from '@handoff/client';
import { EventLog } from '@handoff/redis';
import { keyLayout, type Message, type StoredEvent } from '@handoff/core';
import { findFreePort, startScriptedModel, systemIncludes, type ManagedProcess, type ScriptedModel } from '@handoff/testing';
import { redisUrl, uniquePrefix } from '../support/env.js';
import { startHandoff } from '../support/processes.js';
import { FAST_RECOVERY, waitFor } from './support/deployment.js';
import { openLane, waitingPayloads } from '../support/queues.js';
import { NO_STALL_NETWORK, NO_STALL_RULES } from './support/no-stall-model.js';

/** The history as the model API demands it: every assistant tool call answered by a tool message before anything else follows. */
function unansweredToolCalls(history: Message[]): string[] {
  const problems: string[] = [];
  history.forEach((message, i) => {
    if (message.role !== 'assistant' || !message.tool_calls?.length) return;
    const answered = new Set<string>();
    for (let j = i + 1; j < history.length && history[j]!.role === 'tool'; j++) answered.add((history[j] as { tool_call_id: string }).tool_call_id);
    for (const call of message.tool_calls) if (!answered.has(call.id)) problems.push(`tool call ${call.id} at ${i} unanswered`);
  });
  return problems;
}

/**
 * The paths around the turn, each of which could leave a conversation stalled forever while its
 * caller was told "accepted" — tried on real processes: a gateway and worker processes over a
 * real Redis, the scripted model over HTTP, and clients over Redis and over HTTP.
 */
describe('no conversation stalls on the paths around the turn', () => {
  const prefix = uniquePrefix('nostall');
  const keys = keyLayout(prefix);
  let model: ScriptedModel;
  let gateway: ManagedProcess;
  let mainWorker: ManagedProcess;
  let primaryWorker: ManagedProcess;
  let client: RedisHandoffClient;
  let secondTab: RedisHandoffClient;
  let http: HandoffClient;
  let redis: Redis;

  beforeAll(async () => {
    model = await startScriptedModel({ rules: NO_STALL_RULES() });
    const env = { REDIS_URL: redisUrl(), HANDOFF_PREFIX: prefix, OPENAI_BASE_URL: model.url, OPENAI_API_KEY: 'test' };
    const port = await findFreePort();
    [gateway, mainWorker, primaryWorker] = await Promise.all([
      startHandoff('gateway', ['gateway', '--network', NO_STALL_NETWORK, ...FAST_RECOVERY, '--reconcile-after', '800', '--reconcile-interval', '200', '--http-port', String(port), '--no-auth'], env),
      startHandoff('worker main', ['worker', '--network', NO_STALL_NETWORK, ...FAST_RECOVERY, '--agents', 'Front,Backup,Clerk,Helper', '--concurrency', '32'], env),
      startHandoff('worker primary', ['worker', '--network', NO_STALL_NETWORK, ...FAST_RECOVERY, '--agents', 'Primary'], env),
    ]);
    client = createClient({ redis: { url: redisUrl(), prefix } });
    secondTab = createClient({ redis: { url: redisUrl(), prefix } });
    http = createHttpClient({ baseUrl: `http://127.0.0.1:${port}` });
    redis = new Redis(redisUrl());
  }, 60_000);

  afterAll(async () => {
    await Promise.all([client?.close(), secondTab?.close(), http?.close()]);
    redis?.disconnect();
    await Promise.all([gateway, mainWorker, primaryWorker].filter((p) => p?.running).map((p) => p.stop(3_000)));
    await model?.close();
  });

  /** The events logged so far (not waiting for more). */
  async function eventsOf(id: string): Promise<StoredEvent[]> {
    return new EventLog(redis, keys).read(id);
  }

  async function historyOf(id: string): Promise<Message[]> {
    return (await redis.lrange(keys.history(id), 0, -1)).map((entry) => JSON.parse(entry) as Message);
  }

  it('a cancel right after the start is never dropped: 100 of 100 conversations end cancelled', async () => {
    const conversations = await Promise.all(
      Array.from({ length: 100 }, async (_, i) => {
        const conversation = await client.start({ agent: 'Front', input: `cancel-me ${i}` });
        await conversation.cancel('changed my mind');
        return conversation;
      }),
    );
    const results = await Promise.all(conversations.map((c) => c.result({ timeoutMs: 20_000 })));
    expect(results.filter((r) => r.status !== 'cancelled').map((r) => `${r.conversationId} ${r.status}`)).toEqual([]);
    // A second cancel, and a cancel of an ended conversation, resolve: the conversation stays as it ended.
    await conversations[0]!.cancel('again');
    expect((await conversations[0]!.status()).status).toBe('cancelled');
  }, 60_000);

  it('a cancel after an earlier cancel of the same conversation is not dropped as a duplicate', async () => {
    const conversation = await client.start({ agent: 'Front', input: 'hello there' });
    expect(await conversation.result({ timeoutMs: 15_000 })).toMatchObject({ status: 'completed' });
    // Cancelling a completed conversation changes nothing…
    await conversation.cancel('too late');
    expect((await conversation.status()).status).toBe('completed');
    // …and a later cancel, once the conversation runs again, still takes effect.
    await conversation.send('cancel-me: a slow follow-up');
    await conversation.cancel('stop it now');
    expect(await conversation.result({ timeoutMs: 15_000 })).toMatchObject({ status: 'cancelled', reason: 'cancelled' });
  }, 60_000);

  it('two tabs answering the same question: one message applies, the other is refused with the same code on both clients', async () => {
    for (const order of [0, 1]) {
      const conversation = await client.start({ agent: 'Front', input: `clerk please (round ${order})` });
      expect((await conversation.result({ timeoutMs: 15_000 })).status).toBe('awaiting_user');
      const tabs = order === 0 ? [secondTab, http] : [http, secondTab];
      const sends = await Promise.allSettled(tabs.map((tab, i) => tab.conversation(conversation.id).send(`answer from tab ${i} round ${order}`)));
      const applied = sends.filter((s) => s.status === 'fulfilled');
      const refused = sends.filter((s): s is PromiseRejectedResult => s.status === 'rejected');
      expect(applied).toHaveLength(1);
      expect(refused).toHaveLength(1);
      expect(refused[0]!.reason).toMatchObject({ code: expect.stringMatching(/^(VERSION_CONFLICT|CONVERSATION_NOT_WAITING)$/) });
      const answers = (await historyOf(conversation.id)).filter((m) => m.role === 'user' && String(m.content).startsWith('answer from tab'));
      expect(answers).toHaveLength(1);
    }
  }, 60_000);

  it('a text reply while tool calls wait for approval is refused (same code over Redis and HTTP), and the history stays valid for the model', async () => {
    const conversation = await client.start({ agent: 'Front', input: 'refund please' });
    const waiting = await conversation.result({ timeoutMs: 15_000 });
    expect(waiting).toMatchObject({ status: 'awaiting_user', waiting: { kind: 'approval' } });
    await expect(conversation.send('never mind')).rejects.toMatchObject({ code: 'CONVERSATION_NOT_WAITING', message: expect.stringMatching(/approv/) });
    await expect(http.conversation(conversation.id).send('never mind')).rejects.toMatchObject({ code: 'CONVERSATION_NOT_WAITING', message: expect.stringMatching(/approv/) });
    await conversation.approve();
    expect(await conversation.result({ timeoutMs: 15_000 })).toMatchObject({ status: 'completed', output: 'Refund done.' });
    expect(unansweredToolCalls(await historyOf(conversation.id))).toEqual([]);
  }, 60_000);

  it('a nested chat cancelled by its id lets its parent continue', async () => {
    const parent = await client.start({ agent: 'Front', input: 'nest slow' });
    await waitFor(async () => (await parent.status()).status === 'awaiting_child', 10_000, 'the nested chat to start');
    const waiting = (await parent.status()).waiting;
    const childId = waiting?.kind === 'child' ? waiting.childId : '';
    await waitFor(() => model.requests.some(systemIncludes('You are Helper.')), 10_000, 'the helper to work');
    await client.cancel(childId, 'taking too long');
    const result = await parent.result({ timeoutMs: 15_000 });
    expect(result).toMatchObject({ status: 'completed', output: expect.stringMatching(/^Front sums up: .*cancelled/) });
    expect((await eventsOf(parent.id)).find((e) => e.type === 'nested.completed')).toMatchObject({ childConversationId: childId, status: 'cancelled' });
  }, 60_000);

  it('a nested chat that waits for its user shows where the parent waits; answering the child lets both finish', async () => {
    const parent = await client.start({ agent: 'Front', input: 'nest ask' });
    await waitFor(async () => {
      const { waiting } = await parent.status();
      return waiting?.kind === 'child' && waiting.childAwaitingUser !== undefined;
    }, 15_000, 'the parent to show that its child waits for the user');
    const waiting = (await parent.status()).waiting;
    if (waiting?.kind !== 'child') throw new Error('unreachable');
    expect(waiting.childAwaitingUser).toEqual({ conversationId: waiting.childId, agent: 'Helper' });
    // Over HTTP too: the view shows it.
    expect((await http.conversation(parent.id).status()).waiting).toMatchObject({ kind: 'child', childAwaitingUser: { conversationId: waiting.childId } });
    await client.conversation(waiting.childId).send('done');
    expect(await parent.result({ timeoutMs: 15_000 })).toMatchObject({ status: 'completed', output: expect.stringMatching(/Helper finished/) });
    expect((await eventsOf(parent.id)).some((e) => e.type === 'nested.awaiting_user')).toBe(true);
  }, 60_000);

  it('a conversation id used again after the old one expired never meets the old conversation\'s history or jobs', async () => {
    const id = `reused_${prefix.slice(-8)}`;
    const first = await client.start({ agent: 'Front', input: 'the first user says: my secret is 1234', conversationId: id });
    expect(await first.result({ timeoutMs: 15_000 })).toMatchObject({ status: 'completed' });
    // Its retention ends: the conversation's keys expire (the queues keep their finished jobs).
    await redis.del(keys.conversation(id), keys.history(id), keys.events(id), keys.finishedEvents(id), keys.done(id), keys.ops(id));
    const requestsBefore = model.requests.length;
    const second = await client.start({ agent: 'Front', input: 'a second user, a new question', conversationId: id });
    expect(await second.result({ timeoutMs: 15_000 })).toMatchObject({ status: 'completed', output: 'Front answers: a second user, a new question' });
    const seen = model.requests.slice(requestsBefore).map((r) => JSON.stringify(r.body.messages));
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.filter((text) => text.includes('secret is 1234'))).toEqual([]);
  }, 60_000);

  it('admission holds under a burst: 50 simultaneous starts with maxWaiting 3 admit exactly 3', async () => {
    const starts = await Promise.allSettled(Array.from({ length: 50 }, (_, i) => client.start({ agent: 'Queued', input: `burst ${i}` })));
    expect(starts.filter((s) => s.status === 'fulfilled')).toHaveLength(3);
    const refused = starts.filter((s): s is PromiseRejectedResult => s.status === 'rejected');
    expect(refused).toHaveLength(47);
    for (const refusal of refused) expect(refusal.reason).toMatchObject({ code: 'OVERLOADED', retryable: true });
  }, 30_000);

  it('a publish that fails after the apply committed leaves no hop stalled: it is published again once Redis takes writes', async () => {
    // Clerk's lane cannot take a hop (a key of the wrong type stands where its wait list goes), as
    // during a failover: the push fails, and the turn result's apply has committed all the same.
    const waitKey = openLane('Clerk', redis, prefix).keys.wait;
    const saved = await redis.lrange(waitKey, 0, -1);
    await redis.del(waitKey);
    await redis.set(waitKey, 'not a list');
    const conversation = await client.start({ agent: 'Front', input: 'clerk please, while the queue is broken' });
    // The handoff to Clerk applied; its publish is what fails (the hop is not in Clerk's lane).
    await waitFor(async () => (await conversation.status()).next?.agent === 'Clerk', 20_000, 'the handoff to Clerk to apply');
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const { status, next } = await conversation.status();
    expect(status).toBe('running');
    expect(next?.agent).toBe('Clerk');
    // Redis takes writes again: the reconciler finds the hop that no list holds, and publishes it again.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await redis.del(waitKey);
    if (saved.length > 0) await redis.rpush(waitKey, ...saved);
    expect(await conversation.result({ timeoutMs: 15_000 })).toMatchObject({ status: 'awaiting_user', agent: 'Clerk', path: ['Front', 'Clerk'] });
    expect((await eventsOf(conversation.id)).some((e) => e.type === 'warning' && /published again/.test(e.message))).toBe(true);
  }, 60_000);

  it('a hop queued to an agent whose only worker just died is moved to its live fallback', async () => {
    primaryWorker.kill('SIGKILL');
    await primaryWorker.exited;
    // Within the dead worker's heartbeat lifetime the handoff goes to Primary's queue, where no one
    // will take it. (A heartbeat held fresh until the hop is queued makes that window as long as the
    // test needs, whatever the machine's load.)
    const heartbeats = keys.workers('Primary');
    await redis.zadd(heartbeats, Date.now() + 60_000, 'just-died');
    const conversation = await client.start({ agent: 'Front', input: 'primary please' });
    const primaryLane = openLane('Primary', redis, prefix);
    await waitFor(async () => (await waitingPayloads(primaryLane)).some((hop) => hop.conversationId === conversation.id), 15_000, 'the hop to wait on Primary\'s lane');
    await redis.zrem(heartbeats, 'just-died');
    const result = await conversation.result({ timeoutMs: 20_000 });
    expect(result).toMatchObject({ status: 'completed', output: 'Backup answers: primary please', agent: 'Backup', path: ['Front', 'Backup'] });
    const events = await eventsOf(conversation.id);
    expect(events.find((e) => e.type === 'routing.decided' && e.strategy === 'health')).toMatchObject({ router: 'Primary', agent: 'Backup' });
    // Moved while queued (not routed around at the handoff: Primary's heartbeat was still fresh then).
    expect(events.some((e) => e.type === 'warning' && /waited on the queue of Primary/.test(e.message))).toBe(true);
    expect((await waitingPayloads(primaryLane)).filter((hop) => hop.conversationId === conversation.id)).toEqual([]);
  }, 60_000);
});
