import { Worker, type Job } from 'bullmq';
import type { RedisClient } from '@handoff/redis';
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
  type ApprovalCommand,
  type CancelCommand,
  type ChildDoneCommand,
  type KeyLayout,
  type NewEvent,
  type TerminalReason,
  TERMINAL_STATUSES,
  messageText,
  type ConversationRecord,
  type StartCommand,
  type UserMessageCommand,
  type TurnResult,
  contextOfTraceparent,
  markSpan,
} from '@handoff/core';
import { ApplyOutcome, addDeadLetter, type ApplyResult, looseConversationId, type ConversationStore, type EventLog, type QueueSet } from '@handoff/redis';
import { decideApproval } from './decide-approval.js';
import { decideChildDone } from './decide-child-done.js';
import { decideStart, inputMessages, openingText } from './decide-start.js';
import { decideUserMessage } from './decide-user-message.js';
import type { Decision } from './decision.js';
import { runEffects, type EffectDeps } from './effects.js';
import { decideFailure } from './decide-failure.js';
import { decideTurn } from './decide-turn.js';
import { handoffSpan, traceNextHop, withConversationTrace } from './trace-hops.js';
import type { ConversationIndex } from '../conversation-index.js';
import { RecordCache } from './record-cache.js';
import type { HealthView } from '../routing/health.js';
import type { Routers } from '../routing/router.js';

/** What the coordinator needs; the gateway wires it. */
export interface CoordinatorDeps {
  network: NetworkDefinition;
  store: ConversationStore;
  events: EventLog;
  queues: QueueSet;
  logger: Logger;
  /** The command connection (deadlines, cancellation announcements). */
  redis: RedisClient;
  keys: KeyLayout;
  routers: Routers;
  health: HealthView;
  /** Told about every applied step (metrics). */
  observer?: CoordinatorObserver;
  /** The console's list of recent conversations: every conversation started is added to it. */
  index?: ConversationIndex;
}

/** Something that wants to know every step the coordinator applied, e.g. metrics. */
export interface CoordinatorObserver {
  stepApplied(events: readonly NewEvent[]): void;
}

