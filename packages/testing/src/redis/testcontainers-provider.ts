import { findContainerEngine } from './container-engine.js';
import { importOptional } from './import-optional.js';
import { ProviderUnavailableError, type ProvisionedRedis } from './provisioned-redis.js';

/** The image used when `REDIS_IMAGE` is not set. */
export const DEFAULT_REDIS_IMAGE = 'redis:7-alpine';

/**
 * Starts Redis in a container through testcontainers (`@testcontainers/redis`), with
 * `--maxmemory-policy noeviction`. Only tried when a container engine answers.
 *
 * Environment: `REDIS_IMAGE` picks the image (default `redis:7-alpine`); `TESTCONTAINERS_RYUK_DISABLED`
 * defaults to `true` (the Ryuk image may not be pullable); with only a podman socket, `DOCKER_HOST`
 * is pointed at it; with a local socket, `TESTCONTAINERS_HOST_OVERRIDE` defaults to `127.0.0.1` so
 * clients connect over loopback.
 *
 * @throws {@link ProviderUnavailableError} when no container engine answers
 */
export async function startRedisContainer(): Promise<ProvisionedRedis> {
  const probe = await findContainerEngine();
  if (!probe.ok) throw new ProviderUnavailableError(probe.reason);
  process.env['DOCKER_HOST'] ??= probe.engine.dockerHost;
  process.env['TESTCONTAINERS_RYUK_DISABLED'] ??= 'true';
  if (probe.engine.socketPath !== undefined) process.env['TESTCONTAINERS_HOST_OVERRIDE'] ??= '127.0.0.1';

  const { RedisContainer } = await importOptional(() => import('@testcontainers/redis'), 'testcontainers @testcontainers/redis');
  const image = process.env['REDIS_IMAGE'] ?? DEFAULT_REDIS_IMAGE;
  const container = await new RedisContainer(image)
    .withCommand(['redis-server', '--maxmemory-policy', 'noeviction'])
    .start();
  const host = container.getHost();
  const port = container.getPort();
  let stopped: Promise<void> | undefined;
  return {
    url: container.getConnectionUrl(),
    host,
    port,
    provider: 'testcontainers',
    stop: () => {
      stopped ??= container.stop().then(() => undefined);
      return stopped;
    },
  };
}
