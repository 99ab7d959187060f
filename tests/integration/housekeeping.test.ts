import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { Redis } from 'ioredis';
import pino from 'pino';
import { agentQueueName, defineAgent, defineNetwork, keyLayout } from '@handoff/core';
import { ChangeWatcher, QueueSet, addDeadLetter, createRedisConnection, listDeadLetters, replayDeadLetter } from '@handoff/redis';
import { Housekeeping } from '@handoff/gateway';
import { redisUrl, uniquePrefix } from '../support/env.js';
import { startInProcess, type InProcessRuntime } from '../support/in-process.js';

/**
 * What nothing else removes stays bounded: the done key keeps its retention TTL,
 * the gateway's housekeeping trims the dead-letter queue by age and count and reaps the heartbeat
 * entries of workers that died without removing themselves. On a real Redis.
 */
describe("result() keeps the done key's TTL", () => {
  let rt: InProcessRuntime;
  let release: () => void = () => undefined;
  const held = new Promise<void>((resolve) => (release = resolve));

  beforeAll(async () => {
    rt = await startInProcess({
      label: 'hk-done',
      network: (url) =>
        defineNetwork({ name: 'solo', agents: [defineAgent({ name: 'Solo', instructions: 'You are Solo.', model: { name: 'scripted', baseURL: url, apiKey: 'test', maxRetries: 0 } })] }),
      rules: [{ reply: { content: 'Done.', hold: held } }],
    });
  });
  afterAll(async () => {
    release();
    await rt.close();
  });

  it('wakes a waiter without stripping the TTL the park gave the done key', async () => {
    const wait = vi.spyOn(ChangeWatcher.prototype, 'watch');
    try {
      const conversation = await rt.client.start({ agent: 'Solo', input: 'hi' });
      await rt.model.waitForRequests(1, 10_000);
      // The turn is held: result() finds the conversation running and waits for the park's message.
      const result = conversation.result({ timeoutMs: 15_000 });
      await vi.waitFor(() => expect(wait).toHaveBeenCalled(), { timeout: 5_000 });
      release();
      await expect(result).resolves.toMatchObject({ status: 'completed', output: 'Done.' });
      const doneKey = keyLayout(rt.prefix).done(conversation.id);
      expect(await rt.redis.llen(doneKey)).toBe(1);
      const ttl = await rt.redis.pttl(doneKey);
      expect(ttl).toBeGreaterThan(0);
      // A second waiter wakes at once, and the key still expires.
      await expect(conversation.result({ timeoutMs: 5_000 })).resolves.toMatchObject({ status: 'completed' });
      expect(await rt.redis.pttl(doneKey)).toBeGreaterThan(0);
    } finally {
      wait.mockRestore();
    }
  });
});

