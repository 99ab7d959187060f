import { Worker, type Job } from 'bullmq';
import type { RedisClient } from '@handoff/redis';
import type { Logger } from 'pino';
import {
  DEFAULT_COORDINATOR_PARTITIONS,
  coordinatorQueueName,
  queuePrefix,
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
  ConversationNotWaitingError,
  VersionConflictError,
  newOperationId,
  type CommandReply,
  resultOfRecord,
  OperationId,
} from '@handoff/core';

/** Reads and applies of one command before it gives up (and BullMQ retries it): each retry follows a concurrent write. */
const MAX_COMMAND_ATTEMPTS = 8;
import { ApplyOutcome, addDeadLetter, type ApplyResult, looseConversationId, type ConversationStore, type EventLog, type QueueSet } from '@handoff/redis';
import { decideEndedBeforeStart } from './decide-start.js';
import { decideApproval } from './decide-approval.js';
import { decideChildDone } from './decide-child-done.js';
import { decideStart, inputMessages, openingText, withEventsAfterStart } from './decide-start.js';
import { decideUserMessage } from './decide-user-message.js';
import { versionStep, type Decision } from './decision.js';
import { indexInFlight, isInFlight, runEffects, type EffectDeps } from './effects.js';
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
  /** A conversation in flight is looked at by the reconciler after this long without progress. @defaultValue {@link DEFAULT_RECONCILE_AFTER_MS} */
  reconcileAfterMs?: number;
  /** The console's list of recent conversations: every conversation started is added to it. */
  index?: ConversationIndex;
  /** True when finished conversations are archived (each end is queued for the archiver). */
  archiving?: boolean;
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
  /** Coordinator jobs processed at once by this process, across its partitions. @defaultValue 64 */
  concurrency?: number;
  /** This gateway's id (BullMQ's worker name: jobs show which gateway processed them). */
  name?: string;
  /** BullMQ lock of a coordinator job. @defaultValue 30 000 */
  lockDurationMs?: number;
  /** @defaultValue 30 000 */
  stalledIntervalMs?: number;
  /** @defaultValue {@link DEFAULT_MAX_STALLED_COUNT} */
  maxStalledCount?: number;
  /** Coordinator queue partitions to consume (0 … partitions − 1). @defaultValue {@link DEFAULT_COORDINATOR_PARTITIONS} */
  partitions?: number;
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

  constructor(private readonly deps: CoordinatorDeps) {
    const { network, store, queues, redis, keys, index, reconcileAfterMs, archiving } = deps;
    this.effects = {
      network,
      store,
      queues,
      redis,
      keys,
      ...(index ? { index } : {}),
      ...(reconcileAfterMs === undefined ? {} : { reconcileAfterMs }),
      ...(archiving ? { archiving } : {}),
      endConversation: (conversationId, error, reason) => this.endConversation(conversationId, error, null, reason),
    };
  }

  /**
   * Handles one coordinator job payload (exposed so tests can drive the exact interleavings).
   * `size` is the length of the JSON text it was parsed from, when the caller has it (saves serializing it again).
   */
  async handle(payload: unknown, jobId?: string, queueName?: string, size?: number): Promise<CoordinatorJobOutcome> {
    let job: CoordinatorJob;
    try {
      assertPayloadSize(payload, MAX_COORDINATOR_JOB_BYTES, 'Coordinator job', size);
      job = parseBoundary(CoordinatorJob, payload, 'Coordinator job');
    } catch (error) {
      await this.reject(payload, jobId, error, { endPendingTurn: true, ...(queueName === undefined ? {} : { queueName }) });
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

  /** What the effects need (built once: the deps do not change). */
  private readonly effects: EffectDeps;

  /**
   * Applies a decision; on success remembers the record and runs its effects. `nextTraceparent`
   * is the span the next hop's span goes under (default: the conversation's).
   */
  private async commit(undecorated: Decision, nextTraceparent?: string, operationId?: string): Promise<ApplyResult & { record?: ConversationRecord }> {
    const decision = traceNextHop(undecorated, nextTraceparent ?? undecorated.record.traceparent);
    const parkedResult = decision.step.lifecycle === 'parked' ? resultOfRecord(decision.record) : null;
    const step = { ...decision.step, ...(operationId === undefined ? {} : { operationId }), ...(parkedResult ? { parkedResult } : {}) };
    // A step that leaves the conversation in flight enters the reconciler's index before it applies
    // (sent first on the same connection: no extra round trip), so a crash right after the apply
    // cannot leave a conversation that no job and no index entry will ever move.
    const indexed = isInFlight(decision.record);
    const indexing = indexed ? indexInFlight(decision.record, this.effects) : undefined;
    const [applied] = await Promise.all([this.deps.store.apply(step), indexing]);
    if (applied.outcome !== ApplyOutcome.APPLIED || applied.version === null) {
      this.records.delete(decision.record.conversationId);
      return applied;
    }
    const record = { ...decision.record, version: applied.version };
    this.records.set(record);
    this.deps.observer?.stepApplied(step.events);
    await runEffects(record, this.effects, { indexed });
    return { ...applied, record };
  }

  private async handleStart(command: StartCommand): Promise<CoordinatorJobOutcome> {
    // A start applies only where no record exists (the apply checks), so a redelivered one is found
    // by its apply; only a router entry, whose routing may call a model, is looked for first.
    const existing = this.deps.routers.has(command.entryAgent) ? await this.deps.store.read(command.conversationId) : null;
    if (existing) {
      // Applied before (a redelivery, a lost reply), or the id is taken: starting an id twice starts one conversation.
      await Promise.all([runEffects(existing, this.effects), this.clearStartingMark(command)]);
      await this.afterStart(command);
      return 'redelivered';
    }
    // The conversation has no history yet: a router classifies the input's opening message.
    const routed = await this.route(command.entryAgent, null, command.conversationId, command.context, openingText(inputMessages(command.input)) ?? '');
    // What routing decided (a pool's pick, a dead agent routed around) is told after the conversation started.
    const started = withEventsAfterStart(decideStart(this.deps.network, { ...command, entryAgent: routed.agent }), routed.events);
    const traceparent = markSpan('conversation', contextOfTraceparent(command.traceparent), { 'handoff.conversation_id': command.conversationId, 'handoff.entry_agent': routed.agent });
    const traced = traceparent === undefined ? started : withConversationTrace(started, traceparent);
    const applied = await this.commit(traced, undefined, command.operationId);
    if (applied.outcome !== ApplyOutcome.APPLIED) {
      const record = await this.deps.store.read(command.conversationId);
      // Its mark, written again after the apply that deleted it, says "starting" no more.
      if (record) await Promise.all([runEffects(record, this.effects), this.clearStartingMark(command)]);
    }
    await this.afterStart(command);
    return applied.outcome === ApplyOutcome.APPLIED ? 'applied' : 'redelivered';
  }

  /** Removes the start's own mark when it outlived the apply (a duplicate start, or its mark written again after a lost reply). */
  private async clearStartingMark(command: StartCommand): Promise<void> {
    if (command.operationId !== undefined) await this.deps.store.clearStartingMark(command.conversationId, command.operationId);
  }

  /** Once a start's first hop is out, its admission no longer holds a place in the entry agent's queue limit (else it lapses after its hold). */
  private async afterStart(command: StartCommand): Promise<void> {
    const { redis, keys, network } = this.deps;
    const admitted = network.agentNames.includes(command.entryAgent) && network.agent(command.entryAgent).maxWaiting !== undefined;
    if (admitted) await redis.zrem(keys.admission(command.entryAgent), command.conversationId);
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
    if (turn.epoch !== undefined && turn.epoch !== record.epoch) {
      logger.info({ conversationId: turn.conversationId, hopId: turn.hopId, epoch: turn.epoch, recordEpoch: record.epoch }, 'turn result of an earlier conversation with this id ignored');
      return 'ignored';
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
    const applied = await this.commit(decision, handoffSpan(turn, decision.record, record.traceparent));
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
    // Nothing rerouted (an agent with no live worker and no live fallback: the hop waits, a warning
    // says so): the handoff stays as the turn decided it.
    if (routed.agent === name && (routed.events.length === 0 || outcome.target.type === 'agent')) return { turn, events: routed.events };
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
      const fallback = await this.liveFallback(agent);
      if (fallback !== undefined) {
        events.push(healthFallbackEvent(agent, fallback));
        return { agent: fallback, reason: `${agent} has no live worker`, events };
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
    return this.applyCommand(command, (record) => {
      const decision = decideApproval(this.deps.network, record, command);
      if (decision === 'not-waiting') return new ConversationNotWaitingError(command.conversationId, record.status, 'approval');
      if (decision === 'unknown-call') return new HandoffError(ErrorCode.VALIDATION_FAILED, 'The approval names a tool call the conversation does not wait on.', { details: { pending: record.waiting?.kind === 'approval' ? record.waiting.calls.map((c) => c.toolCallId) : [] } });
      return decision;
    });
  }

  private async handleCancel(command: CancelCommand): Promise<CoordinatorJobOutcome> {
    const error: ErrorJson = { code: 'CANCELLED', message: command.reason ? `Cancelled: ${command.reason}` : 'Cancelled by the client.', retryable: false };
    return this.applyCommand(
      command,
      // An ended conversation stays as it ended: the cancel has nothing left to do.
      (record) => (TERMINAL_STATUSES.has(record.status) ? null : decideFailure(record, error, 'cancelled')),
      // Cancelled while its start is still queued: it is created cancelled, and the start finds it so.
      async () => ((await this.deps.store.isStarting(command.conversationId)) ? decideEndedBeforeStart(this.deps.network, command.conversationId, error, 'cancelled') : null),
    );
  }

  private async handleUserMessage(command: UserMessageCommand): Promise<CoordinatorJobOutcome> {
    return this.applyCommand(command, (record) => {
      const decision = decideUserMessage(this.deps.network, record, command);
      switch (decision) {
        case 'stale':
          return new VersionConflictError(command.conversationId, command.expectedVersion, record.version);
        case 'busy':
        case 'ended':
          return new ConversationNotWaitingError(command.conversationId, record.status);
        case 'awaiting-approval':
          return new HandoffError(ErrorCode.CONVERSATION_NOT_WAITING, `Conversation "${command.conversationId}" waits for approval of tool calls, not for a message: approve or reject them (a rejection's reason reaches the agent).`, { details: { conversationId: command.conversationId, status: record.status } });
        default:
          return decision;
      }
    });
  }

  private async handleChildDone(command: ChildDoneCommand): Promise<CoordinatorJobOutcome> {
    // A report about a child the parent no longer waits for changes nothing (null).
    return this.applyCommand(command, (record) => decideChildDone(this.deps.network, record, command));
  }

  /**
   * Applies a command to its conversation effectively once, and tells its caller the outcome. The
   * command's operation id is recorded by the step that applies it: a later delivery of the same
   * operation (a redelivery after a crash, or ioredis re-sending the apply after a lost reply) finds
   * it recorded and runs the effects of the current record instead — publish the pending hop,
   * abort a cancelled turn, report to a parent — so a crash between the apply and its effects
   * loses nothing. Every other outcome is a fresh decision on a fresh read: applied, or refused
   * with a typed error that its caller receives.
   *
   * @param decide the step for the record as read; a {@link HandoffError} refuses the command;
   *   null means it has nothing to change (answered as applied).
   * @param whenMissing the step that creates the record when there is none; null: not found.
   */
  private async applyCommand(
    command: { kind: string; conversationId: string; operationId?: string | undefined },
    decide: (record: ConversationRecord) => Decision | HandoffError | null,
    whenMissing?: () => Promise<Decision | null>,
  ): Promise<CoordinatorJobOutcome> {
    const { conversationId, operationId } = command;
    for (let attempt = 0; attempt < MAX_COMMAND_ATTEMPTS; attempt++) {
      const { record, applied } = await this.deps.store.readForOperation(conversationId, operationId);
      if (record && applied) {
        await runEffects(record, this.effects);
        await this.answer(command, { outcome: 'applied', version: record.version });
        return 'redelivered';
      }
      if (record) {
        const decided = decide(record);
        if (decided === null) {
          await runEffects(record, this.effects);
          await this.answer(command, { outcome: 'applied', version: record.version });
          return 'ignored';
        }
        if (!(decided instanceof HandoffError)) {
          if (await this.applied(command, decided)) return 'applied';
          continue;
        }
        return this.refuse(command, decided, record.version);
      }
      const created = await whenMissing?.();
      if (created) {
        if (await this.applied(command, created)) return 'applied';
        continue;
      }
      // No record and nothing to create: unless a start applied meanwhile (read again), there is no such conversation.
      if (await this.deps.store.read(conversationId)) continue;
      return this.refuse(command, new ConversationNotFoundError(conversationId), null);
    }
    throw new HandoffError(ErrorCode.INTERNAL, `Could not apply the ${command.kind} to ${conversationId}: its record kept changing`, { retryable: true });
  }

  /** Commits a command's step; true (and its caller told) when it applied — false: another writer came first, or the reply was lost: read again. */
  private async applied(command: { kind: string; conversationId: string; operationId?: string | undefined }, decision: Decision): Promise<boolean> {
    const result = await this.commit(decision, undefined, command.operationId);
    if (result.outcome !== ApplyOutcome.APPLIED) return false;
    await this.answer(command, { outcome: 'applied', version: result.version });
    return true;
  }

  /** Refuses a command: its caller gets the error. */
  private async refuse(command: { kind: string; conversationId: string; operationId?: string | undefined }, error: HandoffError, version: number | null): Promise<CoordinatorJobOutcome> {
    this.deps.logger.info({ conversationId: command.conversationId, operationId: command.operationId, kind: command.kind, error: error.code }, 'command refused');
    await this.answer(command, { outcome: 'refused', version, error: error.toJSON() });
    return 'ignored';
  }

  /** Tells a command's caller the outcome (commands from clients only: a child's report has no caller waiting). */
  private async answer(command: { kind: string; conversationId: string; operationId?: string | undefined }, reply: Omit<CommandReply, 'operationId'>): Promise<void> {
    if (!command.operationId || command.kind === 'child_done') return;
    await this.deps.store.reply(command.conversationId, { operationId: command.operationId, ...reply });
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
   * nested chats end too (the effects of the ended record). With `atSeq`, only a running
   * conversation whose pending hop is `atSeq`. The end is an operation of its own, so a lost reply
   * or a crash after it still runs its effects when it is tried again.
   * @returns true when this call ended it.
   */
  async endConversation(conversationId: string, error: ErrorJson, atSeq: number | null, reason: TerminalReason): Promise<boolean> {
    const operationId = newOperationId('end');
    for (let attempt = 0; attempt < MAX_COMMAND_ATTEMPTS; attempt++) {
      this.records.delete(conversationId);
      const { record, applied } = await this.deps.store.readForOperation(conversationId, operationId);
      if (record && applied) {
        await runEffects(record, this.effects);
        return true;
      }
      if (!record || TERMINAL_STATUSES.has(record.status)) return false;
      if (atSeq !== null && (record.status !== 'running' || record.next?.seq !== atSeq)) return false;
      const result = await this.commit(decideFailure(record, error, reason), undefined, operationId);
      if (result.outcome === ApplyOutcome.APPLIED) return true;
    }
    throw new HandoffError(ErrorCode.INTERNAL, `Could not end conversation ${conversationId}: its record kept changing`, { retryable: true });
  }

  /**
   * Settles a coordinator job that failed for good (the failure sweeper calls it): a command whose
   * step was applied gets its effects run again (the publish after the apply may be what failed);
   * a start that never applied creates its conversation failed; a turn whose hop is still pending
   * ends the conversation; a client's command is answered as refused. Nothing is left waiting.
   */
  async settleFailedJob(payload: unknown, error: ErrorJson): Promise<void> {
    const conversationId = looseConversationId(payload);
    if (!conversationId) return;
    const data = payload as { kind?: unknown; seq?: unknown; operationId?: unknown };
    const operationId = typeof data.operationId === 'string' ? data.operationId : undefined;
    const command = { kind: String(data.kind), conversationId, ...(operationId ? { operationId } : {}) };
    const { record, applied } = await this.deps.store.readForOperation(conversationId, operationId);
    if (data.kind === 'turn' && typeof data.seq === 'number') {
      if (record && record.appliedSeq >= data.seq) await runEffects(record, this.effects);
      else await this.failConversation(conversationId, error, data.seq);
      return;
    }
    if (record && (applied || data.kind === 'start' || data.kind === 'child_done')) {
      await runEffects(record, this.effects);
      if (applied) await this.answer(command, { outcome: 'applied', version: record.version });
      return;
    }
    if (!record && data.kind === 'start') {
      await this.commit(decideEndedBeforeStart(this.deps.network, conversationId, error, 'error'), undefined, operationId);
      return;
    }
    await this.answer(command, { outcome: 'refused', version: record?.version ?? null, error });
  }

  /**
   * Moves a hop that waits on the queue of an agent with no live worker to the first of its
   * fallbacks that has one — as a new hop to that agent would be routed. The queued job is removed
   * first (`removeQueued` says whether it was: a worker may have taken it meanwhile), then the
   * record's pending hop is re-pointed, version-guarded, and published.
   * @returns true when it moved.
   */
  async rerouteQueuedHop(record: ConversationRecord, removeQueued: (agent: string) => Promise<number>): Promise<boolean> {
    const next = record.next;
    if (record.status !== 'running' || !next || !this.deps.network.agentNames.includes(next.agent)) return false;
    const fallback = await this.liveFallback(next.agent);
    if (fallback === undefined || (await removeQueued(next.agent)) !== 1) return false;
    const decided = healthFallbackEvent(next.agent, fallback);
    const moved: ConversationRecord = {
      ...record,
      currentAgent: fallback,
      path: [...record.path.slice(0, -1), fallback],
      next: { ...next, agent: fallback, reason: `${next.reason} (${decided.reason})` },
      updatedAt: Date.now(),
    };
    const events: NewEvent[] = [
      { type: 'warning', message: `hop ${next.hopId} waited on the queue of ${next.agent}, whose workers are gone; moved to ${fallback}`, details: { agent: next.agent, hopId: next.hopId } },
      decided,
    ];
    const applied = await this.commit(versionStep(record, moved, events, 'active'), undefined, newOperationId('reroute'));
    if (applied.outcome === ApplyOutcome.APPLIED) return true;
    // Someone else moved it first: whatever the record says now is published (its hop may be the one just removed).
    const latest = await this.deps.store.read(record.conversationId);
    if (latest) await runEffects(latest, this.effects);
    return false;
  }

  /** The first fallback of `agent` with a live worker, if any. */
  private async liveFallback(agent: string): Promise<string | undefined> {
    for (const fallback of this.deps.network.agent(agent).fallbacks) {
      if ((await this.deps.health.liveWorkers(fallback)) > 0) return fallback;
    }
    return undefined;
  }

  /** Runs the effects a record's state calls for (the reconciler's way to finish what a crash left). */
  async resume(record: ConversationRecord): Promise<void> {
    // The reconciler has just pushed its in-flight entry ahead.
    await runEffects(record, this.effects, { indexed: true });
  }

  /**
   * Dead-letters a job that cannot be processed, with an error event on its conversation when there
   * is one. With `endPendingTurn`, an unreadable turn result (invalid, or of another schema version)
   * that names the hop its conversation waits for also ends that conversation with the error: its
   * worker has finished the hop, so no other result will come; an unreadable start whose client
   * marked the conversation starting creates it failed with the error (its caller was told the
   * start was accepted, and no valid start will come).
   */
  private async reject(payload: unknown, jobId: string | undefined, error: unknown, options: { endPendingTurn?: boolean; queueName?: string } = {}): Promise<void> {
    const conversationId = looseConversationId(payload);
    const errorJson = toErrorJson(error, ErrorCode.VALIDATION_FAILED);
    this.deps.logger.warn({ conversationId, jobId, error: errorJson }, 'coordinator job dead-lettered');
    // The queue the job came from (where a replay puts it back): as BullMQ says, else its conversation's partition, else the first.
    const sourceQueue = options.queueName ?? (conversationId ? await this.deps.queues.coordinatorFor(conversationId) : this.deps.queues.coordinatorPartition(0)).name;
    await addDeadLetter(this.deps.queues, { sourceQueue, jobId, conversationId, error: errorJson, payload });
    if (!conversationId) return;
    const seq = options.endPendingTurn ? looseTurnSeq(payload, conversationId) : undefined;
    // failConversation writes the error event itself (with the terminal event), so only one is added.
    if (seq !== undefined && (await this.failConversation(conversationId, errorJson, seq))) return;
    // A start its client marked (so told "accepted": the mark is this start's) ends failed rather than waiting as "starting" for good.
    const startOperation = options.endPendingTurn && isLooseStart(payload) ? looseOperationId(payload) : undefined;
    if (startOperation !== undefined && (await this.deps.store.isStartingWith(conversationId, startOperation))) {
      const ended = await this.commit(decideEndedBeforeStart(this.deps.network, conversationId, errorJson, 'error'), undefined, startOperation);
      if (ended.outcome === ApplyOutcome.APPLIED) return;
    }
    await this.deps.events.append(conversationId, { type: 'error', error: errorJson });
  }

  /**
   * Starts consuming the coordinator queue partitions 0 … `partitions` − 1, one BullMQ worker each
   * (they share the blocking connection's settings; BullMQ opens one blocking connection per worker).
   */
  start(options: CoordinatorOptions): Worker[] {
    const partitions = options.partitions ?? DEFAULT_COORDINATOR_PARTITIONS;
    const concurrency = Math.max(1, Math.ceil((options.concurrency ?? 64) / partitions));
    return Array.from({ length: partitions }, (_, partition) => this.startPartition(options, partition, concurrency));
  }

  private startPartition(options: CoordinatorOptions, partition: number, concurrency: number): Worker {
    const queue = coordinatorQueueName(partition);
    const worker = new Worker(
      queue,
      async (job: Job) => this.handle(job.data, job.id, queue),
      {
        connection: options.connection,
        prefix: queuePrefix(options.prefix, queue),
        concurrency,
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

/** True for a payload that says it is a start command. */
function isLooseStart(payload: unknown): boolean {
  return payload !== null && typeof payload === 'object' && (payload as { kind?: unknown }).kind === 'start';
}

/** The operation id a payload carries, when it is a valid one. */
function looseOperationId(payload: unknown): string | undefined {
  const operationId = payload !== null && typeof payload === 'object' ? (payload as { operationId?: unknown }).operationId : undefined;
  return OperationId.safeParse(operationId).success ? (operationId as string) : undefined;
}

/** The event that says a hop goes to `fallback` because `agent` has no live worker. */
function healthFallbackEvent(agent: string, fallback: string): Extract<NewEvent, { type: 'routing.decided' }> {
  return { type: 'routing.decided', router: agent, strategy: 'health', agent: fallback, reason: `${agent} has no live worker; its fallback ${fallback} has`, details: { unavailable: agent } };
}
