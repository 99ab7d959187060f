import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createClient } from '@handoff/client';
import { ErrorCode, RedisUnreachableError } from '@handoff/core';
import { ManagedProcess } from '@handoff/testing';
import { HANDOFF_BIN, REPO_ROOT } from '../support/processes.js';

/** A localhost port nothing listens on (taken from the OS, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Runs the built `handoff` command to its end (killed after `limitMs`); its exit code, output and duration. */
async function runHandoff(args: string[], env: Record<string, string>, limitMs = 40_000): Promise<{ code: number | null; output: string; ms: number }> {
  const started = Date.now();
  const child = await ManagedProcess.start({ name: 'handoff', command: process.execPath, args: [HANDOFF_BIN, ...args], cwd: REPO_ROOT, env });
  const killer = setTimeout(() => child.kill('SIGKILL'), limitMs);
  const exit = await child.exited;
  clearTimeout(killer);
  return { code: exit.code, output: child.lines.join('\n'), ms: Date.now() - started };
}

/**
 * With Redis unreachable, every command and the client give up after a bounded wait
 * (`--connect-timeout`, `connectTimeoutMs`), naming the URL (without its password) and what to
 * check; a worker or gateway logs that it waits meanwhile. (Once started, they keep reconnecting
 * when their connection drops: tests/faults/redis-restart.test.ts.)
 */
describe('handoff with Redis unreachable', () => {
  it('ends dlq list, inspect and run after --connect-timeout with a message naming the URL, password redacted', async () => {
    const url = `redis://app:s3cret-pw@127.0.0.1:${await closedPort()}`;
    const commands = [
      ['dlq', 'list', '--connect-timeout', '1000'],
      ['inspect', 'c_anything', '--connect-timeout', '1000'],
      ['run', '--network', 'examples/dist/english-spanish/network.js', '--connect-timeout', '1000', 'hello'],
    ];
    const runs = await Promise.all(commands.map((args) => runHandoff(args, { REDIS_URL: url })));
    runs.forEach(({ code, output, ms }, i) => {
      const command = commands[i]!.slice(0, 2).join(' ');
      expect(code, `${command}: ${output}`).toBe(2);
      expect(output, command).toContain(`handoff: REDIS_UNREACHABLE: Redis at redis://app:[redacted]@127.0.0.1:${url.split(':').at(-1)} did not answer within 1000 ms (ECONNREFUSED)`);
      expect(output, command).toMatch(/Check that Redis is running .* REDIS_URL or --redis-url/);
      expect(output, command).not.toContain('s3cret-pw');
      // It ended by itself (before this test's kill), well within ioredis' ~40 s of command retries;
      // the rest of the time is Node loading the CLI, slow on a loaded machine.
      expect(ms, command).toBeLessThan(30_000);
    });
  });

  it('takes the timeout from HANDOFF_CONNECT_TIMEOUT_MS', async () => {
    const { code, output } = await runHandoff(['dlq', 'list'], { REDIS_URL: `redis://127.0.0.1:${await closedPort()}`, HANDOFF_CONNECT_TIMEOUT_MS: '700' });
    expect(code).toBe(2);
    expect(output).toContain('did not answer within 700 ms');
  });

  it('ends worker and gateway after --connect-timeout with REDIS_UNREACHABLE naming the URL, having logged that they wait', async () => {
    const port = await closedPort();
    const commands = [
      ['worker', '--network', 'examples/dist/english-spanish/network.js', '--connect-timeout', '1500'],
      ['gateway', '--network', 'examples/dist/english-spanish/network.js', '--connect-timeout', '1500'],
    ];
    const runs = await Promise.all(commands.map((args) => runHandoff(args, { REDIS_URL: `redis://app:s3cret-pw@127.0.0.1:${port}`, LOG_LEVEL: 'info' })));
    runs.forEach(({ code, output, ms }, i) => {
      const command = commands[i]![0]!;
      expect(code, `${command}: ${output}`).toBe(2);
      const waiting = output.split('\n').find((line) => line.includes('redis unreachable, waiting for it'));
      expect(waiting, command).toBeDefined();
      expect(JSON.parse(waiting!)).toMatchObject({ level: 40, redis: `redis://app:[redacted]@127.0.0.1:${port}`, error: 'ECONNREFUSED', timeoutMs: 1500 });
      expect(output, command).toContain(`handoff: REDIS_UNREACHABLE: Redis at redis://app:[redacted]@127.0.0.1:${port} did not answer within 1500 ms (ECONNREFUSED)`);
      expect(output, command).not.toContain('s3cret-pw');
      expect(output, command).not.toContain('MaxRetriesPerRequestError');
      expect(ms, command).toBeLessThan(30_000);
    });
  });

  it("makes the client's start() throw RedisUnreachableError naming the URL within connectTimeoutMs", async () => {
    const port = await closedPort();
    const client = createClient({ redis: { url: `redis://app:s3cret-pw@127.0.0.1:${port}` }, connectTimeoutMs: 800 });
    try {
      const started = Date.now();
      const error = await client.start({ input: 'hello' }).then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(RedisUnreachableError);
      expect((error as RedisUnreachableError).code).toBe(ErrorCode.REDIS_UNREACHABLE);
      expect((error as Error).message).toContain(`Redis at redis://app:[redacted]@127.0.0.1:${port} did not answer within 800 ms (ECONNREFUSED)`);
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      await client.close();
    }
  });
});