describe('gateway housekeeping', () => {
  const network = defineNetwork({
    name: 'pair',
    agents: [defineAgent({ name: 'A', instructions: 'You are A.', handoffs: ['B'] }), defineAgent({ name: 'B', instructions: 'You are B.' })],
  });
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  let redis: Redis;
  const opened: QueueSet[] = [];

  beforeAll(() => {
    redis = createRedisConnection(redisUrl(), 'command') as Redis;
  });
  afterEach(() => {
    vi.useRealTimers();
  });
  afterAll(async () => {
    await Promise.all(opened.map((q) => q.close()));
    redis.disconnect();
  });

  function setup(label: string, options: ConstructorParameters<typeof Housekeeping>[1]) {
    const prefix = uniquePrefix(label);
    const keys = keyLayout(prefix);
    const queues = new QueueSet(redis, prefix);
    opened.push(queues);
    return { keys, queues, housekeeping: new Housekeeping({ network, queues, redis, keys, logger }, options) };
  }

  /** The dead-letter id of job `jobId` of agent A's queue (see addDeadLetter). */
  const letterId = (jobId: string) => `${agentQueueName('A')}.${jobId}`.replaceAll(':', '_');

  /** Dead letters from agent A's queue, job ids `ids`, dead at `at` (Unix ms; BullMQ stamps the job with the same clock). */
  async function deadLetters(queues: QueueSet, ids: string[], at: number): Promise<void> {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(at);
    try {
      for (const id of ids) {
        await addDeadLetter(queues, { sourceQueue: agentQueueName('A'), jobId: id, conversationId: `c-${id}`, error: { code: 'HOP_FAILED', message: 'test', retryable: false }, payload: { conversationId: `c-${id}` } });
      }
    } finally {
      vi.useRealTimers();
    }
  }

  it('removes dead letters older than the maximum age, and listing and replay still work', async () => {
    const { queues, housekeeping } = setup('hk-dlq-age', { deadLetterMaxAgeMs: 60_000 });
    const now = Date.now();
    await deadLetters(queues, ['old1', 'old2'], now - 3_600_000);
    await deadLetters(queues, ['new1', 'new2'], now);

    const report = await housekeeping.runOnce();
    expect(report).toMatchObject({ deadLettersExpired: 2, deadLettersOverCount: 0 });
    const left = await listDeadLetters(queues);
    expect(left.map((l) => l.jobId)).toEqual(['new2', 'new1']);
    expect(await queues.deadLetter.getJob(letterId('old1'))).toBeUndefined();
    await expect(replayDeadLetter(queues, letterId('old1'))).rejects.toThrow(/No dead letter/);
    expect(await replayDeadLetter(queues, letterId('new1'))).toBe('new1');
    expect((await listDeadLetters(queues)).map((l) => l.jobId)).toEqual(['new2']);

    // Nothing more to do: a second run removes nothing.
    expect(await housekeeping.runOnce()).toMatchObject({ deadLettersExpired: 0, deadLettersOverCount: 0 });
  });

  it('keeps at most the maximum count of dead letters, removing the oldest', async () => {
    const { queues, housekeeping } = setup('hk-dlq-count', { deadLetterMaxCount: 3, batch: 2 });
    const now = Date.now();
    for (let i = 1; i <= 7; i++) await deadLetters(queues, [`j${i}`], now - (8 - i) * 1_000);

    const report = await housekeeping.runOnce();
    expect(report).toMatchObject({ deadLettersExpired: 0, deadLettersOverCount: 4 });
    expect((await listDeadLetters(queues)).map((l) => l.jobId)).toEqual(['j7', 'j6', 'j5']);
    expect(await queues.deadLetter.getWaitingCount()).toBe(3);
    expect(await housekeeping.runOnce()).toMatchObject({ deadLettersOverCount: 0 });
  });

  it('reaps heartbeat entries of workers gone silent and keeps live ones', async () => {
    const { keys, housekeeping } = setup('hk-heartbeat', { workerReapAgeMs: 5_000 });
    const now = Date.now();
    await redis.zadd(keys.workers('A'), now - 60_000, 'crashed-a', now, 'live-a');
    await redis.zadd(keys.workers('B'), now - 10_000, 'crashed-b', now - 1_000, 'live-b');

    const report = await housekeeping.runOnce();
    expect(report.workersReaped).toBe(2);
    expect(await redis.zrange(keys.workers('A'), 0, -1)).toEqual(['live-a']);
    expect(await redis.zrange(keys.workers('B'), 0, -1)).toEqual(['live-b']);
  });

  it('runs on its own timer and stops cleanly', async () => {
    const { keys, housekeeping } = setup('hk-timer', { intervalMs: 50 });
    await redis.zadd(keys.workers('A'), Date.now() - 120_000, 'crashed');
    housekeeping.start();
    try {
      await vi.waitFor(async () => expect(await redis.zcard(keys.workers('A'))).toBe(0), { timeout: 5_000, interval: 50 });
    } finally {
      await housekeeping.stop();
    }
  });
});
