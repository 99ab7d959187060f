import type { RedisClient } from './connection.js';
import {
  DEFAULT_RETENTION_SECONDS,
  MAX_EVENTS_PER_CONVERSATION,
  MAX_OPERATIONS_REMEMBERED,
  COMMAND_REPLY_TTL_SECONDS,
  CommandReply,
  Message,
  parseBoundary,
  type ConversationRecord,
  type ConversationStatus,
  type KeyLayout,
  type NewEvent,
} from '@handoff/core';
import { APPLY_SCRIPT, applyResultFromCode, type ApplyResult } from './apply-script.js';
import { stampEvent } from './event-log.js';
import { withSmallScripts } from './small-scripts.js';
import { decodeRecord, encodeRecordFields } from './record-codec.js';

/** One atomic step on a conversation, as the coordinator computes it. */
export interface ApplyStep {
  conversationId: string;
  /** The applied sequence the record must be at; null when the step creates the record. */
  expectedSeq: number | null;
  /**
   * The applied sequence after the step; null for a step that is not a turn (a failure from
   * outside, a cancellation), which keeps the sequence and requires `expectedVersion`.
   */
  newSeq: number | null;
  /** Apply only if the record is at this version (what the step was decided from); null: any. */
  expectedVersion: number | null;
  /** Messages appended to the history. */
  messages: readonly Message[];
  /** Record fields to write (appliedSeq is set from `newSeq`). */
  record: Partial<ConversationRecord>;
  /** Events appended to the log, in order. */
  events: readonly NewEvent[];
  /**
   * What the step does to the conversation's lifetime: `parked` (it ended, or waits for the user:
   * result waiters wake, and its keys expire after the retention period), `revived` (a parked
   * conversation continues: its keys are kept again), or `active` (neither).
   */
  lifecycle: 'active' | 'parked' | 'revived';
  /** The command this step applies (recorded with it, so a second delivery is known as applied). */
  operationId?: string;
}

/** How far a conversation has got. */
export interface Progress {
  status: ConversationStatus;
  appliedSeq: number;
  /** The record's incarnation, where the read includes it. */
  epoch?: string;
}

/** Options of {@link ConversationStore}. */
export interface ConversationStoreOptions {
  /** Seconds finished conversations are kept. @defaultValue 7 days */
  retentionSeconds?: number;
}

type ApplyCommand = (
  record: string,
  history: string,
  events: string,
  done: string,
  ops: string,
  starting: string,
  ...args: (string | number)[]
) => Promise<number>;

/**
 * The conversations' state in Redis: the record (a hash), the history (a list) and, through
 * {@link ApplyStep}s, the event log. Every write that the coordinator makes per turn is one atomic
 * {@link ConversationStore.apply}.
 */
