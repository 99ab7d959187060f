import { createRedisConnection, type RedisClient, type ResolvedRedisConfig } from './connection.js';
import { checkEvictionPolicy } from './eviction-policy.js';
import { logReconnects, type ConnectionLogger } from './reconnect-logging.js';

/** The two connections of a long-running Handoff process. */
export interface ProcessConnections {
  /** For commands: the store, the event log, queue producers. */
  commands: RedisClient;
  /** For BullMQ workers, which block. */
  blocking: RedisClient;
}

/**
 * Opens the command and blocking connections of a worker or gateway process and checks Redis's
 * eviction policy on them; when the check fails, both are closed and the error is thrown. With a
 * `logger`, both say when Redis is unreachable and they reconnect, and when it is back
 * ({@link logReconnects}); they keep reconnecting either way.
 */
export async function openProcessConnections(
  config: ResolvedRedisConfig,
  names: { commands: string; blocking: string },
  eviction: { allowEviction?: boolean; warn: (message: string) => void },
  logger?: ConnectionLogger,
): Promise<ProcessConnections> {
  const commands = createRedisConnection(config.url, 'command', names.commands, config.cluster);
  const blocking = createRedisConnection(config.url, 'blocking', names.blocking, config.cluster);
  if (logger) {
    logReconnects(commands, config.url, names.commands, logger);
    logReconnects(blocking, config.url, names.blocking, logger);
  }
  try {
    await checkEvictionPolicy(commands, { allowEviction: eviction.allowEviction ?? false, warn: eviction.warn });
  } catch (error) {
    commands.disconnect();
    blocking.disconnect();
    throw error;
  }
  return { commands, blocking };
}
