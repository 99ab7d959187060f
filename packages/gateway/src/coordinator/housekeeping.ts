import { Periodic } from './periodic.js';
import type { Logger } from 'pino';
import type { QueueSet, RedisClient } from '@handoff/redis';
import {
  DEFAULT_DEAD_LETTER_MAX_AGE_MS,
  DEFAULT_DEAD_LETTER_MAX_COUNT,
  DEFAULT_HOUSEKEEPING_INTERVAL_MS,
  DEFAULT_WORKER_REAP_AGE_MS,
  type KeyLayout,
  type NetworkDefinition,
} from '@handoff/core';

/** Options of {@link Housekeeping}. */
export interface HousekeepingOptions {
  /** How often it runs. @defaultValue {@link DEFAULT_HOUSEKEEPING_INTERVAL_MS} */
  intervalMs?: number;
  /** Dead letters older than this are removed. @defaultValue {@link DEFAULT_DEAD_LETTER_MAX_AGE_MS} */
  deadLetterMaxAgeMs?: number;
  /** Beyond this many dead letters, the oldest are removed. @defaultValue {@link DEFAULT_DEAD_LETTER_MAX_COUNT} */
  deadLetterMaxCount?: number;
  /** Worker ids whose last heartbeat is older than this are removed. @defaultValue {@link DEFAULT_WORKER_REAP_AGE_MS} */
  workerReapAgeMs?: number;
  /** Jobs removed per Redis call, so no one script holds Redis long. @defaultValue 1 000 */
  batch?: number;
}

/** What one {@link Housekeeping.runOnce} removed. */
export interface HousekeepingReport {
  /** Dead letters older than the maximum age. */
  deadLettersExpired: number;
  /** The oldest dead letters beyond the maximum count. */
  deadLettersOverCount: number;
  /** Heartbeat entries of workers gone silent (crashed without removing themselves). */
  workersReaped: number;
}

/** What {@link Housekeeping} works on. */
export interface HousekeepingDeps {
  network: NetworkDefinition;
  queues: QueueSet;
  redis: RedisClient;
  keys: KeyLayout;
  logger: Logger;
}

/**
 * Keeps what nothing else removes bounded. Runs in the gateway every `intervalMs`:
 * - the dead-letter queue (nothing consumes it: letters sit in its `wait` list until replayed)
 *   loses letters older than `deadLetterMaxAgeMs`, then the oldest beyond `deadLetterMaxCount`;
 * - each agent's heartbeat set loses worker ids not heard from for `workerReapAgeMs` (a worker
 *   that exits cleanly removes its own; a crashed one stays otherwise).
 * Errors are logged, never thrown. Several gateways may run it at once: each removal is idempotent
 * (racing count trims may remove up to one batch more than the excess, oldest first).
 */
export class Housekeeping {
  private readonly rounds: Periodic;

  constructor(
    private readonly deps: HousekeepingDeps,
    private readonly options: HousekeepingOptions = {},
  ) {
    // runOnce logs its own failures and never throws.
    this.rounds = new Periodic(() => this.runOnce(), options.intervalMs ?? DEFAULT_HOUSEKEEPING_INTERVAL_MS, () => undefined);
  }

  /** Starts running periodically (the timer does not keep the process alive). */
  start(): void {
    this.rounds.start();
  }

  /** Stops, and waits for a run in progress. */
  stop(): Promise<void> {
    return this.rounds.stop();
  }

  /** One pass: trims the dead-letter queue and reaps stale heartbeats. A failing part is logged and the other still runs. */
  async runOnce(): Promise<HousekeepingReport> {
    const report: HousekeepingReport = { deadLettersExpired: 0, deadLettersOverCount: 0, workersReaped: 0 };
    try {
      await this.trimDeadLetters(report);
    } catch (error) {
      this.deps.logger.warn({ err: error }, 'dead-letter trim failed');
    }
    try {
      report.workersReaped = await this.reapHeartbeats();
    } catch (error) {
      this.deps.logger.warn({ err: error }, 'heartbeat reap failed');
    }
    if (report.deadLettersExpired + report.deadLettersOverCount + report.workersReaped > 0) this.deps.logger.info(report, 'housekeeping removed stale entries');
    return report;
  }

  /**
   * The dead letters are the `wait` list of the dead-letter queue, newest at its head: BullMQ's
   * `clean` with a limit looks at the tail, the oldest, so each call removes the oldest `batch`
   * that qualify. Age is the job's add time (its `deadAt`, to the millisecond).
   */
  private async trimDeadLetters(report: HousekeepingReport): Promise<void> {
    const dlq = this.deps.queues.deadLetter;
    if ((await dlq.getWaitingCount()) === 0) return;
    const batch = this.options.batch ?? 1_000;
    const maxAgeMs = this.options.deadLetterMaxAgeMs ?? DEFAULT_DEAD_LETTER_MAX_AGE_MS;
    for (;;) {
      const removed = await dlq.clean(maxAgeMs, batch, 'wait');
      report.deadLettersExpired += removed.length;
      if (removed.length < batch) break;
    }
    let excess = (await dlq.getWaitingCount()) - (this.options.deadLetterMaxCount ?? DEFAULT_DEAD_LETTER_MAX_COUNT);
    while (excess > 0) {
      const removed = await dlq.clean(0, Math.min(excess, batch), 'wait');
      if (removed.length === 0) break;
      report.deadLettersOverCount += removed.length;
      excess -= removed.length;
    }
  }

  /** Removes, from each agent's heartbeat set, the workers last heard from before the reap age. */
  private async reapHeartbeats(): Promise<number> {
    const { redis, keys, network } = this.deps;
    const before = Date.now() - (this.options.workerReapAgeMs ?? DEFAULT_WORKER_REAP_AGE_MS);
    const removed = await Promise.all(network.agentNames.map((agent) => redis.zremrangebyscore(keys.workers(agent), '-inf', `(${before}`)));
    return removed.reduce((sum, n) => sum + n, 0);
  }
}
