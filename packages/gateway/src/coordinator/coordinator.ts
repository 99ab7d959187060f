import { Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import {
  COORDINATOR_QUEUE,
  ConversationNotFoundError,
  CoordinatorJob,
  DEFAULT_MAX_STALLED_COUNT,
  HandoffError,
  MAX_COORDINATOR_JOB_BYTES,
  assertPayloadSize,
  ErrorCode,
  hopId,
  parseBoundary,
  toErrorJson,
  type ErrorJson,
  type NetworkDefinition,
  type ChildDoneCommand,
  type ConversationRecord,
  type StartCommand,
  type UserMessageCommand,
  type TurnResult,
} from '@handoff/core';
import { ApplyOutcome, addDeadLetter, type ApplyResult, looseConversationId, type ConversationStore, type EventLog, type QueueSet } from '@handoff/redis';
import { decideChildDone } from './decide-child-done.js';
import { decideStart } from './decide-start.js';
import { decideUserMessage } from './decide-user-message.js';
import type { Decision } from './decision.js';
import { runEffects, type EffectDeps } from './effects.js';
import { decideFailure } from './decide-failure.js';
import { decideTurn } from './decide-turn.js';
import { RecordCache } from './record-cache.js';

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
  /** BullMQ lock of a coordinator job. @defaultValue 30 000 */
  lockDurationMs?: number;
  /** @defaultValue 30 000 */
  stalledIntervalMs?: number;
  /** @defaultValue {@link DEFAULT_MAX_STALLED_COUNT} */
  maxStalledCount?: number;
}

/** What happened to one coordinator job (returned as the BullMQ job's result, for inspection). */
export type CoordinatorJobOutcome = 'applied' | 'redelivered' | 'ignored' | 'dead-lettered';

/**
 * The coordinator: applies start commands and turn results to their conversations exactly once,
 * then publishes the next hop. Its only memory is a cache of the records it wrote, checked against
 * Redis on every apply; every replica can handle every job.
 */
export class Coordinator {
  private readonly records = new RecordCache();

  constructor(private readonly deps: CoordinatorDeps) {}

  /** Handles one coordinator job payload (exposed so tests can drive the exact interleavings). */
  async handle(payload: unknown, jobId?: string): Promise<CoordinatorJobOutcome> {
    let job: CoordinatorJob;
    try {
      assertPayloadSize(payload, MAX_COORDINATOR_JOB_BYTES, 'Coordinator job');
      job = parseBoundary(CoordinatorJob, payload, 'Coordinator job');
    } catch (error) {
      await this.reject(payload, jobId, error, { endPendingTurn: true });
      return 'dead-lettered';
    }
    switch (job.kind) {
      case 'start':
        return this.handleStart(job);
      case 'turn':
        return this.handleTurn(job, jobId);
      case 'user_message':
        return this.handleUserMessage(job);
      case 'child_done':
        return this.handleChildDone(job);
    }
  }

  private get effects(): EffectDeps {
    return { network: this.deps.network, store: this.deps.store, queues: this.deps.queues };
  }

  /** Applies a decision; on success remembers the record and runs its effects. */
  private async commit(decision: Decision): Promise<ApplyResult & { record?: ConversationRecord }> {
    const applied = await this.deps.store.apply(decision.step);
    if (applied.outcome !== ApplyOutcome.APPLIED || applied.version === null) {
      this.records.delete(decision.record.conversationId);
      return applied;
    }
    const record = { ...decision.record, version: applied.version };
    this.records.set(record);
    await runEffects(record, this.effects);
    return { ...applied, record };
  }

  private async handleStart(command: StartCommand): Promise<CoordinatorJobOutcome> {
    const existing = await this.deps.store.read(command.conversationId);
    if (existing) {
      await runEffects(existing, this.effects);
      return 'redelivered';
    }
    const applied = await this.commit(decideStart(this.deps.network, command));
    if (applied.outcome === ApplyOutcome.APPLIED) return 'applied';
    const record = await this.deps.store.read(command.conversationId);
    if (record) await runEffects(record, this.effects);
    return 'redelivered';
  }

