import { createClient, type RedisHandoffClient } from '@handoff/client';
import type { ArchiveReader, KeyLayout } from '@handoff/core';
import { CoordinatorPartitions, EventLog, QueueSet, assertRedisReachable, createRedisConnection, resolveRedisConfig } from '@handoff/redis';
import type { RedisClient } from '@handoff/redis';
import { connectTimeoutOf, readConfigFile } from '../options.js';

/** What the commands that only talk to a deployment (inspect, dlq) need. */
export interface Connection {
  client: RedisHandoffClient;
  redis: RedisClient;
  queues: QueueSet;
  /** The event logs (read without waiting). */
  events: EventLog;
  /** The deployment's key names. */
  keys: KeyLayout;
  close(): Promise<void>;
}

/**
 * Connects to the deployment named by --redis-url/--prefix, a config file, or the environment,
 * once Redis answers; with `archive`, its client reads finished conversations that left Redis from there.
 * @throws RedisUnreachableError when Redis does not answer within --connect-timeout (5 s by default)
 */
export async function connect(raw: Record<string, unknown>, archive?: ArchiveReader): Promise<Connection> {
  const file = typeof raw.config === 'string' ? readConfigFile(raw.config) : {};
  const config = resolveRedisConfig({
    ...((raw.redisUrl ?? file.redisUrl) ? { url: String(raw.redisUrl ?? file.redisUrl) } : {}),
    ...((raw.prefix ?? file.prefix) ? { prefix: String(raw.prefix ?? file.prefix) } : {}),
    ...((raw.redisCluster ?? file.redisCluster) === undefined ? {} : { cluster: Boolean(raw.redisCluster ?? file.redisCluster) }),
  });
  await assertRedisReachable(config.url, connectTimeoutOf(raw.connectTimeout, file.connectTimeout));
  const client = createClient({ redis: { url: config.url, prefix: config.prefix, cluster: config.cluster }, ...(archive ? { archive } : {}) });
  const redis = createRedisConnection(config.url, 'command', 'handoff-cli', config.cluster);
  const queues = new QueueSet(redis, config.prefix, new CoordinatorPartitions({ redis, keys: config.keys }));
  return {
    client,
    redis,
    queues,
    events: new EventLog(redis, config.keys),
    keys: config.keys,
    async close() {
      await queues.close();
      await client.close();
      redis.disconnect();
    },
  };
}
