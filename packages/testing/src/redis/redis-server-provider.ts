import { findExecutable } from './find-executable.js';
import { ProviderUnavailableError, type ProvisionedRedis } from './provisioned-redis.js';
import { RedisServerProcess } from './redis-server-process.js';

/**
 * Starts a local `redis-server` on a free loopback port with a temporary data directory (no
 * persistence, `noeviction`). `stop()` ends it (SIGTERM, SIGKILL after 2 s) and removes the directory.
 *
 * @throws {@link ProviderUnavailableError} when `redis-server` is not on `PATH`
 */
export async function startRedisServer(): Promise<ProvisionedRedis> {
  if (findExecutable('redis-server') === undefined) throw new ProviderUnavailableError('redis-server not found on PATH');
  const server = new RedisServerProcess();
  try {
    await server.start();
  } catch (err) {
    await server.stop();
    throw err;
  }
  return { url: server.url, host: server.host, port: server.port, provider: 'redis-server', stop: () => server.stop() };
}
