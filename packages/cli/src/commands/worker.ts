import { DEFAULT_DRAIN_TIMEOUT_MS } from '@handoff/core';
import { startWorkers } from '@handoff/worker';
import { loadNetwork } from '../load-network.js';
import { createLogger } from '../logger.js';
import { durabilityFromFlags, parseFlags, redisConfigFromFlags } from '../options.js';
import { SHUTDOWN_MARGIN_MS, closeOnSignals } from '../shutdown.js';
import { startTracingFromEnv } from '../tracing.js';
import { waitForRedis } from '../wait-for-redis.js';

/** `handoff worker`: runs agents of a network until SIGTERM/SIGINT. */
export async function workerCommand(raw: Record<string, unknown>): Promise<void> {
  // Commander sets journal to true unless --no-journal: only an explicit false counts as a flag (so HANDOFF_JOURNAL=off works).
  const { journal, ...rest } = raw;
  const flags = parseFlags(journal === false ? { ...rest, journal } : rest);
  const network = await loadNetwork(flags.network);
  const logger = createLogger('worker');
  const tracing = await startTracingFromEnv('worker');
  const signals = closeOnSignals(logger, tracing);
  // Said once the signal handlers are in place: from here a SIGTERM stops the process cleanly, even while Redis is unreachable.
  logger.info({ network: network.name }, 'starting');
  await waitForRedis(flags, logger);
  const workers = await startWorkers({
    network,
    logger,
    redis: redisConfigFromFlags(flags),
    ...durabilityFromFlags(flags),
    ...(flags.agents ? { agents: flags.agents } : {}),
    ...(flags.concurrency ? { concurrency: flags.concurrency } : {}),
    ...(flags.journal === undefined ? {} : { journal: flags.journal }),
  });
  // Attached before the ready line: whoever sees "ready" may stop the process at once, and must get a clean shutdown.
  signals.attach(workers, (flags.drainTimeout ?? DEFAULT_DRAIN_TIMEOUT_MS) + SHUTDOWN_MARGIN_MS);
  await workers.waitUntilReady();
  logger.info({ workerId: workers.workerId, agents: workers.agents }, 'ready');
}
