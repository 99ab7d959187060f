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

/** KEYS: record, history. ARGV: from, to (inclusive; -1 = none) — status, appliedSeq, epoch, entries… */
const READ_TURN_INPUT = `
local progress = redis.call('HMGET', KEYS[1], 'status', 'appliedSeq', 'epoch')
local entries = {}
if tonumber(ARGV[2]) >= tonumber(ARGV[1]) then entries = redis.call('LRANGE', KEYS[2], ARGV[1], ARGV[2]) end
table.insert(entries, 1, progress[3] or '')
table.insert(entries, 1, progress[2] or false)
table.insert(entries, 1, progress[1] or false)
return entries
`;

/**
 * Admission control for a new conversation, atomic under bursts. KEYS: the agent queue's wait
 * list, the agent's admission set (starts admitted but not yet on the queue). ARGV: limit, now (ms),
 * holdMs (older admissions no longer count: their start was applied or lost), member.
 * Returns the count before this start when admitted (≥ 0), or -(count + 1) when refused.
 */
const ADMIT_START = `
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', tonumber(ARGV[2]) - tonumber(ARGV[3]))
local count = redis.call('LLEN', KEYS[1]) + redis.call('ZCARD', KEYS[2])
if count >= tonumber(ARGV[1]) then return -(count + 1) end
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[4])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return count
`;

/** The scripts as ioredis commands. */
export interface SmallScripts {
  handoffAppendEvents(stream: string, maxLen: number, ...events: string[]): Promise<number>;
  handoffReadTurnInput(record: string, history: string, from: number, to: number): Promise<(string | null)[]>;
  handoffAdmitStart(waitList: string, admissions: string, limit: number, now: number, holdMs: number, member: string): Promise<number>;
}

/** Defines the scripts on a connection (once) and returns it typed with them. */
export function withSmallScripts(redis: RedisClient): RedisClient & SmallScripts {
  const typed = redis as RedisClient & Partial<SmallScripts>;
  if (!typed.handoffAppendEvents) redis.defineCommand('handoffAppendEvents', { numberOfKeys: 1, lua: APPEND_EVENTS });
  if (!typed.handoffReadTurnInput) redis.defineCommand('handoffReadTurnInput', { numberOfKeys: 2, lua: READ_TURN_INPUT });
  if (!typed.handoffAdmitStart) redis.defineCommand('handoffAdmitStart', { numberOfKeys: 2, lua: ADMIT_START });
  return redis as RedisClient & SmallScripts;
}
