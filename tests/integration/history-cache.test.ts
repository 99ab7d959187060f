import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyLayout } from '@handoff/core';
import { ConversationStore } from '@handoff/redis';
import { HistoryCache } from '@handoff/worker';
import { redisUrl, uniquePrefix } from '../support/env.js';

const message = (i: number, tag = 'v1') => JSON.stringify({ role: 'user', content: `${tag} message ${i}` });

/** The worker's history cache reads only what it has not seen, and stays bounded. */
describe('HistoryCache', () => {
  const keys = keyLayout(uniquePrefix('hcache'));
  let redis: Redis;
  let store: ConversationStore;
  beforeAll(() => {
    redis = new Redis(redisUrl());
    store = new ConversationStore(redis, keys);
  });
  afterAll(() => redis.disconnect());

  async function seed(id: string, count: number, epoch = 'e1'): Promise<void> {
    await redis.hset(keys.conversation(id), 'status', 'running', 'appliedSeq', '2', 'epoch', epoch);
    await redis.rpush(keys.history(id), ...Array.from({ length: count }, (_, i) => message(i)));
  }

  it('reads the prefix once, then only the tail, with the progress in the same call', async () => {
    await seed('c_tail', 5);
    const cache = new HistoryCache();
    const first = await cache.read(store, 'c_tail', 3, 'e1');
    expect(first.progress).toEqual({ status: 'running', appliedSeq: 2, epoch: 'e1' });
    expect(first.history?.map((m) => m.content)).toEqual(['v1 message 0', 'v1 message 1', 'v1 message 2']);
    // Rewrite the cached prefix in Redis: a second read must not fetch it again.
    await redis.lset(keys.history('c_tail'), 0, message(0, 'v2'));
    const second = await cache.read(store, 'c_tail', 5, 'e1');
    expect(second.history?.map((m) => m.content)).toEqual(['v1 message 0', 'v1 message 1', 'v1 message 2', 'v1 message 3', 'v1 message 4']);
    expect(cache.size.conversations).toBe(1);
  });

  it('reads ahead for a woken hop, and the read of that hop uses what was read ahead instead of reading again', async () => {
    await seed('c_ahead', 3);
    const cache = new HistoryCache();
    cache.prefetch(store, 'c_ahead.h3.e1', 'c_ahead', 3, 'e1');
    await redis.ping(); // the read ahead was sent before this, so it has been answered
    // Changed after the read ahead: the hop's read must give what was read ahead.
    await redis.lset(keys.history('c_ahead'), 0, message(0, 'v2'));
    await redis.hset(keys.conversation('c_ahead'), 'appliedSeq', '3');
    const read = await cache.read(store, 'c_ahead', 3, 'e1', 'c_ahead.h3.e1');
    expect(read.progress).toEqual({ status: 'running', appliedSeq: 2, epoch: 'e1' });
    expect(read.history?.map((m) => m.content)).toEqual(['v1 message 0', 'v1 message 1', 'v1 message 2']);
  });

  it('does not use a read ahead for another hop, length or incarnation, nor one that failed', async () => {
    const cache = new HistoryCache();
    /** Reads ahead for `ahead`, changes the first message, and gives what the read of `read` then sees of it. */
    const firstSeen = async (id: string, ahead: [hop: string, length: number, epoch: string], read: [hop: string, length: number, epoch: string]) => {
      cache.prefetch(store, ahead[0], id, ahead[1], ahead[2]);
      await redis.ping();
      await redis.lset(keys.history(id), 0, message(0, 'v2'));
      return (await cache.read(store, id, read[1], read[2], read[0])).history?.[0]?.content;
    };
    // A later hop of the conversation at the same length (a failed turn's retry by the next hop): read again.
    await seed('c_next', 3);
    expect(await firstSeen('c_next', ['c_next.h3.e1', 3, 'e1'], ['c_next.h4.e1', 3, 'e1'])).toBe('v2 message 0');
    await seed('c_other', 4);
    expect(await firstSeen('c_other', ['c_other.h3.e1', 3, 'e1'], ['c_other.h3.e1', 4, 'e1'])).toBe('v2 message 0');
    await seed('c_epoch', 2, 'e2');
    expect(await firstSeen('c_epoch', ['c_epoch.h3.e1', 2, 'e1'], ['c_epoch.h3.e1', 2, 'e2'])).toBe('v2 message 0');
    // The control: the same hop, length and incarnation uses what was read ahead.
    await seed('c_same', 2);
    expect(await firstSeen('c_same', ['c_same.h3.e1', 2, 'e1'], ['c_same.h3.e1', 2, 'e1'])).toBe('v1 message 0');

    // Read ahead through a connection that cannot reach Redis: the hop's read goes to Redis itself.
    await seed('c_failed', 2);
    const unreachable = new Redis('redis://127.0.0.1:1', { maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true });
    unreachable.on('error', () => undefined);
    cache.prefetch(new ConversationStore(unreachable, keys), 'c_failed.h3.e1', 'c_failed', 2, 'e1');
    expect((await cache.read(store, 'c_failed', 2, 'e1', 'c_failed.h3.e1')).history?.map((m) => m.content)).toEqual(['v1 message 0', 'v1 message 1']);
    unreachable.disconnect();
  });

  it('evicts the least recently used conversation past its byte bound', async () => {
    await seed('c_a', 3);
    await seed('c_b', 3);
    const cache = new HistoryCache({ maxBytes: 200 });
    await cache.read(store, 'c_a', 3, 'e1');
    await cache.read(store, 'c_b', 3, 'e1');
    expect(cache.size.conversations).toBe(1);
    expect(cache.size.bytes).toBeLessThanOrEqual(200);
    await redis.lset(keys.history('c_a'), 0, message(0, 'v2'));
    const again = await cache.read(store, 'c_a', 3, 'e1');
    expect(again.history?.[0]?.content).toBe('v2 message 0');
  });

  it('never serves a reused conversation id the old conversation\'s cached messages', async () => {
    await seed('c_reused', 3, 'old1');
    const cache = new HistoryCache();
    expect((await cache.read(store, 'c_reused', 3, 'old1')).history?.map((m) => m.content)).toEqual(['v1 message 0', 'v1 message 1', 'v1 message 2']);
    // The old conversation expires; a new one starts under the same id with other messages and a new incarnation.
    await redis.del(keys.conversation('c_reused'), keys.history('c_reused'));
    await redis.hset(keys.conversation('c_reused'), 'status', 'running', 'appliedSeq', '2', 'epoch', 'new2');
    await redis.rpush(keys.history('c_reused'), ...Array.from({ length: 4 }, (_, i) => message(i, 'other user')));
    const fresh = await cache.read(store, 'c_reused', 4, 'new2');
    expect(fresh.history?.map((m) => m.content)).toEqual(['other user message 0', 'other user message 1', 'other user message 2', 'other user message 3']);
    // A hop of the old incarnation still queued reads nothing of the new one.
    expect((await cache.read(store, 'c_reused', 4, 'old1')).history).toBeNull();
  });

  it('returns no history when the list is shorter than the hop expects (expired conversation)', async () => {
    const cache = new HistoryCache();
    const read = await cache.read(store, 'c_missing', 4);
    expect(read).toEqual({ progress: null, history: null });
  });

  it('rejects a corrupt history entry with a validation error naming it', async () => {
    await redis.hset(keys.conversation('c_bad'), 'status', 'running', 'appliedSeq', '0');
    await redis.rpush(keys.history('c_bad'), JSON.stringify({ role: 'alien', content: 'x' }));
    await expect(new HistoryCache().read(store, 'c_bad', 1)).rejects.toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringMatching(/History entry 0 of c_bad/) });
  });
});
