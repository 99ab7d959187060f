import type { Logger } from 'pino';
import type { Tracing } from './tracing.js';

/** How long a close may take beyond the drain timeout before the process exits anyway. */
export const SHUTDOWN_MARGIN_MS = 10_000;

/** What {@link closeOnSignals} returns: hand it the running process once it is ready. */
export interface SignalHandling {
  /**
   * From now on, SIGTERM/SIGINT close `target` (running turns finish first). A close that has not
   * finished `deadlineMs` after the signal (Redis unreachable, say: what it would still write
   * cannot be written) is given up, and the process exits with 1.
   */
  attach(target: { close(): Promise<void> }, deadlineMs?: number): void;
}

/**
 * Installs SIGTERM/SIGINT handlers at once, so a process stops promptly in every phase (also as
 * PID 1 in a container, where an unhandled SIGTERM is ignored). Before `attach`, a signal exits at
 * once — nothing is running yet; after it, the target is closed (running turns finish first) and
 * the spans not exported yet are flushed — or, past the deadline given to `attach`, given up. A
 * second signal exits at once.
 */
export function closeOnSignals(logger: Logger, tracing?: Tracing): SignalHandling {
  let target: { close(): Promise<void> } | undefined;
  let deadline: number | undefined;
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
    if (deadline !== undefined) {
      const ms = deadline;
      setTimeout(() => {
        logger.error({ deadlineMs: ms }, 'shutdown did not finish in time (is Redis reachable?); exiting');
        process.exit(1);
      }, ms).unref();
    }
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
    attach(running, deadlineMs) {
      target = running;
      deadline = deadlineMs;
    },
  };
}
