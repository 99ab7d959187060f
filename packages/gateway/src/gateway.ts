import type { Worker } from 'bullmq';
import { ConversationIndex } from './conversation-index.js';
import pino, { type Logger } from 'pino';
import { DEFAULT_COORDINATOR_PARTITIONS, DEFAULT_DRAIN_TIMEOUT_MS, coordinatorQueueName, LOG_REDACTION, newInstanceId, type ConversationArchive, type NetworkDefinition, type DEFAULT_ARCHIVE_KEEP_SECONDS, type DEFAULT_RECONCILE_AFTER_MS, type DEFAULT_RECONCILE_INTERVAL_MS } from '@handoff/core';
import {
  ConversationStore,
  CoordinatorPartitions,
  EventLog,
  QueueSet,
  addDeadLetter,
  closeConnection,
  looseConversationId,
  openProcessConnections,
  readNetworkRegistration,
  registerNetwork,
  resolveRedisConfig,
  type RedisConfig,
} from '@handoff/redis';
import { Coordinator } from './coordinator/coordinator.js';
import { createClient, type RedisHandoffClient } from '@handoff/client';
import { FailureSweeper } from './coordinator/failure-sweeper.js';
import { Reconciler } from './coordinator/reconciler.js';
import { TurnInboxConsumer } from './coordinator/turn-inbox-consumer.js';
import { RegistrationKeeper } from './registration-keeper.js';
import { Housekeeping } from './coordinator/housekeeping.js';
import { Archiver } from './coordinator/archiver.js';
import { createHttpApp, type HttpOptions } from './http/app.js';
import { GatewayMetrics } from './http/metrics.js';
import { listen, type HttpServer } from './http/server.js';
import { HealthView } from './routing/health.js';
import { Routers } from './routing/router.js';

/** The entries of `values` that are not undefined (for exactOptional-style option objects). */
function definedOnly<T extends Record<string, unknown>>(values: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as { [K in keyof T]?: Exclude<T[K], undefined> };
}

/** Options of {@link startGateway}. */
export interface GatewayOptions {
  /** The network to coordinate. */
  network: NetworkDefinition;
  /** Redis URL and key prefix. */
  redis?: RedisConfig;
  /** Coordinator jobs processed at once. @defaultValue 64 */
  concurrency?: number;
  /** Seconds finished conversations (record, history) are kept. @defaultValue 7 days */
  retentionSeconds?: number;
  /** Seconds the event log of a finished conversation is kept (at most `retentionSeconds`). @defaultValue 1 day */
  eventRetentionSeconds?: number;
  /** Logger. @defaultValue pino at `LOG_LEVEL` or info, to stderr */
  logger?: Logger;
  /** Lock and stall settings of the coordinator's BullMQ worker. */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  maxStalledCount?: number;
  /** On close, how long coordinator jobs in progress may take. @defaultValue {@link DEFAULT_DRAIN_TIMEOUT_MS} */
  drainTimeoutMs?: number;
  /**
   * Coordinator queue partitions (each its own queue, and its own slot on a Redis Cluster); every
   * gateway of a deployment consumes all of them and must be given the same count. The gateway
   * registers it for clients and workers; partitions of an earlier, larger count are still
   * consumed until they drain. @defaultValue {@link DEFAULT_COORDINATOR_PARTITIONS}
   */
  coordinatorPartitions?: number;
  /** How often jobs that failed for good are dead-lettered. @defaultValue 1 000 */
  sweepIntervalMs?: number;
  /**
   * A conversation in flight without progress for this long is checked by the reconciler (its
   * pending hop published again if its job is gone, moved to a fallback if its agent has no live
   * worker). @defaultValue {@link DEFAULT_RECONCILE_AFTER_MS}
   */
  reconcileAfterMs?: number;
  /** How often the reconciler looks. @defaultValue {@link DEFAULT_RECONCILE_INTERVAL_MS} */
  reconcileIntervalMs?: number;
  /** Dead letters older than this are removed by the gateway's housekeeping. @defaultValue 30 days (`DEFAULT_DEAD_LETTER_MAX_AGE_MS`) */
  deadLetterMaxAgeMs?: number;
  /** Beyond this many dead letters, the gateway's housekeeping removes the oldest. @defaultValue 10 000 (`DEFAULT_DEAD_LETTER_MAX_COUNT`) */
  deadLetterMaxCount?: number;
  /** Run even if Redis may evict keys (its maxmemory-policy is not noeviction); only warns. */
  allowEviction?: boolean;
  /** Serve the HTTP API (conversations, SSE events, chat completions, metrics) on a port. */
  http?: HttpOptions;
  /**
   * Archive finished conversations (e.g. `new PostgresArchive({ url })` from `@handoff/archive`):
   * each one that ends is written there, then kept in Redis only `keepSeconds`; reads by id (HTTP
   * API, console) fall back to the archive once it left Redis. Every gateway of a deployment should
   * be given the same archive. The caller owns `store` (the gateway does not close it).
   */
  archive?: GatewayArchiveOptions;
}

