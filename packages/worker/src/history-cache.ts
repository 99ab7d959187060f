import { Message, parseBoundary } from '@handoff/core';
import type { ConversationStore, Progress } from '@handoff/redis';

/** Options of {@link HistoryCache}. */
export interface HistoryCacheOptions {
  /** Most bytes of history (as JSON) kept, across conversations. @defaultValue 64 MiB */
  maxBytes?: number;
  /** Most conversations kept. @defaultValue 10 000 */
  maxConversations?: number;
}

/** A turn input read ahead of its hop's take ({@link HistoryCache.prefetch}). */
interface Prefetched {
  /** The hop it was read for (its lane id). */
  hop: string;
  length: number;
  epoch: string | undefined;
  /** The cached messages the read started after. */
  have: number;
  at: number;
  reply: Promise<TurnInput | null>;
}

type TurnInput = Awaited<ReturnType<ConversationStore['readTurnInput']>>;

/** Reads ahead kept at most, and how long one stays usable: it is meant for the hop taken right after it. */
const MAX_PREFETCHED = 16;
const PREFETCH_MAX_AGE_MS = 1_000;

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
  private readonly prefetched = new Map<string, Prefetched>();
  private readsAhead = { sent: 0, used: 0 };
  private bytes = 0;
  private readonly maxBytes: number;
  private readonly maxConversations: number;

  constructor(options: HistoryCacheOptions = {}) {
    this.maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
    this.maxConversations = options.maxConversations ?? 10_000;
  }

  /** Turn inputs read ahead of their hop's take ({@link prefetch}), and how many of them a hop's read used. */
  get readAhead(): { sent: number; used: number } {
    return { ...this.readsAhead };
  }

  /** Cached size in bytes (for metrics and tests). */
  get size(): { conversations: number; bytes: number } {
    return { conversations: this.entries.size, bytes: this.bytes };
  }

  /**
   * Reads the first `length` history messages of a conversation and its progress, in one round
   * trip, fetching from Redis only what is not cached. Entries read from Redis are validated. For
   * the hop `hop`, what was read ahead for it ({@link prefetch}) is used instead of reading.
   * `history` is null when Redis holds fewer than `length` messages (the conversation expired).
   */
  async read(store: ConversationStore, conversationId: string, length: number, epoch?: string, hop?: string): Promise<{ progress: Progress | null; history: Message[] | null }> {
    const cached = this.entries.get(conversationId);
    const have = this.cachedLength(conversationId, length, epoch);
    const { progress, entries } = (await this.takePrefetched(hop, conversationId, length, epoch, have)) ?? (await store.readTurnInput(conversationId, have, length));
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

  /**
   * Starts reading a conversation's turn input before its hop is taken: a worker woken for a hop
   * (the lane's wake-up marker names the hop and its conversation) sends this read with its take,
   * and the {@link read} of the hop it then takes uses it instead of a second round trip. A read
   * ahead is used once, only by the read of the same hop (not by a later hop of the conversation,
   * which may have the same history length), with the same history length, incarnation and cached
   * prefix, and only within a second; one that failed is read again. Reading before the take sees
   * what a read right after it would: the hop was published after the step that made it current.
   */
  prefetch(store: ConversationStore, hop: string, conversationId: string, length: number, epoch?: string): void {
    const have = this.cachedLength(conversationId, length, epoch);
    const reply = store.readTurnInput(conversationId, have, length).catch(() => null);
    this.readsAhead.sent++;
    this.prefetched.delete(conversationId);
    this.prefetched.set(conversationId, { hop, length, epoch, have, at: Date.now(), reply });
    for (const id of this.prefetched.keys()) {
      if (this.prefetched.size <= MAX_PREFETCHED) break;
      this.prefetched.delete(id);
    }
  }

  /** How many of the first `length` messages of a conversation the cache can give (0 without an incarnation to check). */
  private cachedLength(conversationId: string, length: number, epoch: string | undefined): number {
    const cached = this.entries.get(conversationId);
    return epoch !== undefined && cached?.epoch === epoch && cached.messages.length <= length ? cached.messages.length : 0;
  }

  /** The read ahead of exactly this read, if there is one still fresh (it is used up either way). */
  private async takePrefetched(hop: string | undefined, conversationId: string, length: number, epoch: string | undefined, have: number): Promise<TurnInput | null> {
    const ahead = this.prefetched.get(conversationId);
    if (!ahead || hop === undefined) return null;
    this.prefetched.delete(conversationId);
    const matches = ahead.hop === hop && ahead.length === length && ahead.epoch === epoch && ahead.have === have && Date.now() - ahead.at <= PREFETCH_MAX_AGE_MS;
    if (!matches) return null;
    const reply = await ahead.reply;
    if (reply) this.readsAhead.used++;
    return reply;
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
