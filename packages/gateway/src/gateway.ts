import type { Worker } from 'bullmq';
import pino, { type Logger } from 'pino';
import type { NetworkDefinition } from '@handoff/core';
import {
  ConversationStore,
  EventLog,
  QueueSet,
  createRedisConnection,
  registerNetwork,
  resolveRedisConfig,
  type RedisConfig,
} from '@handoff/redis';
import { Coordinator } from './coordinator/coordinator.js';

/** Options of {@link startGateway}. */
export interface GatewayOptions {
  /** The network to coordinate. */
  network: NetworkDefinition;
  /** Redis URL and key prefix. */
  redis?: RedisConfig;
  /** Coordinator jobs processed at once. @defaultValue 64 */
  concurrency?: number;
  /** Seconds finished conversations are kept. @defaultValue 7 days */
  retentionSeconds?: number;
  /** Logger. @defaultValue pino at `LOG_LEVEL` or info, to stderr */
  logger?: Logger;
}

/** A running gateway. */
export interface Gateway {
  readonly coordinator: Coordinator;
  /** Resolves once the coordinator's worker is connected and consuming. */
  waitUntilReady(): Promise<void>;
  /** Stops taking jobs, lets running ones finish, and closes connections. Idempotent. */
  close(): Promise<void>;
}

/**
 * Starts a gateway: registers the network in Redis (so clients can check agent names) and runs
 * the coordinator on the coordinator queue.
 *
 * @example
 * ```ts
 * const gateway = await startGateway({ network, redis: { url: 'redis://127.0.0.1:6379' } });
 * // … later
 * await gateway.close();
 * ```
 */
export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const config = resolveRedisConfig(options.redis);
  const logger = options.logger ?? pino({ level: process.env.LOG_LEVEL ?? 'info', name: 'gateway' }, pino.destination(2));
  const commands = createRedisConnection(config.url, 'command', 'handoff-gateway');
  const blocking = createRedisConnection(config.url, 'blocking', 'handoff-coordinator');
  const store = new ConversationStore(commands, config.keys, options.retentionSeconds === undefined ? {} : { retentionSeconds: options.retentionSeconds });
  const events = new EventLog(commands, config.keys);
  const queues = new QueueSet(commands, config.prefix);
  await registerNetwork(commands, config.keys, options.network);

  const coordinator = new Coordinator({ network: options.network, store, events, queues, logger });
  const worker: Worker = coordinator.start({ connection: blocking, prefix: config.prefix, ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }) });
  logger.info({ network: options.network.name, agents: options.network.agentNames, prefix: config.prefix }, 'gateway started');

  let closing: Promise<void> | undefined;
  return {
    coordinator,
    waitUntilReady: () => worker.waitUntilReady().then(() => undefined),
    close() {
      closing ??= (async () => {
        await worker.close();
        await queues.close();
        await Promise.allSettled([commands.quit(), blocking.quit()]);
        logger.info('gateway stopped');
      })();
      return closing;
    },
  };
}