  private async handleTurn(turn: TurnResult, jobId: string | undefined): Promise<CoordinatorJobOutcome> {
    const { store, network, logger } = this.deps;
    // The record this process wrote last is used when it is where this turn expects; the apply's
    // version check catches any write it missed.
    const cached = this.records.get(turn.conversationId);
    const fromCache = cached !== undefined && cached.appliedSeq === turn.seq - 1;
    const record = fromCache ? cached : await store.read(turn.conversationId);
    if (!record) {
      await this.reject(turn, jobId, new ConversationNotFoundError(turn.conversationId));
      return 'dead-lettered';
    }
    if (record.appliedSeq >= turn.seq) {
      // Already applied. If this is still the newest step, its effects may not have happened.
      if (record.appliedSeq === turn.seq) await runEffects(record, this.effects);
      return 'redelivered';
    }
    if (record.status !== 'running') {
      logger.info({ conversationId: turn.conversationId, hopId: turn.hopId, status: record.status }, 'turn result for a conversation not running ignored');
      return 'ignored';
    }
    const due = record.next;
    if (!due || due.hopId !== turn.hopId || due.agent !== turn.agent || due.seq !== turn.seq) {
      await this.reject(turn, jobId, new HandoffError(ErrorCode.VALIDATION_FAILED,
        `Turn result for hop ${turn.hopId} (${turn.agent}) does not match the pending hop ${due?.hopId ?? '(none)'} (${due?.agent ?? '-'}).`,
        { details: { expected: due, got: { hopId: turn.hopId, agent: turn.agent, seq: turn.seq } } }));
      return 'dead-lettered';
    }
    const applied = await this.commit(decideTurn(network, record, turn));
    switch (applied.outcome) {
      case ApplyOutcome.APPLIED:
        return 'applied';
      case ApplyOutcome.ALREADY_APPLIED: {
        const latest = await store.read(turn.conversationId);
        if (latest && latest.appliedSeq === turn.seq) await runEffects(latest, this.effects);
        return 'redelivered';
      }
      case ApplyOutcome.VERSION_CONFLICT:
        // Someone else wrote the record since it was read: decide again from what is there now.
        if (fromCache) return this.handleTurn(turn, jobId);
        throw new HandoffError(ErrorCode.INTERNAL, `Apply of ${turn.hopId} raced another writer; retrying`, { retryable: true });
      default:
        throw new HandoffError(ErrorCode.INTERNAL, `Apply of ${turn.hopId} was ${applied.outcome}; retrying`, { retryable: true });
    }
  }

  private async handleUserMessage(command: UserMessageCommand): Promise<CoordinatorJobOutcome> {
    const record = await this.deps.store.read(command.conversationId);
    if (!record) {
      await this.reject(command, undefined, new ConversationNotFoundError(command.conversationId));
      return 'dead-lettered';
    }
    const decision = decideUserMessage(this.deps.network, record, command);
    if (typeof decision === 'string') {
      if (decision === 'stale' && record.version > command.expectedVersion) {
        // Applied before (a redelivery or a double send): make sure its effects happened.
        await runEffects(record, this.effects);
        return 'redelivered';
      }
      const error = new HandoffError(ErrorCode.VALIDATION_FAILED, `The user's message was not applied: the conversation is ${decision === 'busy' ? `busy (${record.status})` : decision === 'ended' ? 'failed; start a new one' : 'at another state than the message was sent for'}.`, { details: { status: record.status, expectedVersion: command.expectedVersion, version: record.version } });
      await this.deps.events.append(command.conversationId, { type: 'error', error: error.toJSON() });
      return 'ignored';
    }
    const applied = await this.commit(decision);
    return applied.outcome === ApplyOutcome.APPLIED ? 'applied' : 'redelivered';
  }

