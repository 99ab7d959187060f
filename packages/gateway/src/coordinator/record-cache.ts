import type { ConversationRecord } from '@handoff/core';

/**
 * The records this coordinator wrote last, so the next turn of a conversation is decided without
 * reading the record back from Redis. It is never trusted on its own: every apply compares the
 * record's version in Redis with the cached one and falls back to a fresh read when they differ
 * (another replica or a client wrote in between). Bounded; least recently written go first.
 */
export class RecordCache {
  private readonly records = new Map<string, ConversationRecord>();

  constructor(private readonly maxEntries = 10_000) {}

  /** The cached record of a conversation, if any. */
  get(conversationId: string): ConversationRecord | undefined {
    return this.records.get(conversationId);
  }

  /** Remembers a record as just written (a finished conversation is forgotten instead). */
  set(record: ConversationRecord): void {
    this.records.delete(record.conversationId);
    if (record.status !== 'running') return;
    this.records.set(record.conversationId, record);
    if (this.records.size > this.maxEntries) {
      const oldest = this.records.keys().next().value;
      if (oldest !== undefined) this.records.delete(oldest);
    }
  }

  /** Forgets a conversation. */
  delete(conversationId: string): void {
    this.records.delete(conversationId);
  }
}
