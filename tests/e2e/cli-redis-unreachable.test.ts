import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
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
 * With Redis unreachable, one-shot commands give up after a bounded wait, naming the URL (without
 * its password) and what to check; long-running ones keep reconnecting and say so in their logs.
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

  it('keeps a worker reconnecting, and logs that it does with the URL redacted', async () => {
    const port = await closedPort();
    const worker = await ManagedProcess.start({
      name: 'worker',
      command: process.execPath,
      args: [HANDOFF_BIN, 'worker', '--network', 'examples/dist/english-spanish/network.js'],
      cwd: REPO_ROOT,
      env: { REDIS_URL: `redis://app:s3cret-pw@127.0.0.1:${port}`, LOG_LEVEL: 'info' },
    });
    try {
      const line = JSON.parse(await worker.waitForLine(/redis unreachable, reconnecting/, 10_000)) as Record<string, unknown>;
      expect(line).toMatchObject({ level: 40, redis: `redis://app:[redacted]@127.0.0.1:${port}`, error: 'ECONNREFUSED' });
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      expect(worker.running).toBe(true);
      expect(worker.lines.join('\n')).not.toContain('s3cret-pw');
    } finally {
      await worker.stop();
    }
  });
});
