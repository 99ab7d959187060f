import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { keyLayout } from '@handoff/core';
import { HealthView } from '@handoff/gateway';
import { redisUrl, uniquePrefix } from '../support/env.js';

/**
 * The coordinator's view of live workers: a count is cached, a stale one is answered at once and
 * read again behind the answer (so a stream of hops never waits for the read), and one older than
 * that is read before answering.
 */
describe('health view', () => {
  let redis: Redis;
  let commands: Redis;
  const keys = keyLayout(uniquePrefix('health'));
  /** The heartbeat reads the view sent: its connection's ZCOUNT calls (Redis answers each). */
  const reads: string[] = [];

  beforeAll(() => {
    redis = new Redis(redisUrl());
    commands = new Redis(redisUrl());
    const zcount = commands.zcount.bind(commands) as (...args: unknown[]) => Promise<number>;
    (commands as unknown as { zcount: (...args: unknown[]) => Promise<number> }).zcount = (...args: unknown[]) => {
      reads.push(String(args[0]));
      return zcount(...args);
    };
  });
  afterAll(() => {
    redis?.disconnect();
    commands?.disconnect();
  });

  const beat = (agent: string, worker: string) => redis.zadd(keys.workers(agent), Date.now(), worker);
  const settle = () => new Promise((resolve) => setTimeout(resolve, 30));

  it('answers a stale count at once and refreshes it behind the answer; reads an expired one first', async () => {
    const view = new HealthView(commands, keys, 200);
    await beat('A', 'w1');
    expect(await view.liveWorkers('A')).toBe(1);
    await settle();
    expect(reads).toHaveLength(1);

    // Fresh: answered from the cache, no read.
    await beat('A', 'w2');
    expect(await view.liveWorkers('A')).toBe(1);
    await settle();
    expect(reads).toHaveLength(1);

    // Stale (older than the cache time, younger than 4×): the old count at once, one read behind it…
    await new Promise((resolve) => setTimeout(resolve, 250));
    const [first, second] = await Promise.all([view.liveWorkers('A'), view.liveWorkers('A')]);
    expect([first, second]).toEqual([1, 1]);
    await settle();
    expect(reads).toHaveLength(2);
    // … whose answer the next call gets.
    expect(await view.liveWorkers('A')).toBe(2);

    // Expired (older than 4× the cache time): read before answering.
    await new Promise((resolve) => setTimeout(resolve, 850));
    await redis.zrem(keys.workers('A'), 'w1', 'w2');
    expect(await view.liveWorkers('A')).toBe(0);
    await settle();
    expect(reads).toHaveLength(3);
  });

  it('with no cache time, reads every time', async () => {
    const view = new HealthView(commands, keys, 0);
    const before = reads.length;
    await beat('B', 'w1');
    expect(await view.liveWorkers('B')).toBe(1);
    await redis.zrem(keys.workers('B'), 'w1');
    expect(await view.liveWorkers('B')).toBe(0);
    await settle();
    expect(reads.length - before).toBe(2);
  });
});
