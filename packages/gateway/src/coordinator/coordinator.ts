import { Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import {
  COORDINATOR_QUEUE,
  ConversationNotFoundError,
  CoordinatorJob,
  DEFAULT_MAX_STALLED_COUNT,
  HandoffError,
  ErrorCode,
  parseBoundary,
  toErrorJson,
  type NetworkDefinition,
  type StartCommand,
  type TurnResult,
} from '@handoff/core';
import { ApplyOutcome, addDeadLetter, looseConversationId, type ConversationStore, type EventLog, type QueueSet } from '@handoff/redis';
import { decideStart } from './decide-start.js';
import { decideTurn } from './decide-turn.js';
import { dispatchPendingHop } from './dispatch.js';

/** What the coordinator needs; the gateway wires it. */
export interface CoordinatorDeps {
  network: NetworkDefinition;
  store: ConversationStore;
  events: EventLog;
  queues: QueueSet;
  logger: Logger;
}

/** Options of the coordinator's BullMQ worker. */
export interface CoordinatorOptions {
  /** Redis connection for the worker (blocking; not shared with commands). */
  connection: Redis;
  prefix: string;
  /** Coordinator jobs processed at once by this process. @defaultValue 64 */
  concurrency?: number;
}

/** What happened to one coordinator job (returned as the BullMQ job's result, for inspection). */
export type CoordinatorJobOutcome = 'applied' | 'redelivered' | 'ignored' | 'dead-lettered';

/**
 * The coordinator: applies start commands and turn results to their conversations exactly once,
 * then publishes the next hop. It keeps no state in memory; every replica can handle every job.
 */
export class Coordinator {
  constructor(private readonly deps: CoordinatorDeps) {}

  /** Handles one coordinator job payload (exposed so tests can drive the exact interleavings). */
  async handle(payload: unknown, jobId?: string): Promise<CoordinatorJobOutcome> {
    let job: CoordinatorJob;
    try {
      job = parseBoundary(CoordinatorJob, payload, 'Coordinator job');
    } catch (error) {
      await this.reject(payload, jobId, error);
      return 'dead-lettered';
    }
    return job.kind === 'start' ? this.handleStart(job) : this.handleTurn(job, jobId);
  }

  private async handleStart(command: StartCommand): Promise<CoordinatorJobOutcome> {
    const { store, queues, network } = this.deps;
    const existing = await store.read(command.conversationId);
    if (existing) {
      await dispatchPendingHop(existing, store, queues);
      return 'redelivered';
    }
    const decision = decideStart(network, command);
    const outcome = await store.apply(decision.step);
    const record = outcome === ApplyOutcome.APPLIED ? decision.record : await store.read(command.conversationId);
    if (record) await dispatchPendingHop(record, store, queues);
    return outcome === ApplyOutcome.APPLIED ? 'applied' : 'redelivered';
  }

  private async handleTurn(turn: TurnResult, jobId: string | undefined): Promise<CoordinatorJobOutcome> {
    const { store, queues, network, logger } = this.deps;
    const record = await store.read(turn.conversationId);
    if (!record) {
      await this.reject(turn, jobId, new ConversationNotFoundError(turn.conversationId));
      return 'dead-lettered';
    }
    if (record.appliedSeq >= turn.seq) {
      // Already applied. If this is still the newest step, its publish may not have happened.
      if (record.appliedSeq === turn.seq) await dispatchPendingHop(record, store, queues);
      return 'redelivered';
    }
    if (record.status !== 'running') {
      logger.info({ conversationId: turn.conversationId, hopId: turn.hopId, status: record.status }, 'turn result for a finished conversation ignored');
      return 'ignored';
    }
    const due = record.next;
    if (!due || due.hopId !== turn.hopId || due.agent !== turn.agent || due.seq !== turn.seq) {
      await this.reject(turn, jobId, new HandoffError(ErrorCode.VALIDATION_FAILED,
        `Turn result for hop ${turn.hopId} (${turn.agent}) does not match the pending hop ${due?.hopId ?? '(none)'} (${due?.agent ?? '-'}).`,
        { details: { expected: due, got: { hopId: turn.hopId, agent: turn.agent, seq: turn.seq } } }));
      return 'dead-lettered';
    }
    const decision = decideTurn(network, record, turn);
    const outcome = await store.apply(decision.step);
    switch (outcome) {
      case ApplyOutcome.APPLIED:
        await dispatchPendingHop(decision.record, store, queues);
        return 'applied';
      case ApplyOutcome.ALREADY_APPLIED: {
        const latest = await store.read(turn.conversationId);
        if (latest && latest.appliedSeq === turn.seq) await dispatchPendingHop(latest, store, queues);
        return 'redelivered';
      }
      default:
        // Another replica moved the record between our read and our apply: retry the job.
        throw new HandoffError(ErrorCode.INTERNAL, `Apply of ${turn.hopId} was ${outcome}; retrying`, { retryable: true });
    }
  }

  /** Dead-letters a job that cannot be processed, with an error event on its conversation when there is one. */
  private async reject(payload: unknown, jobId: string | undefined, error: unknown): Promise<void> {
    const conversationId = looseConversationId(payload);
    const errorJson = toErrorJson(error, ErrorCode.VALIDATION_FAILED);
    this.deps.logger.warn({ conversationId, jobId, error: errorJson }, 'coordinator job dead-lettered');
    await addDeadLetter(this.deps.queues, { sourceQueue: COORDINATOR_QUEUE, jobId, conversationId, error: errorJson, payload });
    if (conversationId) await this.deps.events.append(conversationId, { type: 'error', error: errorJson });
  }

  /** Starts consuming the coordinator queue. */
  start(options: CoordinatorOptions): Worker {
    const worker = new Worker(
      COORDINATOR_QUEUE,
      async (job: Job) => this.handle(job.data, job.id),
      {
        connection: options.connection,
        prefix: options.prefix,
        concurrency: options.concurrency ?? 64,
        maxStalledCount: DEFAULT_MAX_STALLED_COUNT,
        autorun: true,
      },
    );
    worker.on('failed', (job, error) => this.deps.logger.error({ jobId: job?.id, err: error }, 'coordinator job failed'));
    worker.on('error', (error) => this.deps.logger.error({ err: error }, 'coordinator worker error'));
    return worker;
  }
}
