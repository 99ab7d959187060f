import type { ConversationIndex } from '../conversation-index.js';
import {
  DEFAULT_RECONCILE_AFTER_MS,
  SCHEMA_VERSION,
  TERMINAL_STATUSES,
  childReportJobId,
  hopJobId,
  interpolateContext,
  messageText,
  resultOfRecord,
  type ChildDoneCommand,
  type ConversationRecord,
  type ErrorJson,
  type KeyLayout,
  type NetworkDefinition,
  type TerminalReason,
  type Waiting,
} from '@handoff/core';
import { ApplyOutcome, HOP_JOB_OPTIONS, type ConversationStore, type QueueSet, type RedisClient } from '@handoff/redis';
import { decideNewConversation } from './decide-start.js';
import { dispatchPendingHop } from './dispatch.js';
import { enqueueArchive } from './archive-queue.js';

/** What the effects need. */
export interface EffectDeps {
  network: NetworkDefinition;
  store: ConversationStore;
  queues: QueueSet;
  /** The command connection (in-flight index, deadlines, cancellation announcements). */
  redis: RedisClient;
  keys: KeyLayout;
  /** The console's list of recent conversations; child conversations are added to it when created. */
  index?: ConversationIndex;
  /** A conversation in flight is looked at by the reconciler after this long without progress. @defaultValue {@link DEFAULT_RECONCILE_AFTER_MS} */
  reconcileAfterMs?: number;
  /** True when finished conversations are archived: each one that ends is put in the pending-archive index. */
  archiving?: boolean;
  /** Ends a conversation from outside (the coordinator's endConversation): used for the child of an ended parent. */
  endConversation(conversationId: string, error: ErrorJson, reason: TerminalReason): Promise<unknown>;
}

/**
 * Does what a record's state calls for once its step is applied — every action idempotent, so it
 * runs after each apply and again for every redelivered job whose step was already applied (the
 * crash may have fallen in between), and from the reconciler:
 * - running: publish the pending hop; keep it in the in-flight index (and its deadline); a new
 *   conversation (nothing applied yet) is listed in the console's index;
 * - ended, with an archive: queue it for the archiver (before it leaves the in-flight index);
 * - waiting for a child: start the child conversation (or pick up where it is);
 * - ended from outside: drop the hop that was pending, abort its running turn, end its child;
 * - a child that ended or waits for its user: tell the parent.
 */
export async function runEffects(record: ConversationRecord, deps: EffectDeps, options: { indexed?: boolean } = {}): Promise<void> {
  const { redis, keys } = deps;
  const id = record.conversationId;
  const bookkeeping: Promise<unknown>[] = [];
  // A finished conversation enters the pending-archive index before it leaves the in-flight one: a
  // crash between the two leaves it in flight, where the reconciler finds it ended and queues it.
  if (!isInFlight(record)) bookkeeping.push(deps.archiving && TERMINAL_STATUSES.has(record.status) ? enqueueArchive(redis, keys, id).then(() => redis.zrem(keys.inFlight, id)) : redis.zrem(keys.inFlight, id));
  else if (!options.indexed) bookkeeping.push(indexInFlight(record, deps));
  // A new conversation is listed for the console with its first effects (sent with its first hop's
  // publish, so no crash between the start's apply and those effects leaves it unlisted).
  if (record.appliedSeq === 0 && deps.index) bookkeeping.push(deps.index.touch(id));
  // The deadline never changes: it is set once (at the start, or when effects are run again after a crash) and removed at the end.
  const deadline = record.limits.deadlineAt;
  if (deadline !== null && TERMINAL_STATUSES.has(record.status)) bookkeeping.push(redis.zrem(keys.deadlines, id));
  else if (deadline !== null && (record.appliedSeq === 0 || !options.indexed)) bookkeeping.push(redis.zadd(keys.deadlines, deadline, id));
  if (record.status === 'running') {
    await Promise.all([dispatchPendingHop(record, deps.queues), ...bookkeeping]);
    return;
  }
  await Promise.all(bookkeeping);
  if (record.status === 'awaiting_child' && record.waiting?.kind === 'child') {
    await ensureChild(record, record.waiting, deps);
    return;
  }
  if (record.interrupted && TERMINAL_STATUSES.has(record.status)) await stopInterrupted(record, record.interrupted, deps);
  if (record.parent) await reportToParent(record, deps);
}

