import { startGateway } from '@handoff/gateway';
import { loadNetwork } from '../load-network.js';
import { createLogger } from '../logger.js';
import { durabilityFromFlags, parseFlags, redisConfigFromFlags } from '../options.js';
import { closeOnSignals } from '../shutdown.js';

/** `handoff gateway`: runs the coordinator of a network until SIGTERM/SIGINT. */
export async function gatewayCommand(raw: Record<string, unknown>): Promise<void> {
  const flags = parseFlags(raw);
  const network = await loadNetwork(flags.network);
  const logger = createLogger('gateway');
  const gateway = await startGateway({
    network,
    logger,
    redis: redisConfigFromFlags(flags),
    ...durabilityFromFlags(flags),
    ...(flags.concurrency ? { concurrency: flags.concurrency } : {}),
  });
  await gateway.waitUntilReady();
  // Signal handlers first: whoever sees "ready" may stop the process at once, and must get a clean shutdown.
  closeOnSignals(gateway, logger);
  logger.info({ network: network.name }, 'ready');
}