/** The archive settings of a gateway (see {@link GatewayOptions.archive}). */
export interface GatewayArchiveOptions {
  /** Where finished conversations go. */
  store: ConversationArchive;
  /** Seconds an archived conversation stays in Redis. @defaultValue {@link DEFAULT_ARCHIVE_KEEP_SECONDS} (1 hour) */
  keepSeconds?: number;
  /** How often the archiver looks for finished conversations. @defaultValue 1 000 */
  intervalMs?: number;
  /** Conversations archived per round at most. @defaultValue 100 */
  batch?: number;
  /** Conversations written at once (at most the archive's connection pool). @defaultValue 4 */
  concurrency?: number;
}

/** A running gateway. */
export interface Gateway {
  readonly coordinator: Coordinator;
  /** Moves jobs that failed for good to the dead-letter queue and ends their conversations. */
  readonly sweeper: FailureSweeper;
  /** Finds conversations in flight that stopped moving, and moves them again. */
  readonly reconciler: Reconciler;
  /** Trims the dead-letter queue by age and count, and reaps crashed workers' heartbeats. */
  readonly housekeeping: Housekeeping;
  /** Writes finished conversations to the archive, when one is configured. */
  readonly archiver: Archiver | undefined;
  /** The HTTP server, when `http` was given. */
  readonly http: HttpServer | undefined;
  /** The gateway's Prometheus metrics. */
  readonly metrics: GatewayMetrics;
  /** Resolves once the coordinator's worker is connected and consuming. */
  waitUntilReady(): Promise<void>;
  /** Stops taking jobs, lets running ones finish, and closes connections. Idempotent. */
  close(): Promise<void>;
}