export class ConversationStore {
  private readonly retentionSeconds: number;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: KeyLayout,
    options: ConversationStoreOptions = {},
  ) {
    this.retentionSeconds = options.retentionSeconds ?? DEFAULT_RETENTION_SECONDS;
    if (!(redis as unknown as { handoffApply?: unknown }).handoffApply) {
      redis.defineCommand('handoffApply', { numberOfKeys: 6, lua: APPLY_SCRIPT });
    }
  }

  /** The record of a conversation, or null if there is none. */
  async read(conversationId: string): Promise<ConversationRecord | null> {
    return decodeRecord(await this.redis.hgetall(this.keys.conversation(conversationId)));
  }

  /**
   * The record, and whether a command's operation was applied to it already (one round trip).
   * Commands check this first: a redelivered command runs the effects of what it did, not itself again.
   */
  async readForOperation(conversationId: string, operationId: string | undefined): Promise<{ record: ConversationRecord | null; applied: boolean }> {
    if (!operationId) return { record: await this.read(conversationId), applied: false };
    const replies = await this.redis.multi().hgetall(this.keys.conversation(conversationId)).lpos(this.keys.ops(conversationId), operationId).exec();
    if (!replies) throw new Error('unreachable: MULTI without EXEC reply');
    const [[hashError, hash], [posError, position]] = replies as [[Error | null, Record<string, string>], [Error | null, number | null]];
    if (hashError) throw hashError;
    if (posError) throw posError;
    return { record: decodeRecord(hash), applied: position !== null };
  }

  /**
   * Writes the coordinator's answer to a command where its caller waits ({@link waitForReply}).
   * Kept {@link COMMAND_REPLY_TTL_SECONDS}; writing it again (a redelivery) adds a second copy, harmlessly.
   */
  async reply(conversationId: string, reply: CommandReply): Promise<void> {
    const key = this.keys.reply(conversationId, reply.operationId);
    await this.redis.multi().rpush(key, JSON.stringify(reply)).expire(key, COMMAND_REPLY_TTL_SECONDS).exec();
  }

  /**
   * Waits up to `timeoutMs` for the answer to a command, on `blocking` (a connection no one else
   * uses meanwhile). The answer stays for other waiters (the list is rotated, not popped).
   * @returns the answer, or null when none came in time.
   */
  async waitForReply(blocking: RedisClient, conversationId: string, operationId: string, timeoutMs: number): Promise<CommandReply | null> {
    const key = this.keys.reply(conversationId, operationId);
    const raw = await blocking.blmove(key, key, 'LEFT', 'RIGHT', Math.max(0.01, timeoutMs / 1000));
    return raw === null ? null : parseBoundary(CommandReply, JSON.parse(raw), 'Command reply');
  }

  /** Marks a conversation as starting (its start command is queued); the start's apply removes the mark. */
  async markStarting(conversationId: string, operationId: string): Promise<void> {
    await this.redis.set(this.keys.starting(conversationId), operationId, 'EX', this.retentionSeconds);
  }

  /** True while a start command of the conversation is queued and not yet applied. */
  async isStarting(conversationId: string): Promise<boolean> {
    return (await this.redis.exists(this.keys.starting(conversationId))) === 1;
  }

  /** Just the status and applied sequence (one small read; event readers use it while they wait). */
  async readProgress(conversationId: string): Promise<Progress | null> {
    const [status, appliedSeq] = await this.redis.hmget(this.keys.conversation(conversationId), 'status', 'appliedSeq');
    if (status === null || status === undefined || appliedSeq === null || appliedSeq === undefined) return null;
    return { status: status as ConversationStatus, appliedSeq: Number(appliedSeq) };
  }

  /**
   * What a worker reads before a turn, in one round trip: the conversation's progress, and the
   * raw history entries from index `from` up to (not including) `to`.
   */
  async readTurnInput(conversationId: string, from: number, to: number): Promise<{ progress: Progress | null; entries: string[] }> {
    const reply = await withSmallScripts(this.redis).handoffReadTurnInput(this.keys.conversation(conversationId), this.keys.history(conversationId), from, to - 1);
    const [status, appliedSeq, epoch, ...rest] = reply;
    const entries = rest as string[];
    const progress = status && appliedSeq ? { status: status as ConversationStatus, appliedSeq: Number(appliedSeq), epoch: epoch ?? '' } : null;
    return { progress, entries };
  }

  /**
   * Waits until the conversation ends or `timeoutMs` passes, holding `blocking` (a connection of
   * its own) meanwhile. Wakes once, when the coordinator's terminal step marks the conversation
   * done. The mark is rotated in place (`BLMOVE key key`, Redis ≥ 6.2), not popped and pushed back:
   * the list never empties, so every other waiter wakes too and the key keeps the retention TTL the
   * apply script gave it (a pop would delete the key, and the push recreate it without a TTL).
   * @returns true when the conversation ended.
   */
  async waitUntilDone(blocking: RedisClient, conversationId: string, timeoutMs: number): Promise<boolean> {
    const key = this.keys.done(conversationId);
    const moved = await blocking.blmove(key, key, 'LEFT', 'RIGHT', Math.max(0.01, timeoutMs / 1000));
    return moved !== null;
  }

  /** The last `count` messages of a conversation's history, oldest first. */
  async tail(conversationId: string, count: number): Promise<Message[]> {
    const entries = await this.redis.lrange(this.keys.history(conversationId), -count, -1);
    return entries.map((entry, index) => parseBoundary(Message, JSON.parse(entry), `History entry -${count - index}`));
  }

  /** The whole history of a conversation, oldest first. */
  async history(conversationId: string): Promise<Message[]> {
    const entries = await this.redis.lrange(this.keys.history(conversationId), 0, -1);
    return entries.map((entry, index) => parseBoundary(Message, JSON.parse(entry), `History entry ${index}`));
  }

  /** Applies one step atomically; see {@link ApplyOutcome} for what can come back. */
  async apply(step: ApplyStep): Promise<ApplyResult> {
    const now = Date.now();
    const fields = encodeRecordFields(step.record);
    const args: (string | number)[] = [
      step.expectedSeq === null ? '' : step.expectedSeq,
      step.newSeq === null ? '' : step.newSeq,
      MAX_EVENTS_PER_CONVERSATION,
      step.lifecycle === 'parked' ? this.retentionSeconds : step.lifecycle === 'revived' ? -1 : 0,
      step.expectedVersion === null ? '' : step.expectedVersion,
      step.operationId ?? '',
      MAX_OPERATIONS_REMEMBERED,
      step.messages.length,
      ...step.messages.map((m) => JSON.stringify(m)),
      fields.length / 2,
      ...fields,
      step.events.length,
      ...step.events.map((e) => JSON.stringify(stampEvent(step.conversationId, e, now))),
    ];
    const apply = (this.redis as unknown as { handoffApply: ApplyCommand }).handoffApply;
    const code = await apply.call(
      this.redis,
      this.keys.conversation(step.conversationId),
      this.keys.history(step.conversationId),
      this.keys.events(step.conversationId),
      this.keys.done(step.conversationId),
      this.keys.ops(step.conversationId),
      this.keys.starting(step.conversationId),
      ...args,
    );
    return applyResultFromCode(code);
  }
}
