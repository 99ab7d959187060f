import { ArchivedConversation, TERMINAL_STATUSES, parseBoundary, type KeyLayout } from '@handoff/core';
import type { RedisClient } from './connection.js';
import type { ConversationStore } from './conversation-store.js';
import type { EventLog } from './event-log.js';

/**
 * After an archive wrote a conversation: its keys expire within `keepSeconds` (never later than
 * they would have), but only while it is still the finished conversation that was archived — its
 * status terminal and its record at the archived version. A conversation revived meanwhile
 * (running again, or ended again: another version) keeps its keys; its next end is archived anew.
 * KEYS: the conversation's keys, the record first. ARGV: version, keepSeconds.
 * Returns 1 shortened, 0 changed since it was read, -1 no record.
 */
const SHORTEN_RETENTION = `
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return -1 end
if status ~= 'completed' and status ~= 'failed' and status ~= 'cancelled' then return 0 end
if redis.call('HGET', KEYS[1], 'version') ~= ARGV[1] then return 0 end
local keep = tonumber(ARGV[2])
for _, key in ipairs(KEYS) do
  local ttl = redis.call('TTL', key)
  if ttl == -1 or ttl > keep then redis.call('EXPIRE', key, keep) end
end
return 1
`;

/** What {@link shortenArchivedRetention} did. */
export type RetentionOutcome = 'shortened' | 'changed' | 'gone';

type ShortenCommand = (...keysAndArgs: (string | number)[]) => Promise<number>;

/** What {@link readFinishedConversation} found: the conversation to archive, or why there is none. */
export type FinishedRead = { conversation: ArchivedConversation } | { conversation: null; reason: 'running' | 'gone' };

/**
 * A finished conversation read whole from Redis, in the shape the archive keeps
 * ({@link ArchivedConversation}): record, history and every event of its log (bounded by the
 * log's own cap). None when Redis no longer has it (`gone`), or when it is not finished (`running`:
 * it was revived since it was queued for the archive).
 */
export async function readFinishedConversation(store: ConversationStore, events: EventLog, conversationId: string, now = Date.now()): Promise<FinishedRead> {
  const record = await store.read(conversationId);
  if (!record) return { conversation: null, reason: 'gone' };
  if (!TERMINAL_STATUSES.has(record.status)) return { conversation: null, reason: 'running' };
  const [history, log] = await Promise.all([store.history(conversationId), events.readAll(conversationId)]);
  return { conversation: parseBoundary(ArchivedConversation, { conversationId, record, history, events: log, endedAt: record.updatedAt, archivedAt: now }, `Archived conversation ${conversationId}`) };
}

/**
 * Shortens the Redis retention of a conversation the archive now holds to `keepSeconds`, if it is
 * still at `version` and finished (see {@link SHORTEN_RETENTION}). One script on the conversation's
 * own keys (one slot), never with a global key.
 */
export async function shortenArchivedRetention(redis: RedisClient, keys: KeyLayout, conversationId: string, version: number, keepSeconds: number): Promise<RetentionOutcome> {
  const typed = redis as RedisClient & { handoffShortenRetention?: ShortenCommand };
  if (!typed.handoffShortenRetention) redis.defineCommand('handoffShortenRetention', { numberOfKeys: 7, lua: SHORTEN_RETENTION });
  const id = conversationId;
  const code = await (redis as unknown as { handoffShortenRetention: ShortenCommand }).handoffShortenRetention(
    keys.conversation(id), keys.history(id), keys.finishedEvents(id), keys.events(id), keys.ops(id), keys.done(id), keys.starting(id),
    version, Math.max(1, Math.floor(keepSeconds)),
  );
  return code === 1 ? 'shortened' : code === 0 ? 'changed' : 'gone';
}
