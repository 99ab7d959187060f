import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import {
  RedisServerProcess,
  defaultRedisProviders,
  findContainerEngine,
  startRedis,
} from '../dist/index.js';

const savedEnv = { ...process.env };
afterEach(() => {
  for (const key of ['REDIS_URL', 'HANDOFF_REDIS_PROVIDER', 'DOCKER_HOST', 'TESTCONTAINERS_HOST_OVERRIDE'] as const) {
    if (savedEnv[key] === undefined) delete process.env[key];
    else process.env[key] = savedEnv[key];
  }
});

describe('startRedis provider choice', () => {
  it('reads HANDOFF_REDIS_PROVIDER as the default order and rejects unknown names', () => {
    expect(defaultRedisProviders({})).toEqual(['testcontainers', 'redis-server', 'env']);
    expect(defaultRedisProviders({ HANDOFF_REDIS_PROVIDER: 'env' })).toEqual(['env']);
    expect(defaultRedisProviders({ HANDOFF_REDIS_PROVIDER: 'redis-server, env' })).toEqual(['redis-server', 'env']);
    expect(() => defaultRedisProviders({ HANDOFF_REDIS_PROVIDER: 'docker' })).toThrow(/unknown provider "docker"/);
  });

  it('uses REDIS_URL with the env provider, whose stop() leaves that Redis alone', async () => {
    const server = new RedisServerProcess();
    await server.start();
    try {
      process.env['REDIS_URL'] = server.url;
      const redis = await startRedis({ prefer: ['env'] });
      expect(redis).toMatchObject({ provider: 'env', url: server.url, host: '127.0.0.1', port: server.port });
      await redis.stop();
      const c = new Redis(redis.url);
      expect(await c.ping()).toBe('PONG');
      c.disconnect();
    } finally {
      await server.stop();
    }
  });

  it('logs why each provider was skipped and falls through to the next', async () => {
    delete process.env['REDIS_URL'];
    const logged: string[] = [];
    const redis = await startRedis({ prefer: ['env', 'redis-server'], log: (line) => logged.push(line) });
    try {
      expect(redis.provider).toBe('redis-server');
      expect(logged).toEqual(['startRedis: skipped env (unavailable: REDIS_URL is not set)']);
    } finally {
      await redis.stop();
    }
  });

  it('throws an error saying what to install when nothing works', async () => {
    process.env['REDIS_URL'] = 'redis://127.0.0.1:1';
    process.env['DOCKER_HOST'] = 'unix:///nonexistent/docker.sock';
    const logged: string[] = [];
    const error = await startRedis({ prefer: ['testcontainers', 'env'], log: (line) => logged.push(line) }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(Error);
    const message = (error as Error).message;
    expect(message).toContain('no Redis available (tried testcontainers, env)');
    expect(message).toContain('testcontainers: DOCKER_HOST=unix:///nonexistent/docker.sock: /nonexistent/docker.sock does not exist');
    expect(message).toContain('env: REDIS_URL=redis://127.0.0.1:1: connect ECONNREFUSED');
    expect(message).toContain('apt-get install redis-server');
    expect(message).toContain('REDIS_URL');
    expect(message).toContain('container engine');
    expect(logged).toHaveLength(2);
  });
});

const engine = await findContainerEngine();

describe.skipIf(!engine.ok)('startRedis with the testcontainers provider (needs a container engine)', () => {
  it('starts Redis in a container that ioredis can use', async () => {
    const redis = await startRedis({ prefer: ['testcontainers'] });
    try {
      expect(redis.provider).toBe('testcontainers');
      const c = new Redis(redis.url);
      await c.set('k', 'v');
      expect(await c.get('k')).toBe('v');
      expect(await c.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'noeviction']);
      c.disconnect();
    } finally {
      await redis.stop();
    }
  }, 120_000);
});
