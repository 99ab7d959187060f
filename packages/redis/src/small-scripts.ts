import type { RedisClient } from './connection.js';

/**
 * Small Lua scripts that replace client-side pipelines on hot paths: one EVALSHA costs the client
 * and Redis far less than a pipeline of several commands.
 */

/** KEYS: stream. ARGV: maxLen, event JSON… — XADDs every event, in order. */
const APPEND_EVENTS = `
for i = 2, #ARGV do
  redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'e', ARGV[i])
end
return #ARGV - 1
`;

/** KEYS: record, history. ARGV: from, to (inclusive; -1 = none) — status, appliedSeq, entries… */
const READ_TURN_INPUT = `
local progress = redis.call('HMGET', KEYS[1], 'status', 'appliedSeq')
local entries = {}
if tonumber(ARGV[2]) >= tonumber(ARGV[1]) then entries = redis.call('LRANGE', KEYS[2], ARGV[1], ARGV[2]) end
table.insert(entries, 1, progress[2] or false)
table.insert(entries, 1, progress[1] or false)
return entries
`;

/** The scripts as ioredis commands. */
export interface SmallScripts {
  handoffAppendEvents(stream: string, maxLen: number, ...events: string[]): Promise<number>;
  handoffReadTurnInput(record: string, history: string, from: number, to: number): Promise<(string | null)[]>;
}

/** Defines the scripts on a connection (once) and returns it typed with them. */
export function withSmallScripts(redis: RedisClient): RedisClient & SmallScripts {
  const typed = redis as RedisClient & Partial<SmallScripts>;
  if (!typed.handoffAppendEvents) redis.defineCommand('handoffAppendEvents', { numberOfKeys: 1, lua: APPEND_EVENTS });
  if (!typed.handoffReadTurnInput) redis.defineCommand('handoffReadTurnInput', { numberOfKeys: 2, lua: READ_TURN_INPUT });
  return redis as RedisClient & SmallScripts;
}
