import { DEFAULT_DRAIN_TIMEOUT_MS } from '@handoff/core';
import { startGateway } from '@handoff/gateway';
import { loadNetwork } from '../load-network.js';
import { createLogger } from '../logger.js';
import { durabilityFromFlags, parseFlags, redisConfigFromFlags } from '../options.js';
import { SHUTDOWN_MARGIN_MS, closeOnSignals } from '../shutdown.js';
import { startTracingFromEnv } from '../tracing.js';
import { waitForRedis } from '../wait-for-redis.js';
import { openArchive } from '../archive.js';

/** `handoff gateway`: runs the coordinator of a network until SIGTERM/SIGINT. */
export async function gatewayCommand(raw: Record<string, unknown>): Promise<void> {
  // Commander sets auth to true unless --no-auth: only an explicit false counts as a flag.
  const { auth, ...rest } = raw;
  const flags = parseFlags(auth === false ? { ...rest, auth } : rest);
  const network = await loadNetwork(flags.network);
  const logger = createLogger('gateway');
  const tracing = await startTracingFromEnv('gateway');
  const signals = closeOnSignals(logger, tracing);
  // Said once the signal handlers are in place: from here a SIGTERM stops the process cleanly, even while Redis is unreachable.
  logger.info({ network: network.name }, 'starting');
  await waitForRedis(flags, logger);
  const archive = await openArchive(flags, logger);
  const gateway = await startGateway({
    network,
    ...(archive ? { archive: { store: archive, ...(flags.archiveKeep === undefined ? {} : { keepSeconds: flags.archiveKeep }) } } : {}),
    logger,
    redis: redisConfigFromFlags(flags),
    ...durabilityFromFlags(flags),
    ...(flags.retention === undefined ? {} : { retentionSeconds: flags.retention }),
    ...(flags.eventRetention === undefined ? {} : { eventRetentionSeconds: flags.eventRetention }),
    ...(flags.dlqMaxAge === undefined ? {} : { deadLetterMaxAgeMs: flags.dlqMaxAge }),
    ...(flags.dlqMaxCount === undefined ? {} : { deadLetterMaxCount: flags.dlqMaxCount }),
    ...(flags.reconcileAfter === undefined ? {} : { reconcileAfterMs: flags.reconcileAfter }),
    ...(flags.coordinatorPartitions === undefined ? {} : { coordinatorPartitions: flags.coordinatorPartitions }),
    ...(flags.reconcileInterval === undefined ? {} : { reconcileIntervalMs: flags.reconcileInterval }),
    ...(flags.httpPort === undefined
      ? {}
      : {
          http: {
            port: flags.httpPort,
            ...(flags.httpHost ? { host: flags.httpHost } : {}),
            ...(flags.apiKeys ? { apiKeys: flags.apiKeys } : {}),
            ...(flags.auth === undefined ? {} : { auth: flags.auth }),
            ...(flags.corsOrigin ? { corsOrigins: flags.corsOrigin } : {}),
          },
        }),
    ...(flags.concurrency ? { concurrency: flags.concurrency } : {}),
  });
  // Attached before the ready line: whoever sees "ready" may stop the process at once, and must get a clean shutdown.
  signals.attach(
    {
      async close() {
        await gateway.close();
        await archive?.close();
      },
    },
    (flags.drainTimeout ?? DEFAULT_DRAIN_TIMEOUT_MS) + SHUTDOWN_MARGIN_MS,
  );
  await gateway.waitUntilReady();
  logger.info({ network: network.name }, 'ready');
}