/** True for a conversation the reconciler watches: running, or waiting for a child. */
export function isInFlight(record: ConversationRecord): boolean {
  return record.status === 'running' || record.status === 'awaiting_child';
}

/** Puts a conversation in flight in the reconciler's index, due `reconcileAfterMs` from now. */
export function indexInFlight(record: ConversationRecord, deps: Pick<EffectDeps, 'redis' | 'keys' | 'reconcileAfterMs'>): Promise<unknown> {
  return deps.redis.zadd(deps.keys.inFlight, Date.now() + (deps.reconcileAfterMs ?? DEFAULT_RECONCILE_AFTER_MS), record.conversationId);
}

/** After an end from outside: the pending hop leaves its queue, a running turn is aborted, the child ends too. */
async function stopInterrupted(record: ConversationRecord, interrupted: NonNullable<ConversationRecord['interrupted']>, deps: EffectDeps): Promise<void> {
  const { queues, redis, keys } = deps;
  // A hop a worker holds cannot be removed: the announcement aborts its turn, and its result is ignored.
  if (interrupted.agent && interrupted.hopId) await queues.lane(interrupted.agent).remove(hopJobId(interrupted.hopId, record.epoch)).catch(() => 0);
  await redis.publish(keys.cancelChannel, record.conversationId);
  if (interrupted.childId && record.error) await deps.endConversation(interrupted.childId, record.error, record.terminalReason === 'cancelled' ? 'cancelled' : 'error');
}

async function ensureChild(parent: ConversationRecord, waiting: Extract<Waiting, { kind: 'child' }>, deps: EffectDeps): Promise<void> {
  let child = await deps.store.read(waiting.childId);
  if (!child) {
    const decision = decideNewConversation(deps.network, {
      conversationId: waiting.childId,
      entryAgent: waiting.entry,
      messages: [{ role: 'user', content: await openingMessage(parent, waiting, deps.store) }],
      context: parent.context,
      maxHops: waiting.maxHops ?? deps.network.maxHops,
      createdAt: Date.now(),
      parent: { conversationId: parent.conversationId, caller: waiting.caller },
      depth: parent.depth + 1,
      group: waiting.group,
      limits: parent.limits,
    });
    const applied = await deps.store.apply(decision.step);
    child = applied.outcome === ApplyOutcome.APPLIED && applied.version !== null ? { ...decision.record, version: applied.version } : await deps.store.read(waiting.childId);
  }
  if (child) await runEffects(child, deps);
}

/** The child's opening message: its own (with `${var}` from the context), else the carried text, else the parent's last user message. */
async function openingMessage(parent: ConversationRecord, waiting: Extract<Waiting, { kind: 'child' }>, store: ConversationStore): Promise<string> {
  if (waiting.message !== undefined) {
    try {
      return interpolateContext(waiting.message, parent.context);
    } catch {
      return waiting.message;
    }
  }
  if (waiting.carry) return waiting.carry;
  const history = await store.history(parent.conversationId);
  const lastUser = [...history].reverse().find((m) => m.role === 'user');
  return lastUser ? messageText(lastUser) : `(${waiting.caller} started this chat)`;
}

/**
 * Tells the parent where its child stands — ended (completed, failed or cancelled: the parent
 * continues) or waiting for its user (the parent shows where it waits). One job per child state,
 * so a report is added once however often the effects run.
 */
async function reportToParent(child: ConversationRecord, deps: EffectDeps): Promise<void> {
  const result = resultOfRecord(child);
  if (!child.parent || !result) return;
  const jobId = childReportJobId(child.conversationId, child.epoch, child.version);
  const command: ChildDoneCommand = { schemaVersion: SCHEMA_VERSION, kind: 'child_done', conversationId: child.parent.conversationId, childId: child.conversationId, result, operationId: jobId, createdAt: Date.now() };
  await (await deps.queues.coordinatorFor(command.conversationId)).add('child_done', command, { ...HOP_JOB_OPTIONS, jobId });
}
