import type { Queue } from 'bullmq';
import type { Logger } from 'pino';
import type { RedisClient } from '@handoff/redis';
import { DEFAULT_MAX_STALLED_COUNT, DEFAULT_SWEEP_INTERVAL_MS, agentQueueName, parseJsonOrRaw, HopFailedError, SCHEMA_VERSION, hrNow, ZERO_USAGE, type ErrorJson, type KeyLayout, type NetworkDefinition, type TurnResult } from '@handoff/core';
import { addDeadLetter, looseConversationId, type HopLane, type QueueSet } from '@handoff/redis';
import type { Coordinator } from './coordinator.js';
import { Periodic } from './periodic.js';

/** Options of {@link FailureSweeper}. */
export interface FailureSweeperOptions {
  /** @defaultValue {@link DEFAULT_SWEEP_INTERVAL_MS} */
  intervalMs?: number;
  /** Coordinator partitions to sweep at least (all the gateway consumes). */
  coordinatorPartitions?: number;
  /** Stalls a hop may have before it fails, when the sweep puts back hops whose lease ran out. @defaultValue {@link DEFAULT_MAX_STALLED_COUNT} */
  maxStalledCount?: number;
  /** Failed jobs handled per queue and sweep. @defaultValue 100 */
  batch?: number;
}

/**
 * Nothing is dropped silently: jobs that failed for good — a hop whose worker died more often than
 * the stall limit allows (its lease ran out each time), or whose turn kept throwing through every
 * attempt, or a coordinator job out of retries — are moved to the dead-letter queue, and the
 * conversation they belonged to gets a HOP_FAILED error (a failed hop goes to its agent's
 * fallbacks first), if it was still waiting on that hop. Runs in the gateway every `intervalMs`; it
 * reads the lanes' and BullMQ's failed sets, so nothing is missed while no gateway runs.
 */
export class FailureSweeper {
  private readonly rounds: Periodic;

  constructor(
    private readonly network: NetworkDefinition,
    private readonly queues: QueueSet,
    private readonly coordinator: Coordinator,
    private readonly logger: Logger,
    private readonly deadlines: { redis: RedisClient; keys: KeyLayout },
    private readonly options: FailureSweeperOptions = {},
  ) {
    this.rounds = new Periodic(() => this.sweep(), options.intervalMs ?? DEFAULT_SWEEP_INTERVAL_MS, (error) => logger.warn({ err: error }, 'failure sweep failed'));
  }

  /** Starts sweeping periodically. */
  start(): void {
    this.rounds.start();
  }

  /** Stops sweeping and waits for a sweep in progress. */
  stop(): Promise<void> {
    return this.rounds.stop();
  }

  /** One sweep over the coordinator queue partitions and every agent queue, then the deadlines. @returns how many jobs were moved. */
  async sweep(): Promise<number> {
    await this.sweepDeadlines();
    let moved = 0;
    for (const queue of await this.queues.coordinatorAll(this.options.coordinatorPartitions)) moved += await this.sweepQueue(queue);
    // The lanes are in slots of their own: swept at once, a sweep costs about one round trip however many agents there are.
    const lanes = await Promise.all(this.network.agentNames.map((agent) => this.sweepLane(this.queues.lane(agent))));
    moved += lanes.reduce((sum, n) => sum + n, 0);
    return moved;
  }

  /** Ends conversations whose deadline has passed (their running turns are aborted). */
  private async sweepDeadlines(): Promise<void> {
    const { redis, keys } = this.deadlines;
    const due = await redis.zrangebyscore(keys.deadlines, 0, Date.now(), 'LIMIT', 0, this.options.batch ?? 100);
    for (const conversationId of due) {
      const error = { code: 'DEADLINE_EXCEEDED' as const, message: 'The conversation ran past its deadline.', retryable: false };
      // Ending the conversation removes its deadline; one that had already ended is removed here.
      if (!(await this.coordinator.endConversation(conversationId, error, null, 'deadline_exceeded'))) await redis.zrem(keys.deadlines, conversationId);
    }
  }

