import { createRedisConnection, type RedisClient, type ResolvedRedisConfig } from './connection.js';
import { checkEvictionPolicy } from './eviction-policy.js';

/** The two connections of a long-running Handoff process. */
export interface ProcessConnections {
  /** For commands: the store, the event log, queue producers. */
  commands: RedisClient;
  /** For BullMQ workers, which block. */
  blocking: RedisClient;
}

/**
 * Opens the command and blocking connections of a worker or gateway process and checks Redis's
 * eviction policy on them; when the check fails, both are closed and the error is thrown.
 */
export async function openProcessConnections(
  config: ResolvedRedisConfig,
  names: { commands: string; blocking: string },
  eviction: { allowEviction?: boolean; warn: (message: string) => void },
): Promise<ProcessConnections> {
  const commands = createRedisConnection(config.url, 'command', names.commands, config.cluster);
  const blocking = createRedisConnection(config.url, 'blocking', names.blocking, config.cluster);
  try {
    await checkEvictionPolicy(commands, { allowEviction: eviction.allowEviction ?? false, warn: eviction.warn });
  } catch (error) {
    commands.disconnect();
    blocking.disconnect();
    throw error;
  }
  return { commands, blocking };
}
