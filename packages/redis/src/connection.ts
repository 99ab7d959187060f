import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { DEFAULT_KEY_PREFIX, keyLayout, type KeyLayout } from '@handoff/core';
import { coalesceWrites } from './coalesce-writes.js';

/** A connection to a single Redis or to a Redis Cluster. */
export type RedisClient = Redis | Cluster;

/** Where a Handoff process finds its Redis, and which deployment's keys it uses. */
export interface RedisConfig {
  /** A `redis://` or `rediss://` URL. @defaultValue `process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'` */
  url?: string;
  /**
   * Key prefix of the deployment; every queue and key lives under it. Without a hash tag the
   * deployment spreads over every shard of a cluster (each conversation and each queue in a slot of
   * its own); a hash-tagged prefix (`{handoff}`) still works, on one shard. @defaultValue `'handoff'`
   */
  prefix?: string;
  /**
   * The URL names one node of a Redis Cluster (the others are discovered). The same key layout
   * works on a single node and on a cluster (see `@handoff/core` naming). @defaultValue `process.env.HANDOFF_REDIS_CLUSTER === '1'`
   */
  cluster?: boolean;
}

/** {@link RedisConfig} with its defaults applied. */
export interface ResolvedRedisConfig {
  readonly url: string;
  readonly prefix: string;
  readonly keys: KeyLayout;
  readonly cluster: boolean;
}

/** Applies defaults (`REDIS_URL`, prefix `handoff`) to a {@link RedisConfig}. */
export function resolveRedisConfig(config: RedisConfig = {}): ResolvedRedisConfig {
  const url = config.url ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const cluster = config.cluster ?? ['1', 'true'].includes(process.env.HANDOFF_REDIS_CLUSTER ?? '');
  const prefix = config.prefix ?? process.env.HANDOFF_PREFIX ?? DEFAULT_KEY_PREFIX;
  return Object.freeze({ url, prefix, keys: keyLayout(prefix), cluster });
}

/**
 * What a connection is for. `blocking` connections (BullMQ workers, event readers) wait forever
 * for Redis to come back; `command` connections (producers, the store) fail a command after a few
 * reconnect attempts instead of queueing it without bound.
 */
export type ConnectionRole = 'blocking' | 'command';

/**
 * Opens an ioredis connection for a role, with reconnects that back off up to 2 s, sending the
 * commands of one tick in one socket write ({@link coalesceWrites}). With `cluster`, the URL is one
 * node of a Redis Cluster; its user, password and TLS apply to every node.
 */
export function createRedisConnection(url: string, role: ConnectionRole, name?: string, cluster = false): RedisClient {
  const options: RedisOptions = {
    maxRetriesPerRequest: role === 'blocking' ? null : 20,
    enableAutoPipelining: false,
    retryStrategy: (attempt) => Math.min(50 * 2 ** Math.min(attempt, 6), 2_000),
    ...(name === undefined ? {} : { connectionName: name }),
  };
  if (!cluster) return quietErrors(coalesceWrites(new Redis(url, options)));
  const seed = new URL(url);
  const nodeOptions: RedisOptions = {
    ...options,
    ...(seed.username ? { username: decodeURIComponent(seed.username) } : {}),
    ...(seed.password ? { password: decodeURIComponent(seed.password) } : {}),
    ...(seed.protocol === 'rediss:' ? { tls: {} } : {}),
  };
  const connection = new Cluster([{ host: seed.hostname, port: Number(seed.port || 6379) }], {
    redisOptions: nodeOptions,
    enableAutoPipelining: false,
    clusterRetryStrategy: (attempt) => Math.min(50 * 2 ** Math.min(attempt, 6), 2_000),
    ...(role === 'blocking' ? { maxRedirections: 64 } : {}),
  });
  return quietErrors(coalesceWrites(connection));
}

/**
 * Lets a connection report errors through its commands only. ioredis also emits an `error` event
 * on every failed (re)connect, and an unlistened one is printed as "Unhandled error event"; the
 * connection retries by itself, and commands fail or wait as their role says.
 */
export function quietErrors<C extends RedisClient>(connection: C): C {
  connection.on('error', () => undefined);
  return connection;
}

/** How long {@link closeConnection} waits for Redis to answer QUIT. */
const QUIT_WAIT_MS = 2_000;

/**
 * Closes a connection: QUIT (commands already sent get their replies), and if Redis does not answer
 * within `waitMs` (unreachable, or a link that takes bytes and answers nothing), the socket is
 * dropped, and commands still waiting reject. Never waits longer than that.
 */
export async function closeConnection(connection: RedisClient, waitMs = QUIT_WAIT_MS): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const quit = connection.quit().then(
    () => true,
    () => true,
  );
  const answered = await Promise.race([quit, new Promise<false>((resolve) => (timer = setTimeout(resolve, waitMs, false)))]);
  clearTimeout(timer);
  if (!answered) connection.disconnect();
}
