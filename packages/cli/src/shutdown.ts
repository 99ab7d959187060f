import type { Logger } from 'pino';
import type { Tracing } from './tracing.js';

/** What {@link closeOnSignals} returns: hand it the running process once it is ready. */
export interface SignalHandling {
  /** From now on, SIGTERM/SIGINT close `target` (running turns finish first). */
  attach(target: { close(): Promise<void> }): void;
}

/**
 * Installs SIGTERM/SIGINT handlers at once, so a process stops promptly in every phase (also as
 * PID 1 in a container, where an unhandled SIGTERM is ignored). Before `attach`, a signal exits at
 * once — nothing is running yet; after it, the target is closed (running turns finish first) and
 * the spans not exported yet are flushed. A second signal exits at once.
 */
export function closeOnSignals(logger: Logger, tracing?: Tracing): SignalHandling {
  let target: { close(): Promise<void> } | undefined;
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    if (!target) {
      logger.info({ signal }, 'signal while starting: exiting');
      process.exit(0);
    }
    logger.info({ signal }, 'shutting down');
    target
      .close()
      .then(() => tracing?.shutdown())
      .then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error({ err: error }, 'shutdown failed');
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return {
    attach(running) {
      target = running;
    },
  };
}
