import type { Logger } from 'pino';
import type { Tracing } from './tracing.js';

/**
 * Closes `target` on SIGTERM or SIGINT (running turns finish first), then flushes the spans not
 * exported yet; a second signal exits at once.
 */
export function closeOnSignals(target: { close(): Promise<void> }, logger: Logger, tracing?: Tracing): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    target.close().then(() => tracing?.shutdown()).then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
