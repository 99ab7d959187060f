import { afterAll, describe, expect, it } from 'vitest';
import { createClient, createHttpClient } from '@handoff/client';
import { ErrorCode, RedisUnreachableError } from '@handoff/core';
import { ManagedProcess, RedisServerProcess, findFreePort } from '@handoff/testing';
import { uniquePrefix } from '../support/env.js';
import { HANDOFF_BIN, REPO_ROOT, startHandoff } from '../support/processes.js';

/** What a start says, whichever way it was made. */
async function startError(start: () => Promise<unknown>): Promise<unknown> {
  return start().then(() => undefined, (error: unknown) => error);
}

/**
 * One fault, one code: with the deployment's Redis gone, a start through the HTTP API, the HTTP
 * client, the Redis client and `handoff run --attach` all end with REDIS_UNREACHABLE naming the
 * URL, within the connect timeout — not an ioredis MaxRetriesPerRequestError after ~35 s.
 */
describe('Redis gone under a running gateway', () => {
  const server = new RedisServerProcess({ args: ['--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction'] });
  let gateway: ManagedProcess | undefined;

  afterAll(async () => {
    await gateway?.stop(1_000);
    await server.stop();
  });

  it('the HTTP API, both clients and the CLI say REDIS_UNREACHABLE', async () => {
    await server.start();
    const port = await findFreePort();
    const env = { REDIS_URL: server.url, HANDOFF_PREFIX: uniquePrefix('redis-down'), HANDOFF_CONNECT_TIMEOUT_MS: '1000', OPENAI_API_KEY: 'test' };
    gateway = await startHandoff('gateway', ['gateway', '--network', 'examples/dist/english-spanish/network.js', '--http-port', String(port), '--http-host', '127.0.0.1', '--no-auth', '--drain-timeout', '200'], env);
    await server.stop();
    const unreachable = `Redis at ${server.url} did not answer within 1000 ms`;

    const started = Date.now();
    const response = await fetch(`http://127.0.0.1:${port}/v1/conversations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ input: 'hello' }) });
    expect(response.status).toBe(503);
    const body = (await response.json()) as { error: { code: string; message: string; retryable: boolean } };
    expect(body.error).toMatchObject({ code: ErrorCode.REDIS_UNREACHABLE, retryable: true });
    expect(body.error.message).toContain(unreachable);
    expect(Date.now() - started).toBeLessThan(10_000);

    const viaHttp = await startError(() => createHttpClient({ baseUrl: `http://127.0.0.1:${port}` }).start({ input: 'hello' }));
    expect(viaHttp).toBeInstanceOf(RedisUnreachableError);
    expect((viaHttp as Error).message).toContain(unreachable);

    const client = createClient({ redis: { url: server.url, prefix: env.HANDOFF_PREFIX }, connectTimeoutMs: 1000 });
    try {
      const viaRedis = await startError(() => client.start({ input: 'hello' }));
      expect(viaRedis).toBeInstanceOf(RedisUnreachableError);
      expect((viaRedis as Error).message).toContain(unreachable);
    } finally {
      await client.close();
    }

    const run = await ManagedProcess.start({ name: 'run', command: process.execPath, args: [HANDOFF_BIN, 'run', '--network', 'examples/dist/english-spanish/network.js', '--attach', 'hello'], cwd: REPO_ROOT, env });
    const exit = await run.exited;
    expect(exit.code).toBe(2);
    expect(run.lines.join('\n')).toContain(`handoff: REDIS_UNREACHABLE: ${unreachable}`);
  }, 60_000);
});
