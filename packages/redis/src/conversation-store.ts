import type { Redis } from 'ioredis';
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
import { APPLY_SCRIPT, applyOutcomeFromCode, type ApplyOutcome } from './apply-script.js';
import { stampEvent } from './event-log.js';
import { decodeRecord, encodeRecordFields } from './record-codec.js';

/** One atomic step on a conversation, as the coordinator computes it. */
export interface ApplyStep {
  conversationId: string;
  /** The applied sequence the record must be at; null when the step creates the record. */
  expectedSeq: number | null;
  /** The applied sequence after the step. */
  newSeq: number;
  /** Messages appended to the history. */
  messages: readonly Message[];
  /** Record fields to write (appliedSeq is set from `newSeq`). */
  record: Partial<ConversationRecord>;
  /** Events appended to the log, in order. */
  events: readonly NewEvent[];
  /** The step ends the conversation: its keys then expire after the retention period. */
  terminal: boolean;
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
    private readonly redis: Redis,
    private readonly keys: KeyLayout,
    options: ConversationStoreOptions = {},
  ) {
    this.retentionSeconds = options.retentionSeconds ?? DEFAULT_RETENTION_SECONDS;
    if (!(redis as unknown as { handoffApply?: unknown }).handoffApply) {
      redis.defineCommand('handoffApply', { numberOfKeys: 3, lua: APPLY_SCRIPT });
    }
  }

  /** The record of a conversation, or null if there is none. */
  async read(conversationId: string): Promise<ConversationRecord | null> {
    return decodeRecord(await this.redis.hgetall(this.keys.conversation(conversationId)));
  }

  /** Just the status and applied sequence (one small read; workers use it to skip stale hops). */
  async readProgress(conversationId: string): Promise<{ status: ConversationStatus; appliedSeq: number } | null> {
    const [status, appliedSeq] = await this.redis.hmget(this.keys.conversation(conversationId), 'status', 'appliedSeq');
    if (status === null || status === undefined || appliedSeq === null || appliedSeq === undefined) return null;
    return { status: status as ConversationStatus, appliedSeq: Number(appliedSeq) };
  }

  /** The whole history of a conversation, oldest first. */
  async history(conversationId: string): Promise<Message[]> {
    const entries = await this.redis.lrange(this.keys.history(conversationId), 0, -1);
    return entries.map((entry, index) => parseBoundary(Message, JSON.parse(entry), `History entry ${index}`));
  }

  /** Applies one step atomically; see {@link ApplyOutcome} for what can come back. */
  async apply(step: ApplyStep): Promise<ApplyOutcome> {
    const now = Date.now();
    const fields = encodeRecordFields({ ...step.record, updatedAt: now });
    const args: (string | number)[] = [
      step.expectedSeq === null ? '' : step.expectedSeq,
      step.newSeq,
      MAX_EVENTS_PER_CONVERSATION,
      step.terminal ? this.retentionSeconds : 0,
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
      ...args,
    );
    return applyOutcomeFromCode(code);
  }
}
