import type { RedisClient } from '@handoff/redis';
import { ConversationStatus, keyLayout, type KeyLayout } from '@handoff/core';

/** How many conversation ids the index keeps (the most recently updated ones). */
export const MAX_INDEXED_CONVERSATIONS = 1_000;
/** The most a list request returns. */
export const MAX_LIST_LIMIT = 500;
/** A conversation without a record yet (its start still waits on its coordinator partition's inbox) is shown as starting this long. */
const STARTING_GRACE_MS = 5 * 60_000;

/** One entry of `GET /v1/conversations`. */
export interface ConversationSummary {
  conversationId: string;
  /** The record's status, or `starting` while the coordinator has not applied the start yet. */
  status: ConversationStatus | 'starting';
  entryAgent: string | null;
  currentAgent: string | null;
  path: string[];
  terminalReason: string | null;
  /** The parent conversation, for a nested or group chat. */
  parentConversationId: string | null;
  createdAt: number | null;
  /** The record's last update (ms); for a conversation still starting, when it was indexed. */
  updatedAt: number;
}

// Fields of the record hash read for a summary (path, currentAgent, terminalReason and parent are JSON there).
const FIELDS = ['status', 'entryAgent', 'currentAgent', 'path', 'terminalReason', 'parent', 'createdAt', 'updatedAt'] as const;

function parseJson<T>(text: string | null | undefined, fallback: T): T {
  if (text === null || text === undefined) return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

/**
 * The list of recent conversations that the console shows: a capped Redis sorted set of
 * conversation ids scored by their last update (ms), under the deployment's key prefix — so every
 * gateway replica of a deployment shares it.
 *
 * The coordinator adds every conversation it starts — over HTTP, over Redis (`createClient`),
 * nested and group chats alike — and `GET /v1/conversations/:id` adds one opened by id (started
 * before the index existed, or trimmed from it). Scores are refreshed from the conversation records
 * when the list is read; only the newest part of the set is refreshed per read, so a conversation
 * indexed long ago that is still running moves up once it is read again. The set keeps the {@link MAX_INDEXED_CONVERSATIONS}
 * most recent ids; ids whose record has expired are dropped when read.
 */
export class ConversationIndex {
  readonly key: string;
  private readonly keys: KeyLayout;

  constructor(
    private readonly redis: RedisClient,
    prefix: string,
    private readonly maxSize = MAX_INDEXED_CONVERSATIONS,
  ) {
    this.keys = keyLayout(prefix);
    this.key = `${prefix}:console:conversations`;
  }

  /** Indexes a conversation (or moves it up), then trims the set to its cap. Never throws. */
  async touch(conversationId: string, updatedAt = Date.now()): Promise<void> {
    try {
      await this.redis
        .multi()
        .zadd(this.key, 'GT', updatedAt, conversationId) // adds it, or raises its score
        .zremrangebyrank(this.key, 0, -(this.maxSize + 1))
        .exec();
    } catch {
      // The index is a convenience of the console; a failed write must not fail the request.
    }
  }

  /** The `limit` most recently updated conversations, newest first. */
  async list(limit = 50): Promise<ConversationSummary[]> {
    const wanted = Math.min(Math.max(Math.floor(limit) || 0, 1), MAX_LIST_LIMIT);
    // Read more than asked: scores are refreshed below, and some ids may have expired.
    const window = Math.min(this.maxSize, wanted * 2 + 100);
    const raw = await this.redis.zrevrange(this.key, 0, window - 1, 'WITHSCORES');
    const ids: { id: string; score: number }[] = [];
    for (let i = 0; i + 1 < raw.length; i += 2) ids.push({ id: raw[i]!, score: Number(raw[i + 1]) });
    if (ids.length === 0) return [];

    // One command per record, sent at once so they pipeline.
    const replies = await Promise.all(
      ids.map(({ id }) => this.redis.hmget(this.keys.conversation(id), ...FIELDS).then((values) => [null, values] as const, (error: unknown) => [error, null] as const)),
    );
    const now = Date.now();
    const summaries: ConversationSummary[] = [];
    const gone: string[] = [];
    const rescored: (string | number)[] = [];
    ids.forEach(({ id, score }, index) => {
      const [error, values] = replies[index] ?? [null, null];
      const [status, entryAgent, currentAgent, path, terminalReason, parent, createdAt, updatedAt] = (error ? [] : (values as (string | null)[])) ?? [];
      if (status === null || status === undefined) {
        if (now - score > STARTING_GRACE_MS) gone.push(id);
        else summaries.push({ conversationId: id, status: 'starting', entryAgent: null, currentAgent: null, path: [], terminalReason: null, parentConversationId: null, createdAt: null, updatedAt: score });
        return;
      }
      const updated = Number(updatedAt) || score;
      if (updated > score) rescored.push(updated, id);
      summaries.push({
        conversationId: id,
        status: ConversationStatus.safeParse(status).success ? (status as ConversationStatus) : 'running',
        entryAgent: entryAgent ?? null,
        currentAgent: parseJson<string | null>(currentAgent, null),
        path: parseJson<string[]>(path, []),
        terminalReason: parseJson<string | null>(terminalReason, null),
        parentConversationId: parseJson<{ conversationId?: string } | null>(parent, null)?.conversationId ?? null,
        createdAt: Number(createdAt) || null,
        updatedAt: updated,
      });
    });
    await Promise.all([
      gone.length > 0 ? this.redis.zrem(this.key, ...gone) : undefined,
      rescored.length > 0 ? this.redis.zadd(this.key, 'XX', 'GT', ...rescored) : undefined,
    ]).catch(() => undefined);
    return summaries.sort((a, b) => b.updatedAt - a.updatedAt).slice(0, wanted);
  }
}
