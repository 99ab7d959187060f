import type { RedisClient } from './connection.js';
import {
  DEFAULT_RETENTION_SECONDS,
  MAX_EVENTS_PER_CONVERSATION,
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
}

/** How far a conversation has got. */
export interface Progress {
  status: ConversationStatus;
  appliedSeq: number;
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
      redis.defineCommand('handoffApply', { numberOfKeys: 4, lua: APPLY_SCRIPT });
    }
  }

  /** The record of a conversation, or null if there is none. */
  async read(conversationId: string): Promise<ConversationRecord | null> {
    return decodeRecord(await this.redis.hgetall(this.keys.conversation(conversationId)));
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
    const [status, appliedSeq, ...rest] = reply;
    const entries = rest as string[];
    const progress = status && appliedSeq ? { status: status as ConversationStatus, appliedSeq: Number(appliedSeq) } : null;
    return { progress, entries };
  }

  /**
   * Waits until the conversation ends or `timeoutMs` passes, holding `blocking` (a connection of
   * its own) meanwhile. Wakes once, when the coordinator's terminal step marks the conversation
   * done; passes the mark on, so every other waiter wakes too.
   * @returns true when the conversation ended.
   */
  async waitUntilDone(blocking: RedisClient, conversationId: string, timeoutMs: number): Promise<boolean> {
    const key = this.keys.done(conversationId);
    const popped = await blocking.blpop(key, Math.max(0.01, timeoutMs / 1000));
    if (!popped) return false;
    await blocking.lpush(key, popped[1]);
    return true;
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
      ...args,
    );
    return applyResultFromCode(code);
  }
}