/** Options of the coordinator's BullMQ worker. */
export interface CoordinatorOptions {
  /** Redis connection for the worker (blocking; not shared with commands). */
  connection: RedisClient;
  prefix: string;
  /** Coordinator jobs processed at once by this process. @defaultValue 64 */
  concurrency?: number;
  /** This gateway's id (BullMQ's worker name: jobs show which gateway processed them). */
  name?: string;
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
      case 'cancel':
        return this.handleCancel(job);
      case 'approval':
        return this.handleApproval(job);
    }
  }

  private get effects(): EffectDeps {
    return { network: this.deps.network, store: this.deps.store, queues: this.deps.queues, ...(this.deps.index ? { index: this.deps.index } : {}) };
  }

  /**
   * Applies a decision; on success remembers the record and runs its effects. `nextTraceparent`
   * is the span the next hop's span goes under (default: the conversation's).
   */
  private async commit(undecorated: Decision, extraEvents: NewEvent[] = [], nextTraceparent?: string): Promise<ApplyResult & { record?: ConversationRecord }> {
    const decision = traceNextHop(undecorated, nextTraceparent ?? undecorated.record.traceparent);
    const step = extraEvents.length > 0 ? { ...decision.step, events: [...extraEvents, ...decision.step.events] } : decision.step;
    const applied = await this.deps.store.apply(step);
    if (applied.outcome !== ApplyOutcome.APPLIED || applied.version === null) {
      this.records.delete(decision.record.conversationId);
      return applied;
    }
    const record = { ...decision.record, version: applied.version };
    this.records.set(record);
    this.deps.observer?.stepApplied(step.events);
    await runEffects(record, this.effects);
    return { ...applied, record };
  }

  private async handleStart(command: StartCommand): Promise<CoordinatorJobOutcome> {
    const existing = await this.deps.store.read(command.conversationId);
    if (existing) {
      await runEffects(existing, this.effects);
      return 'redelivered';
    }
    // The conversation has no history yet: a router classifies the input's opening message.
    const routed = await this.route(command.entryAgent, null, command.conversationId, command.context, openingText(inputMessages(command.input)) ?? '');
    const started = decideStart(this.deps.network, { ...command, entryAgent: routed.agent });
    const traceparent = markSpan('conversation', contextOfTraceparent(command.traceparent), { 'handoff.conversation_id': command.conversationId, 'handoff.entry_agent': routed.agent });
    const traced = traceparent === undefined ? started : withConversationTrace(started, traceparent);
    const applied = await this.commit(traced, routed.events);
    if (applied.outcome === ApplyOutcome.APPLIED) {
      await this.deps.index?.touch(command.conversationId);
      if (applied.record?.limits.deadlineAt) await this.deps.redis.zadd(this.deps.keys.deadlines, applied.record.limits.deadlineAt, command.conversationId);
      return 'applied';
    }
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
    const prepared = await this.prepareTurn(record, turn);
    const decision = decideTurn(network, record, prepared.turn, Date.now(), prepared.events);
    const applied = await this.commit(decision, [], handoffSpan(turn, decision.record, record.traceparent));
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

  /**
   * Resolves what needs live facts before a turn is decided: a router target becomes the agent its
   * strategy picks, and an agent with no live worker is routed around to its first fallback that
   * has one. The events say what was decided and why.
   */
  private async prepareTurn(record: ConversationRecord, turn: TurnResult): Promise<{ turn: TurnResult; events: NewEvent[] }> {
    const outcome = turn.outcome;
    if (outcome.type !== 'handoff' || (outcome.target.type !== 'route' && outcome.target.type !== 'agent')) return { turn, events: [] };
    const name = outcome.target.type === 'route' ? outcome.target.router : outcome.target.agent;
    // A router reads the latest user text itself, and only when it needs it (not on a plain handoff).
    const routed = await this.route(name, turn.agent, record.conversationId, record.context, undefined);
    if (routed.agent === name && routed.events.length === 0) return { turn, events: [] };
    const source = outcome.target.type === 'route' ? ('router' as const) : ('health' as const);
    return { turn: { ...turn, outcome: { ...outcome, target: { type: 'agent', agent: routed.agent }, source, reason: `${outcome.reason} (${routed.reason})` } }, events: routed.events };
  }

  /** Resolves a router or checks an agent's health; returns the agent to use. */
  private async route(name: string, from: string | null, conversationId: string, context: ConversationRecord['context'], text: string | undefined): Promise<{ agent: string; reason: string; events: NewEvent[] }> {
    const { routers, health, network } = this.deps;
    const events: NewEvent[] = [];
    let agent = name;
    let reason = '';
    if (routers.has(name)) {
      try {
        const decision = await routers.resolve(name, { from, conversationId, text: text ?? (await this.latestUserText(conversationId)), context });
        events.push({ type: 'routing.decided', router: name, strategy: decision.strategy, agent: decision.agent, reason: decision.reason, ...(decision.details ? { details: decision.details } : {}) });
        agent = decision.agent;
        reason = `${name}: ${decision.reason}`;
      } catch (error) {
        // Leave the target as it is: the decision fails it with the router's error.
        events.push({ type: 'warning', message: `router "${name}" could not pick: ${error instanceof Error ? error.message : String(error)}` });
        return { agent: name, reason: 'routing failed', events };
      }
    }
    if (network.agentNames.includes(agent) && (await health.liveWorkers(agent)) === 0) {
      for (const fallback of network.agent(agent).fallbacks) {
        if ((await health.liveWorkers(fallback)) > 0) {
          events.push({ type: 'routing.decided', router: agent, strategy: 'health', agent: fallback, reason: `${agent} has no live worker; its fallback ${fallback} has`, details: { unavailable: agent } });
          return { agent: fallback, reason: `${agent} has no live worker`, events };
        }
      }
      events.push({ type: 'warning', message: `agent "${agent}" has no live worker; the hop waits on its queue until one starts`, details: { agent } });
    }
    return { agent, reason, events };
  }

  /** The text of the conversation's latest user message (what routers route on). */
  private async latestUserText(conversationId: string): Promise<string> {
    const tail = await this.deps.store.tail(conversationId, 20);
    const last = [...tail].reverse().find((m) => m.role === 'user');
    return last ? messageText(last) : '';
  }

  private async handleApproval(command: ApprovalCommand): Promise<CoordinatorJobOutcome> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const record = await this.deps.store.read(command.conversationId);
      if (!record) {
        await this.reject(command, undefined, new ConversationNotFoundError(command.conversationId));
        return 'dead-lettered';
      }
      const decision = decideApproval(this.deps.network, record, command);
      if (typeof decision === 'string') {
        const message = decision === 'not-waiting' ? `The conversation is ${record.status}; it waits for no approval.` : 'The approval names a tool call the conversation does not wait on.';
        await this.deps.events.append(command.conversationId, { type: 'error', error: { code: 'VALIDATION_FAILED', message, retryable: false } });
        return 'ignored';
      }
      const applied = await this.commit(decision);
      if (applied.outcome === ApplyOutcome.APPLIED) return 'applied';
    }
    throw new HandoffError(ErrorCode.INTERNAL, `Could not apply approvals to ${command.conversationId}: its record kept changing`, { retryable: true });
  }

  private async handleCancel(command: CancelCommand): Promise<CoordinatorJobOutcome> {
    const ended = await this.endConversation(command.conversationId, { code: 'CANCELLED', message: command.reason ? `Cancelled: ${command.reason}` : 'Cancelled by the client.', retryable: false }, null, 'cancelled');
    return ended ? 'applied' : 'ignored';
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
    return this.endConversation(conversationId, error, atSeq, 'error');
  }

  /**
   * Ends a conversation that has not ended yet — failed, past its deadline, or cancelled: its
   * pending hop is removed from its queue, workers running its turn are told to abort, and its
   * nested chats end too. With `atSeq`, only a running conversation whose pending hop is `atSeq`.
   * @returns true when this call ended it.
   */
  async endConversation(conversationId: string, error: ErrorJson, atSeq: number | null, reason: TerminalReason): Promise<boolean> {
    for (let attempt = 0; attempt < 5; attempt++) {
      this.records.delete(conversationId);
      const record = await this.deps.store.read(conversationId);
      if (!record || TERMINAL_STATUSES.has(record.status)) return false;
      if (atSeq !== null && (record.status !== 'running' || record.next?.seq !== atSeq)) return false;
      const applied = await this.commit(decideFailure(record, error, reason));
      if (applied.outcome !== ApplyOutcome.APPLIED) continue;
      await this.stopInFlight(record, error, reason);
      return true;
    }
    throw new HandoffError(ErrorCode.INTERNAL, `Could not end conversation ${conversationId}: its record kept changing`, { retryable: true });
  }

  /** After a conversation ended from outside: drop its pending hop, abort its running turn, end its children. */
  private async stopInFlight(record: ConversationRecord, error: ErrorJson, reason: TerminalReason): Promise<void> {
    const { queues, redis, keys } = this.deps;
    if (record.next) await queues.agent(record.next.agent).remove(record.next.hopId).catch(() => 0);
    await redis.publish(keys.cancelChannel, record.conversationId);
    await redis.zrem(keys.deadlines, record.conversationId);
    if (record.waiting?.kind === 'child') await this.endConversation(record.waiting.childId, error, null, reason);
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
        ...(options.name === undefined ? {} : { name: options.name }),
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