  /**
   * An agent's hop lane: leases that ran out go back (the lane's workers do this too, but an agent
   * whose workers are all gone has none to do it), and each hop that failed for good is a failed
   * turn — its agent's fallbacks get the step — and a dead letter.
   */
  private async sweepLane(lane: HopLane): Promise<number> {
    await lane.reclaim(this.options.maxStalledCount ?? DEFAULT_MAX_STALLED_COUNT);
    const hops = await lane.failedHops(this.options.batch ?? 100);
    const queueName = agentQueueName(lane.agent);
    for (const hop of hops) {
      // Its runs: those that failed, and those its dying workers never finished.
      const error = new HopFailedError(queueName, hop.id, hop.reason, hop.fails + hop.stalls).toJSON();
      const payload = hop.payload === null ? undefined : parseJsonOrRaw(hop.payload);
      const conversationId = looseConversationId(payload);
      const data = payload as { seq?: unknown; hopId?: unknown; epoch?: unknown } | undefined;
      try {
        if (conversationId && typeof data?.seq === 'number' && typeof data.hopId === 'string') {
          await this.coordinator.handle(failedTurn(conversationId, data.hopId, data.seq, lane.agent, error, typeof data.epoch === 'string' ? data.epoch : undefined));
        }
      } catch (settleError) {
        this.logger.warn({ queue: queueName, jobId: hop.id, conversationId, err: settleError }, 'could not settle a failed hop; the reconciler will');
      }
      await addDeadLetter(this.queues, { sourceQueue: queueName, jobId: hop.id, conversationId, error, payload });
      // Only while it is still the failed hop: a replay of its letter may have queued it again meanwhile.
      await lane.remove(hop.id, 'failed');
      this.logger.warn({ queue: queueName, jobId: hop.id, conversationId, reason: hop.reason }, 'failed hop moved to the dead-letter queue');
    }
    return hops.length;
  }

  private async sweepQueue(queue: Queue): Promise<number> {
    const jobs = await queue.getFailed(0, (this.options.batch ?? 100) - 1);
    for (const job of jobs) {
      const error = new HopFailedError(queue.name, job.id, job.failedReason ?? 'unknown', job.attemptsMade).toJSON();
      const conversationId = looseConversationId(job.data);
      try {
        // A command or turn result: its effects run again if it applied (the publish after the
        // apply may be what failed), else its conversation or its caller is told why.
        await this.coordinator.settleFailedJob(job.data, error);
      } catch (settleError) {
        // What failed the job may still be failing (Redis refusing writes): the job is dead-lettered
        // all the same, and the reconciler finishes the conversation's effects once Redis takes them.
        this.logger.warn({ queue: queue.name, jobId: job.id, conversationId, err: settleError }, 'could not settle a failed job; the reconciler will');
      }
      await addDeadLetter(this.queues, { sourceQueue: queue.name, jobId: job.id, conversationId, error, payload: job.data });
      await job.remove();
      this.logger.warn({ queue: queue.name, jobId: job.id, conversationId, reason: job.failedReason }, 'failed job moved to the dead-letter queue');
    }
    return jobs.length;
  }
}

/** The failed turn a hop that failed for good stands for. */
function failedTurn(conversationId: string, hopId: string, seq: number, agent: string, error: ErrorJson, epoch: string | undefined): TurnResult {
  const now = hrNow();
  return {
    schemaVersion: SCHEMA_VERSION,
    kind: 'turn',
    conversationId,
    hopId,
    seq,
    agent,
    newMessages: [],
    outcome: { type: 'failed', error },
    usage: ZERO_USAGE,
    attempt: 1,
    workerId: 'gateway-sweeper',
    ...(epoch === undefined ? {} : { epoch }),
    timing: { queuedAt: now, startedAt: now, firstModelCallAt: null, lastModelReturnAt: null, modelMs: 0, finishedAt: now },
  };
}
