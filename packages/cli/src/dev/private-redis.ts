import { spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { DefinitionError } from '@handoff/core';

/** A redis-server child process of `handoff dev`, on a free loopback port, with nothing persisted. */
export interface PrivateRedis {
  readonly url: string;
  readonly pid: number;
  /** Stops it (SIGTERM, then SIGKILL after 2 s) and removes its directory. */
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';

/** `redis-server` on PATH, or undefined. */
function findRedisServer(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    try {
      accessSync(join(dir, 'redis-server'), constants.X_OK);
      return join(dir, 'redis-server');
    } catch {
      // not here
    }
  }
  return undefined;
}

/** A free TCP port on the loopback interface. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no free port'))));
    });
  });
}

/** True once something answers `PING` with `+PONG` on the port. */
function pings(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: HOST, port }, () => socket.write('PING\r\n'));
    socket.setTimeout(500, () => socket.destroy());
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString().startsWith('+PONG'));
    });
    socket.once('error', () => resolve(false));
    socket.once('close', () => resolve(false));
  });
}

/**
 * Starts a private redis-server for `handoff dev` (no RDB, no AOF, `noeviction`, bound to
 * 127.0.0.1), waits until it answers, and makes sure it dies with this process.
 * @throws {@link DefinitionError} when redis-server is not installed or does not start
 */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const binary = findRedisServer();
  if (binary === undefined) {
    throw new DefinitionError('handoff dev: REDIS_URL is not set and redis-server is not on PATH. Install Redis (apt-get install redis-server, brew install redis) or set REDIS_URL to a running one.');
  }
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'handoff-dev-redis-'));
  const child = spawn(binary, ['--port', String(port), '--bind', HOST, '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction', '--dir', dir], {
    stdio: 'ignore',
    // A process group of its own: a Ctrl-C in the terminal reaches handoff dev only, which stops Redis last, after the gateway and workers.
    detached: true,
  });
  let exited = false;
  const gone = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())));
  // Dies with this process whatever way it ends (an uncaught error, a second Ctrl-C's process.exit).
  const killOnExit = () => {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', killOnExit);
  const stop = async () => {
    process.off('exit', killOnExit);
    if (!exited) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 2_000);
      await gone;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  for (const deadline = Date.now() + 10_000; Date.now() < deadline && !exited; ) {
    if (await pings(port)) return { url: `redis://${HOST}:${port}`, pid: child.pid!, stop };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await stop();
  throw new DefinitionError(`handoff dev: the private redis-server (${binary}) did not start on port ${port}. Set REDIS_URL to use a running Redis.`);
}
