import {
  ArchivedConversation,
  MAX_EVENTS_PER_CONVERSATION,
  TERMINAL_STATUSES,
  parseBoundary,
  type KeyLayout,
  type StoredEvent,
} from '@handoff/core';
import type { RedisClient } from './connection.js';
import type { ConversationStore } from './conversation-store.js';
import type { EventLog } from './event-log.js';

/** Events read per round trip while a conversation is read for the archive. */
const EVENTS_PER_READ = 1_000;

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

/**
 * A finished conversation read whole from Redis, in the shape the archive keeps
 * ({@link ArchivedConversation}): record, history and every event of its log. Null when Redis
 * no longer has it, or when it is not finished (it was revived since it was queued for the archive).
 */
export async function readFinishedConversation(store: ConversationStore, events: EventLog, conversationId: string, now = Date.now()): Promise<ArchivedConversation | null> {
  const record = await store.read(conversationId);
  if (!record || !TERMINAL_STATUSES.has(record.status)) return null;
  const history = await store.history(conversationId);
  const log: StoredEvent[] = [];
  // The log is capped (about MAX_EVENTS_PER_CONVERSATION entries, plus late ones): the loop is bounded.
  for (let after = '0', reads = 0; reads <= Math.ceil((2 * MAX_EVENTS_PER_CONVERSATION) / EVENTS_PER_READ); reads++) {
    const batch = await events.read(conversationId, { after, count: EVENTS_PER_READ });
    if (batch.length === 0) break;
    log.push(...batch);
    after = batch.at(-1)!.id;
  }
  return parseBoundary(ArchivedConversation, { conversationId, record, history, events: log, endedAt: record.updatedAt, archivedAt: now }, `Archived conversation ${conversationId}`);
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