  private async handleChildDone(command: ChildDoneCommand): Promise<CoordinatorJobOutcome> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const record = await this.deps.store.read(command.conversationId);
      if (!record) return 'ignored';
      const decision = decideChildDone(this.deps.network, record, command);
      if (!decision) {
        await runEffects(record, this.effects);
        return 'redelivered';
      }
      const applied = await this.commit(decision);
      if (applied.outcome === ApplyOutcome.APPLIED) return 'applied';
    }
    throw new HandoffError(ErrorCode.INTERNAL, `Could not apply the end of child ${command.childId}: the parent kept changing`, { retryable: true });
  }

  /**
   * Ends a running conversation with `error`, from outside its turns. With `atSeq`, only if the
   * conversation still waits for that hop (its pending hop is `atSeq`). Guarded by the record's
   * version; retried on a concurrent write.
   * @returns true when this call ended the conversation.
   */
  async failConversation(conversationId: string, error: ErrorJson, atSeq: number | null): Promise<boolean> {
    for (let attempt = 0; attempt < 5; attempt++) {
      this.records.delete(conversationId);
      const record = await this.deps.store.read(conversationId);
      if (!record || record.status !== 'running') return false;
      if (atSeq !== null && record.next?.seq !== atSeq) return false;
      const applied = await this.commit(decideFailure(record, error));
      if (applied.outcome === ApplyOutcome.APPLIED) return true;
    }
    throw new HandoffError(ErrorCode.INTERNAL, `Could not end conversation ${conversationId}: its record kept changing`, { retryable: true });
  }

  /**
   * Dead-letters a job that cannot be processed, with an error event on its conversation when there
   * is one. With `endPendingTurn`, an unreadable turn result (invalid, or of another schema version)
   * that names the hop its conversation waits for also ends that conversation with the error: its
   * worker has finished the hop, so no other result will come.
   */
  private async reject(payload: unknown, jobId: string | undefined, error: unknown, options: { endPendingTurn?: boolean } = {}): Promise<void> {
    const conversationId = looseConversationId(payload);
    const errorJson = toErrorJson(error, ErrorCode.VALIDATION_FAILED);
    this.deps.logger.warn({ conversationId, jobId, error: errorJson }, 'coordinator job dead-lettered');
    await addDeadLetter(this.deps.queues, { sourceQueue: COORDINATOR_QUEUE, jobId, conversationId, error: errorJson, payload });
    if (!conversationId) return;
    const seq = options.endPendingTurn ? looseTurnSeq(payload, conversationId) : undefined;
    // failConversation writes the error event itself (with the terminal event), so only one is added.
    if (seq !== undefined && (await this.failConversation(conversationId, errorJson, seq))) return;
    await this.deps.events.append(conversationId, { type: 'error', error: errorJson });
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
        maxStalledCount: options.maxStalledCount ?? DEFAULT_MAX_STALLED_COUNT,
        ...(options.lockDurationMs === undefined ? {} : { lockDuration: options.lockDurationMs }),
        ...(options.stalledIntervalMs === undefined ? {} : { stalledInterval: options.stalledIntervalMs }),
        autorun: true,
      },
    );
    worker.on('failed', (job, error) => this.deps.logger.error({ jobId: job?.id, err: error }, 'coordinator job failed'));
    worker.on('error', (error) => this.deps.logger.error({ err: error }, 'coordinator worker error'));
    return worker;
  }
}

/** The seq of a payload that looks like a turn result of `conversationId` (kind, hop id and seq agree), if it is one. */
function looseTurnSeq(payload: unknown, conversationId: string): number | undefined {
  if (payload === null || typeof payload !== 'object') return undefined;
  const { kind, hopId: hop, seq } = payload as { kind?: unknown; hopId?: unknown; seq?: unknown };
  if (kind !== 'turn' || typeof seq !== 'number' || !Number.isInteger(seq) || seq < 1) return undefined;
  return hop === hopId(conversationId, seq) ? seq : undefined;
}