/**
 * Starts a gateway: registers the network in Redis (so clients can check agent names) and runs
 * the coordinator on every coordinator partition (its inbox of starts and turn results, its BullMQ queue of commands).
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
  const gatewayId = newInstanceId('gateway');
  const logger = options.logger ?? pino({ level: process.env.LOG_LEVEL ?? 'info', name: 'gateway', redact: LOG_REDACTION }, pino.destination(2));
  const { commands, blocking } = await openProcessConnections(config, { commands: 'handoff-gateway', blocking: 'handoff-coordinator' }, { allowEviction: options.allowEviction, warn: (message) => logger.warn(message) }, logger);
  const store = new ConversationStore(commands, config.keys, definedOnly({ retentionSeconds: options.retentionSeconds, eventRetentionSeconds: options.eventRetentionSeconds }));
  const events = new EventLog(commands, config.keys);
  // Partitions a gateway registered before (jobs may still wait there) are consumed too, while the registration takes this gateway's count.
  const partitions = options.coordinatorPartitions ?? DEFAULT_COORDINATOR_PARTITIONS;
  const registeredBefore = (await readNetworkRegistration(commands, config.keys).catch(() => null))?.coordinatorPartitions ?? 0;
  const consumed = Math.max(partitions, registeredBefore);
  const queues = new QueueSet(commands, config.prefix, new CoordinatorPartitions(partitions));
  await registerNetwork(commands, config.keys, options.network, { coordinatorPartitions: partitions });

  const health = new HealthView(commands, config.keys);
  health.watch();
  const registration = new RegistrationKeeper({ redis: commands, keys: config.keys, network: options.network, coordinatorPartitions: partitions, logger });
  registration.start();
  const routers = new Routers(options.network, commands, config.keys, queues, health);
  const metrics = new GatewayMetrics();
  const index = new ConversationIndex(commands, config.prefix);
  const coordinator = new Coordinator({ network: options.network, store, events, queues, logger, redis: commands, keys: config.keys, routers, health, observer: metrics, index, ...definedOnly({ reconcileAfterMs: options.reconcileAfterMs, archiving: options.archive ? true : undefined }) });
  const workers: Worker[] = coordinator.start({
    connection: blocking,
    prefix: config.prefix,
    name: gatewayId,
    partitions: consumed,
    ...definedOnly({ concurrency: options.concurrency, lockDurationMs: options.lockDurationMs, stalledIntervalMs: options.stalledIntervalMs, maxStalledCount: options.maxStalledCount }),
  });
  // Turn results arrive on the partitions' turn inboxes (not as queue jobs: see TurnInbox).
  const inbox = new TurnInboxConsumer(
    {
      blocking,
      commands,
      keys: config.keys,
      logger,
      handle: (payload, partition, size) => coordinator.handle(payload, undefined, coordinatorQueueName(partition), size),
      settle: (payload, error) => coordinator.settleFailedJob(payload, error),
      deadLetter: async (payload, error, partition) => {
        await addDeadLetter(queues, { sourceQueue: coordinatorQueueName(partition), jobId: undefined, conversationId: looseConversationId(payload), error, payload });
      },
    },
    { partitions: consumed, ...definedOnly({ concurrency: options.concurrency }) },
  );
  inbox.start();
  const sweeper = new FailureSweeper(options.network, queues, coordinator, logger, { redis: commands, keys: config.keys }, { coordinatorPartitions: consumed, ...definedOnly({ intervalMs: options.sweepIntervalMs, maxStalledCount: options.maxStalledCount }) });
  sweeper.start();
  const reconciler = new Reconciler(
    { network: options.network, store, events, queues, redis: commands, keys: config.keys, health, coordinator, logger, observer: metrics, ...(options.archive ? { archiving: true } : {}) },
    definedOnly({ reconcileAfterMs: options.reconcileAfterMs, intervalMs: options.reconcileIntervalMs }),
  );
  reconciler.start();
  const housekeeping = new Housekeeping(
    { network: options.network, queues, redis: commands, keys: config.keys, logger },
    definedOnly({ deadLetterMaxAgeMs: options.deadLetterMaxAgeMs, deadLetterMaxCount: options.deadLetterMaxCount }),
  );
  housekeeping.start();
  const archiver = options.archive
    ? new Archiver(
        { archive: options.archive.store, store, events, redis: commands, keys: config.keys, logger, observer: metrics },
        definedOnly({ keepSeconds: options.archive.keepSeconds, intervalMs: options.archive.intervalMs, batch: options.archive.batch, concurrency: options.archive.concurrency }),
      )
    : undefined;
  archiver?.start();
  let http: HttpServer | undefined;
  let client: RedisHandoffClient | undefined;
  if (options.http) {
    // Given the network, the client checks a start's context against its schema: POST /v1/conversations answers 400 INVALID_CONTEXT.
    client = createClient({ redis: { url: config.url, prefix: config.prefix, cluster: config.cluster }, network: options.network, ...(options.archive ? { archive: options.archive.store } : {}) });
    const app = createHttpApp({ network: options.network, client, queues, health, metrics, redis: commands, index, coordinatorRunning: () => workers.every((w) => w.isRunning()) && inbox.isRunning(), networkRegistered: () => registration.registered(), coordinatorPartitions: consumed }, options.http);
    http = await listen(app, options.http.port, options.http.host);
    logger.info({ port: http.port }, 'http listening');
  }
  logger.info({ network: options.network.name, agents: options.network.agentNames, prefix: config.prefix, coordinatorPartitions: partitions, ...(consumed > partitions ? { alsoDraining: consumed } : {}), ...(archiver ? { archiveKeepSeconds: archiver.keepSeconds } : {}) }, 'gateway started');

  let closing: Promise<void> | undefined;
  return {
    coordinator,
    sweeper,
    reconciler,
    housekeeping,
    archiver,
    http,
    metrics,
    waitUntilReady: () => Promise.all([...workers.map((w) => w.waitUntilReady()), inbox.waitUntilReady()]).then(() => undefined),
    close() {
      closing ??= (async () => {
        await http?.close();
        await client?.close();
        await sweeper.stop();
        await reconciler.stop();
        await housekeeping.stop();
        health.stop();
        await registration.stop();
        await archiver?.stop();
        const drainTimeoutMs = options.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS;
        const inboxClosed = inbox.close(drainTimeoutMs);
        const closed = Promise.all(workers.map((w) => w.close()));
        const drained = await Promise.race([closed.then(() => true), new Promise<false>((resolve) => setTimeout(resolve, drainTimeoutMs, false).unref())]);
        if (!drained) await Promise.all(workers.map((w) => w.close(true)));
        await inboxClosed;
        await queues.close();
        await Promise.all([closeConnection(commands), closeConnection(blocking)]);
        logger.info('gateway stopped');
      })();
      return closing;
    },
  };
}
