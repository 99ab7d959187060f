import { existsSync } from 'node:fs';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisServerProcess, redisPing, startRedis, type ProvisionedRedis } from '../dist/index.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function client(url: string): Redis {
  const redis = new Redis(url, { maxRetriesPerRequest: 1, retryStrategy: () => null, lazyConnect: false });
  cleanups.push(async () => redis.disconnect());
  return redis;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('startRedis with the redis-server provider', () => {
  it('starts a working Redis on loopback and stop() really stops it', async () => {
    const logged: string[] = [];
    const redis: ProvisionedRedis = await startRedis({ prefer: ['redis-server'], log: (line) => logged.push(line) });
    cleanups.push(() => redis.stop());
    expect(redis.provider).toBe('redis-server');
    expect(redis.host).toBe('127.0.0.1');
    expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
    expect(logged).toEqual([]);

    const c = client(redis.url);
    await c.set('handoff:test', 'value-1');
    expect(await c.get('handoff:test')).toBe('value-1');
    expect(await c.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'noeviction']);
    c.disconnect();

    expect(await redisPing(redis.host, redis.port)).toBe('+PONG');
    await redis.stop();
    await expect(redisPing(redis.host, redis.port, 500)).rejects.toThrow(/ECONNREFUSED/);
    await redis.stop(); // a second stop is harmless
  });
});

describe('RedisServerProcess', () => {
  it('keeps data across a SIGKILL and restart on the same port with AOF on', async () => {
    const server = new RedisServerProcess({ args: ['--appendonly', 'yes', '--appendfsync', 'always'] });
    cleanups.push(() => server.stop());
    await server.start();
    const port = server.port;
    const dir = server.dir;
    const firstPid = server.pid;
    expect(firstPid).toBeTypeOf('number');
    expect(dir && existsSync(dir)).toBe(true);

    const c = client(server.url);
    await c.set('durable', 'yes');
    await c.rpush('list', 'a', 'b', 'c');
    c.disconnect();

    await server.kill('SIGKILL');
    expect(server.running).toBe(false);
    expect(server.pid).toBeUndefined();
    expect(isAlive(firstPid ?? -1)).toBe(false);
    await expect(redisPing('127.0.0.1', port, 500)).rejects.toThrow();

    await server.restart();
    expect(server.port).toBe(port);
    expect(server.dir).toBe(dir);
    expect(server.pid).not.toBe(firstPid);
    const again = client(server.url);
    expect(await again.get('durable')).toBe('yes');
    expect(await again.lrange('list', 0, -1)).toEqual(['a', 'b', 'c']);
    again.disconnect();

    const lastPid = server.pid ?? -1;
    await server.stop();
    expect(isAlive(lastPid)).toBe(false);
    expect(existsSync(dir ?? '')).toBe(false); // it made the directory, so it removed it
  });

  it('loses data across a SIGKILL without persistence (the default)', async () => {
    const server = new RedisServerProcess();
    cleanups.push(() => server.stop());
    await server.start();
    const c = client(server.url);
    await c.set('volatile', 'yes');
    c.disconnect();
    await server.kill();
    await server.restart();
    const again = client(server.url);
    expect(await again.get('volatile')).toBeNull();
    again.disconnect();
  });

  it('restart() on a running server stops it first and comes back on the same port', async () => {
    const server = new RedisServerProcess();
    cleanups.push(() => server.stop());
    await server.start();
    const { port, pid } = server;
    await server.restart();
    expect(server.port).toBe(port);
    expect(server.pid).not.toBe(pid);
    expect(await redisPing('127.0.0.1', server.port)).toBe('+PONG');
  });

  it('fails start() with redis-server output when the arguments are wrong', async () => {
    const server = new RedisServerProcess({ args: ['--no-such-option', 'x'] });
    cleanups.push(() => server.stop());
    await expect(server.start()).rejects.toThrow(/redis-server exited .*during start/);
    expect(server.running).toBe(false);
  });
});
