/**
 * The types of Redis provisioning.
 *
 * @module
 */

/** Where a Redis comes from: a testcontainers container, a local `redis-server`, or `REDIS_URL`. */
export type RedisProvider = 'testcontainers' | 'redis-server' | 'env';

/** All providers, in the default order of preference. */
export const REDIS_PROVIDERS: readonly RedisProvider[] = ['testcontainers', 'redis-server', 'env'];

/** A Redis that tests can use. */
export interface ProvisionedRedis {
  /** `redis://host:port` (with credentials when `REDIS_URL` had them). */
  readonly url: string;
  /** Host to connect to. */
  readonly host: string;
  /** Port to connect to. */
  readonly port: number;
  /** Which provider made it. */
  readonly provider: RedisProvider;
  /** Stops the container or process (a no-op for `env`). Safe to call twice. */
  stop(): Promise<void>;
}

/** Options of `startRedis`. */
export interface StartRedisOptions {
  /**
   * Providers to try, in order. Default: `HANDOFF_REDIS_PROVIDER` (one name or a comma-separated
   * list) when set, else `['testcontainers', 'redis-server', 'env']`.
   */
  prefer?: RedisProvider[];
  /** Where to report why a provider was skipped; default `console.warn`. */
  log?: (line: string) => void;
}

/** Thrown by a provider that cannot be used here; `startRedis` logs it and tries the next one. */
export class ProviderUnavailableError extends Error {
  override readonly name = 'ProviderUnavailableError';
}
