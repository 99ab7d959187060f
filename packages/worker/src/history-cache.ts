import { Message, parseBoundary } from '@handoff/core';
import type { ConversationStore, Progress } from '@handoff/redis';

/** Options of {@link HistoryCache}. */
export interface HistoryCacheOptions {
  /** Most bytes of history (as JSON) kept, across conversations. @defaultValue 64 MiB */
  maxBytes?: number;
  /** Most conversations kept. @defaultValue 10 000 */
  maxConversations?: number;
}

interface Entry {
  messages: Message[];
  bytes: number;
  /** The conversation's incarnation the messages belong to. */
  epoch: string;
}

/**
 * The histories this worker process has read, so the next hop of the same conversation reads only
 * the messages added since. Histories are append-only lists, so a cached prefix never goes stale
 * within one incarnation of a conversation; entries are kept under the incarnation (`epoch`), so a
 * conversation id used again never gets the old conversation's messages.
 * Least recently used conversations are dropped first; the size is bounded in bytes and entries.
 */
export class HistoryCache {
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;
  private readonly maxBytes: number;
  private readonly maxConversations: number;

  constructor(options: HistoryCacheOptions = {}) {
    this.maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
    this.maxConversations = options.maxConversations ?? 10_000;
  }

  /** Cached size in bytes (for metrics and tests). */
  get size(): { conversations: number; bytes: number } {
    return { conversations: this.entries.size, bytes: this.bytes };
  }

  /**
   * Reads the first `length` history messages of a conversation and its progress, in one round
   * trip, fetching from Redis only what is not cached. Entries read from Redis are validated.
   * `history` is null when Redis holds fewer than `length` messages (the conversation expired).
   */
  async read(store: ConversationStore, conversationId: string, length: number, epoch?: string): Promise<{ progress: Progress | null; history: Message[] | null }> {
    const cached = this.entries.get(conversationId);
    // Without an incarnation to check against (a hop published before they existed), the cache is not used.
    const have = epoch !== undefined && cached?.epoch === epoch && cached.messages.length <= length ? cached.messages.length : 0;
    const { progress, entries } = await store.readTurnInput(conversationId, have, length);
    if (epoch !== undefined && (progress?.epoch ?? '') !== epoch) {
      // Another incarnation than the hop's: nothing of it may be cached or used.
      this.drop(conversationId);
      return { progress, history: null };
    }
    if (entries.length !== length - have) {
      // The list is shorter than the envelope says: the conversation expired or was removed.
      this.drop(conversationId);
      return { progress, history: null };
    }
    const tail = entries.map((raw, i) => parseBoundary(Message, JSON.parse(raw), `History entry ${have + i} of ${conversationId}`));
    // `have` is the whole cached list when it is used, so the new messages are appended to it.
    const base = have > 0 ? cached : undefined;
    const messages = base ? base.messages.concat(tail) : tail;
    const added = entries.reduce((sum, raw) => sum + raw.length, 0);
    if (epoch !== undefined) this.remember(conversationId, epoch, messages, (base?.bytes ?? 0) + added);
    return { progress, history: messages };
  }

  /** Forgets a conversation. */
  drop(conversationId: string): void {
    const entry = this.entries.get(conversationId);
    if (!entry) return;
    this.bytes -= entry.bytes;
    this.entries.delete(conversationId);
  }

  private remember(conversationId: string, epoch: string, messages: Message[], bytes: number): void {
    this.drop(conversationId);
    if (bytes > this.maxBytes) return;
    this.entries.set(conversationId, { messages, bytes, epoch });
    this.bytes += bytes;
    for (const [id, entry] of this.entries) {
      if (this.bytes <= this.maxBytes && this.entries.size <= this.maxConversations) break;
      this.bytes -= entry.bytes;
      this.entries.delete(id);
    }
  }
}
