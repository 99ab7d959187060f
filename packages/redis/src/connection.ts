import { Redis, type RedisOptions } from 'ioredis';
import { DEFAULT_KEY_PREFIX, keyLayout, type KeyLayout } from '@handoff/core';

/** Where a Handoff process finds its Redis, and which deployment's keys it uses. */
export interface RedisConfig {
  /** A `redis://` or `rediss://` URL. @defaultValue `process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'` */
  url?: string;
  /** Key prefix of the deployment; every queue and key lives under it. @defaultValue `'handoff'` */
  prefix?: string;
}

/** {@link RedisConfig} with its defaults applied. */
export interface ResolvedRedisConfig {
  readonly url: string;
  readonly prefix: string;
  readonly keys: KeyLayout;
}

/** Applies defaults (`REDIS_URL`, prefix `handoff`) to a {@link RedisConfig}. */
export function resolveRedisConfig(config: RedisConfig = {}): ResolvedRedisConfig {
  const url = config.url ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const prefix = config.prefix ?? process.env.HANDOFF_PREFIX ?? DEFAULT_KEY_PREFIX;
  return Object.freeze({ url, prefix, keys: keyLayout(prefix) });
}

/**
 * What a connection is for. `blocking` connections (BullMQ workers, event readers) wait forever
 * for Redis to come back; `command` connections (producers, the store) fail a command after a few
 * reconnect attempts instead of queueing it without bound.
 */
export type ConnectionRole = 'blocking' | 'command';

/** Opens an ioredis connection for a role, with reconnects that back off up to 2 s. */
export function createRedisConnection(url: string, role: ConnectionRole, name?: string): Redis {
  const options: RedisOptions = {
    maxRetriesPerRequest: role === 'blocking' ? null : 20,
    enableAutoPipelining: false,
    retryStrategy: (attempt) => Math.min(50 * 2 ** Math.min(attempt, 6), 2_000),
    ...(name === undefined ? {} : { connectionName: name }),
  };
  return quietErrors(new Redis(url, options));
}

/**
 * Lets a connection report errors through its commands only. ioredis also emits an `error` event
 * on every failed (re)connect, and an unlistened one is printed as "Unhandled error event"; the
 * connection retries by itself, and commands fail or wait as their role says.
 */
export function quietErrors(connection: Redis): Redis {
  connection.on('error', () => undefined);
  return connection;
}
