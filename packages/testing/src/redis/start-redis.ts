import { useRedisFromEnv } from './env-provider.js';
import {
  ProviderUnavailableError,
  REDIS_PROVIDERS,
  type ProvisionedRedis,
  type RedisProvider,
  type StartRedisOptions,
} from './provisioned-redis.js';
import { startRedisServer } from './redis-server-provider.js';
import { startRedisContainer } from './testcontainers-provider.js';

const START: Record<RedisProvider, () => Promise<ProvisionedRedis>> = {
  testcontainers: startRedisContainer,
  'redis-server': startRedisServer,
  env: () => useRedisFromEnv(),
};

/**
 * The providers to try: `HANDOFF_REDIS_PROVIDER` (one name or a comma-separated list) when set,
 * else `['testcontainers', 'redis-server', 'env']`.
 *
 * @throws when `HANDOFF_REDIS_PROVIDER` names an unknown provider
 */
export function defaultRedisProviders(env: NodeJS.ProcessEnv = process.env): RedisProvider[] {
  const raw = env['HANDOFF_REDIS_PROVIDER']?.trim();
  if (!raw) return [...REDIS_PROVIDERS];
  return raw.split(',').map((name) => {
    const trimmed = name.trim();
    if (!isRedisProvider(trimmed)) {
      throw new Error(`HANDOFF_REDIS_PROVIDER: unknown provider "${trimmed}" (use ${REDIS_PROVIDERS.join(', ')})`);
    }
    return trimmed;
  });
}

function isRedisProvider(name: string): name is RedisProvider {
  return (REDIS_PROVIDERS as readonly string[]).includes(name);
}

/**
 * Provides a Redis for tests: tries each provider in turn (a testcontainers container, a local
 * `redis-server`, `REDIS_URL`), logs why each skipped one failed, and returns the first that works.
 *
 * @example
 * ```ts
 * const redis = await startRedis();
 * const client = new Redis(redis.url);
 * // …
 * await redis.stop();
 * ```
 * @param opts - provider order and logger
 * @throws when no provider works, saying what to install
 */
export async function startRedis(opts: StartRedisOptions = {}): Promise<ProvisionedRedis> {
  const log = opts.log ?? ((line: string) => console.warn(line));
  const prefer = opts.prefer ?? defaultRedisProviders();
  const failures: string[] = [];
  for (const provider of prefer) {
    try {
      return await START[provider]();
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      const kind = err instanceof ProviderUnavailableError ? 'unavailable' : 'failed';
      failures.push(`${provider}: ${reason}`);
      log(`startRedis: skipped ${provider} (${kind}: ${reason})`);
    }
  }
  throw new Error(
    [
      `startRedis: no Redis available (tried ${prefer.join(', ') || 'nothing'}).`,
      ...failures.map((f) => `  - ${f}`),
      'Do one of:',
      '  - install Redis: `apt-get install redis-server` (Debian/Ubuntu) or `brew install redis` (macOS);',
      '  - set REDIS_URL=redis://host:port to a Redis you run yourself;',
      '  - start a container engine (Docker, or Podman as root via `infra/podman/setup.sh`) so testcontainers can run redis:7-alpine.',
    ].join('\n'),
  );
}
