import { request } from 'node:http';
import { findContainerEngine } from '../redis/container-engine.js';
import { ProviderUnavailableError } from '../redis/provisioned-redis.js';
import { importOptional } from '../redis/import-optional.js';
import type { ProvisionedPostgres } from './provisioned-postgres.js';

/** The image used when `POSTGRES_IMAGE` is not set. */
export const DEFAULT_POSTGRES_IMAGE = 'postgres:16-alpine';

/**
 * Starts PostgreSQL in a container through testcontainers, with trust authentication. Only tried
 * when a container engine answers and already holds the image (`POSTGRES_IMAGE`, default
 * `postgres:16-alpine`): no registry may be reachable, and a pull must not stall the run.
 * @throws {@link ProviderUnavailableError} when there is no engine or no local image.
 */
export async function startPostgresContainer(): Promise<ProvisionedPostgres> {
  const probe = await findContainerEngine();
  if (!probe.ok) throw new ProviderUnavailableError(probe.reason);
  const image = process.env['POSTGRES_IMAGE'] ?? DEFAULT_POSTGRES_IMAGE;
  if (probe.engine.socketPath === undefined || !(await imageIsLocal(probe.engine.socketPath, image))) {
    throw new ProviderUnavailableError(`the container engine has no local image ${image} (set POSTGRES_IMAGE to one it has)`);
  }
  process.env['DOCKER_HOST'] ??= probe.engine.dockerHost;
  process.env['TESTCONTAINERS_RYUK_DISABLED'] ??= 'true';
  process.env['TESTCONTAINERS_HOST_OVERRIDE'] ??= '127.0.0.1';
  const { GenericContainer, Wait } = await importOptional(() => import('testcontainers'), 'testcontainers');
  const container = await new GenericContainer(image)
    .withEnvironment({ POSTGRES_HOST_AUTH_METHOD: 'trust' })
    .withExposedPorts(5432)
    .withWaitStrategy(Wait.forLogMessage(/database system is ready to accept connections/, 2))
    .withStartupTimeout(60_000)
    .start();
  let stopped: Promise<void> | undefined;
  return {
    url: `postgres://postgres@${container.getHost()}:${container.getMappedPort(5432)}/postgres`,
    provider: 'testcontainers',
    stop: () => (stopped ??= container.stop().then(() => undefined)),
  };
}

/** True when the engine behind `socketPath` has `image` without pulling it (Docker API `GET /images/<name>/json`). */
function imageIsLocal(socketPath: string, image: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath, path: `/images/${encodeURIComponent(image)}/json`, method: 'GET', headers: { host: 'docker' }, timeout: 2_000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}
