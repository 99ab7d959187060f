import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import type { RedisHandoffClient } from '@handoff/client';
import { defineAgent, defineNetwork, type StoredEvent } from '@handoff/core';
import { RedisServerProcess, type RecordedRequest, type ScriptedModel } from '@handoff/testing';
import { startInProcess, type InProcessRuntime } from '../support/in-process.js';
import { startMonitor } from '../support/monitor.js';

/** The first user message of a model request. */
function firstUserText(req: RecordedRequest): unknown {
  return req.body.messages.find((m) => m.role === 'user')?.content;
}

/** Connections named like a client's (the command connection, and what it duplicates) on this Redis. */
async function clientConnections(redis: Redis): Promise<number> {
  const list = String(await redis.client('LIST'));
  return list.split('\n').filter((line) => / name=handoff-client /.test(` ${line} `)).length;
}

/**
 * A client's waits share its connections: every result() waits on one subscriber connection (the
 * coordinator publishes when a conversation parks), and event readers borrow from a bounded pool —
 * a reader that finds none free reads without blocking and tries again, so it still sees every
 * event. On a Redis of its own, so the connection count is this test's alone.
 */
describe('result() and events() share a bounded set of connections', () => {
  const WAITERS = 24;
  const POOL = 3;
  let server: RedisServerProcess;
  let rt: InProcessRuntime;
  let model: ScriptedModel;
  let client: RedisHandoffClient;
  let probe: Redis;
  let release: () => void = () => undefined;
  const held = new Promise<void>((resolve) => (release = resolve));

  beforeAll(async () => {
    server = new RedisServerProcess({ args: ['--save', '', '--appendonly', 'no'] });
    await server.start();
    rt = await startInProcess({
      label: 'shared-waits',
      redisUrl: server.url,
      concurrency: WAITERS,
      client: { maxBlockingConnections: POOL },
      network: (url) => defineNetwork({ name: 'solo', agents: [defineAgent({ name: 'Solo', instructions: 'You are Solo.', model: { name: 'scripted', baseURL: url, apiKey: 'test', maxRetries: 0 } })] }),
      rules: [{ reply: { content: 'Done.', hold: held } }],
    });
    ({ model, client, redis: probe } = rt);
  }, 60_000);

  afterAll(async () => {
    release();
    await rt?.close();
    await server?.stop();
  });

  it(`${WAITERS} result() waits and ${WAITERS} event readers hold one subscriber and at most ${POOL} blocking connections`, async () => {
    const conversations = await Promise.all(Array.from({ length: WAITERS }, (_, i) => client.start({ agent: 'Solo', input: `hello ${i}` })));
    await model.waitForRequests(WAITERS, 20_000);
    const before = await clientConnections(probe);

    const results = conversations.map((c) => c.result({ timeoutMs: 30_000 }));
    const streams = conversations.map(async (c) => {
      const seen: StoredEvent[] = [];
      for await (const event of c.events({ timeoutMs: 30_000 })) seen.push(event);
      return seen;
    });
    // Every waiter is waiting now (the turns are held): count what they opened.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const opened = (await clientConnections(probe)) - before;
    expect(opened).toBeGreaterThanOrEqual(1); // the subscriber, at least
    expect(opened).toBeLessThanOrEqual(1 + POOL);

    release();
    const ended = await Promise.all(results);
    expect(ended.map((r) => r.status)).toEqual(conversations.map(() => 'completed'));
    const logs = await Promise.all(streams);
    for (const events of logs) {
      expect(events.at(-1)?.type).toBe('conversation.completed');
      expect(events.some((e) => e.type === 'agent.completed')).toBe(true);
    }
    // The waits gave their subscriptions back.
    expect(await probe.pubsub('NUMPAT')).toBe(0);
    expect(((await probe.pubsub('CHANNELS')) as string[]).filter((channel) => channel.endsWith(':done'))).toEqual([]);
  }, 60_000);

  /**
   * A conversation whose turn the model holds (answering `content` to `input` once released), with
   * a result() waiter that has been waiting a while.
   */
  async function heldConversation(input: string, content: string) {
    let releaseOne: () => void = () => undefined;
    const heldOne = new Promise<void>((resolve) => (releaseOne = resolve));
    model.prependRule({ when: (req) => firstUserText(req) === input, reply: { content, hold: heldOne } });
    const before = model.requests.length;
    const conversation = await client.start({ agent: 'Solo', input });
    await model.waitForRequests(before + 1, 20_000);
    const result = conversation.result({ timeoutMs: 20_000 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    return { conversation, result, releaseOne };
  }

  it('a waiter whose subscriber connection was killed still gets its result', async () => {
    const { result, releaseOne } = await heldConversation('one more', 'Late.');
    // The park's message may be published while the subscriber reconnects, and then it is lost:
    // the waiter re-reads the record on its own every few seconds.
    expect(Number(await probe.client('KILL', 'TYPE', 'pubsub'))).toBeGreaterThanOrEqual(1);
    releaseOne();
    await expect(result).resolves.toMatchObject({ status: 'completed', output: 'Late.' });
  }, 30_000);

  it('a waiter is told the result with the wake-up: it reads no record after the park', async () => {
    const { conversation, result, releaseOne } = await heldConversation('told', 'Told.');
    // From here on, every command Redis runs is seen: the park's PUBLISH, and any read of the record after it.
    const monitor = await startMonitor(server.url);
    releaseOne();
    const told = await result;
    await monitor.stop();
    const seen = monitor.commands
      .filter((c) => c.args.some((a) => a.includes(conversation.id)))
      .map((c) => ({ command: `${c.args[0]!.toLowerCase()} ${c.args[1] ?? ''}`, byScript: c.source === 'lua' }));
    expect(told).toMatchObject({ conversationId: conversation.id, status: 'completed', reason: 'final_output', output: 'Told.', agent: 'Solo', path: ['Solo'] });
    // The result it was told is the one the record holds.
    expect(told).toEqual(await client.conversation(conversation.id).result({ timeoutMs: 1_000 }));
    const published = seen.findIndex(({ command }) => command.startsWith('publish '));
    expect(published).toBeGreaterThanOrEqual(0);
    // After the park, what clients sent about the conversation reads nothing of its record (the unsubscribe, the gateway's bookkeeping).
    const readsAfter = seen.slice(published + 1).filter(({ command, byScript }) => !byScript && /^(evalsha|hgetall|hmget|hget) /.test(command));
    expect(readsAfter).toEqual([]);
  }, 30_000);

  it('a result() wait still ends at its timeout with TIMEOUT', async () => {
    model.prependRule({ when: (req) => firstUserText(req) === 'slow', reply: { content: 'Never in time.', hold: new Promise<void>(() => undefined) } });
    const before = model.requests.length;
    const conversation = await client.start({ agent: 'Solo', input: 'slow' });
    await model.waitForRequests(before + 1, 20_000);
    await expect(conversation.result({ timeoutMs: 400 })).rejects.toMatchObject({ code: 'TIMEOUT' });
    await client.cancel(conversation.id, 'test over');
  }, 30_000);
});
