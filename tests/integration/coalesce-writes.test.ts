import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { RedisServerProcess } from '@handoff/testing';
import { createRedisConnection, type RedisClient } from '@handoff/redis';

/**
 * Connections send the commands of one event-loop tick in one socket write (`coalesceWrites`).
 * Counted where it shows: a private Redis's `total_reads_processed` (one read per arrival of bytes
 * on a connection), read from a second connection.
 */
describe('coalesced writes', () => {
  const server = new RedisServerProcess({ args: ['--save', '', '--appendonly', 'no'] });
  let observer: Redis;
  let connection: RedisClient;

  beforeAll(async () => {
    await server.start();
    observer = new Redis(server.url);
    connection = createRedisConnection(server.url, 'command', 'coalesce-test');
    await connection.ping();
  });
  afterAll(async () => {
    connection?.disconnect();
    observer?.disconnect();
    await server.stop();
  });

  const readsProcessed = async (): Promise<number> => {
    const info = await observer.info('stats');
    return Number(/total_reads_processed:(\d+)/.exec(info)?.[1]);
  };
  /** Reads Redis processed while `work` ran, not counting the observer's own INFO. */
  const readsDuring = async (work: () => Promise<unknown>): Promise<number> => {
    const before = await readsProcessed();
    await work();
    return (await readsProcessed()) - before - 1;
  };

  it('sends twenty commands issued in one tick in one write, each answered in order', async () => {
    const key = `coalesce:${Date.now()}`;
    let replies: unknown[] = [];
    const reads = await readsDuring(async () => {
      replies = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? connection.incr(key) : connection.get(key))));
    });
    expect(reads).toBe(1);
    expect(replies).toEqual(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? i / 2 + 1 : String((i + 1) / 2))));
  });

  it('holds no command for a later tick: each awaited command is sent and answered on its own', async () => {
    const key = `separate:${Date.now()}`;
    const reads = await readsDuring(async () => {
      for (let i = 0; i < 5; i++) await connection.incr(key);
    });
    expect(reads).toBe(5);
    expect(await connection.get(key)).toBe('5');
  });

  it('includes commands issued by the promise continuations of the same tick', async () => {
    const key = `chained:${Date.now()}`;
    const reads = await readsDuring(async () => {
      const chained = Promise.resolve()
        .then(() => connection.incr(key))
        .then(() => undefined);
      const first = connection.incr(key);
      // The second INCR is issued from a microtask, before the tick ends.
      await Promise.all([first, Promise.resolve().then(() => connection.incr(key)), chained]);
    });
    expect(reads).toBe(1);
    expect(await connection.get(key)).toBe('3');
  });

  it('keeps coalescing on the new socket after the connection is dropped and comes back', async () => {
    const name = 'coalesce-test';
    const clients = String(await observer.client('LIST'));
    const id = /id=(\d+) [^\n]*name=coalesce-test/.exec(clients)?.[1];
    expect(id, `a client named ${name}`).toBeDefined();
    await observer.client('KILL', 'ID', id!);
    // ioredis reconnects by itself; the first command waits for it.
    expect(await connection.ping()).toBe('PONG');
    const key = `reconnected:${Date.now()}`;
    const reads = await readsDuring(() => Promise.all(Array.from({ length: 10 }, () => connection.incr(key))));
    expect(reads).toBe(1);
    expect(await connection.get(key)).toBe('10');
  });
});
