import type { RedisClient } from './connection.js';

/**
 * Small Lua scripts that replace client-side pipelines on hot paths: one EVALSHA costs the client
 * and Redis far less than a pipeline of several commands.
 */

/**
 * Lua: returns `stale` unless the hop of sequence ARGV[1] is the one its conversation waits for —
 * the record (KEYS[1]) running, applied up to the hop before it, and of the incarnation ARGV[2]
 * ('' for any). What the turn inbox checks before it stores a result, and the turn
 * journal before it writes or claims.
 */
export const hopPendingLua = (stale: string): string => `
local s = redis.call('HMGET', KEYS[1], 'appliedSeq', 'status', 'epoch')
if not s[1] or tonumber(s[1]) ~= tonumber(ARGV[1]) - 1 or s[2] ~= 'running' then return ${stale} end
if ARGV[2] ~= '' and s[3] and s[3] ~= ARGV[2] then return ${stale} end
`;

/**
 * Lua helpers for the compacted log of a finished conversation (a string of `<id> <JSON>` lines,
 * ids written as `+0` for the next sequence number in the same millisecond, `+<d>` for the first
 * of a millisecond `d` later, else in full; see `idToken` in `event-codec.ts`):
 * - `idToken(pms, pseq, id)` writes `id` after the id `pms-pseq` (pms nil: in full);
 * - `logLast(log)` is the id of the log's last line, as `ms, seq` (nil for an empty log);
 * - `isEnded(status)` is true for the status of a finished conversation;
 * - `streamPast(stream, fms, fseq)` is true when the stream's last entry is after `fms-fseq`;
 * - `streamId(stream, fms, fseq)` is the id to XADD the next entry under so that it comes after
 *   the compacted log ending at `fms-fseq` (fms nil: no compacted log) — `*` when the stream is past
 *   it already, else an explicit id from the Redis clock, or right after the log's last id when the
 *   clock is not past it;
 * - `appendLate(key, log, first, last, skipDeltas)` adds the events `ARGV[first..last]` (stored
 *   JSON) to the compacted log `log` at `key` with ids after its last one (from the Redis clock),
 *   keeping its TTL; with `skipDeltas`, text deltas are left out (the text of a finished
 *   conversation is in its history). Returns the last id added, or false.
 */
export const APPEND_LATE_LUA = `
local function fmtId(ms, seq) return string.format('%.0f', ms) .. '-' .. string.format('%.0f', seq) end
local function idToken(pms, pseq, id)
  local ms, seq = string.match(id, '^(%d+)%-(%d+)$')
  ms = tonumber(ms)
  seq = tonumber(seq)
  if pms then
    if ms == pms and seq == pseq + 1 then return '+0' end
    if ms > pms and seq == 0 then return '+' .. string.format('%.0f', ms - pms) end
  end
  return id
end
local function logLast(log)
  local lastMs, lastSeq
  for line in string.gmatch(log, '[^\\n]+') do
    local token = string.match(line, '^(%S+) ')
    local d = token and string.match(token, '^%+(%d+)$')
    if d then
      if tonumber(d) == 0 then lastSeq = lastSeq + 1 else lastMs = lastMs + tonumber(d); lastSeq = 0 end
    elseif token then
      local ms, seq = string.match(token, '^(%d+)%-(%d+)$')
      lastMs = tonumber(ms)
      lastSeq = tonumber(seq)
    end
  end
  return lastMs, lastSeq
end
local function isEnded(status)
  return status == 'completed' or status == 'failed' or status == 'cancelled'
end
local function nowMs()
  local now = redis.call('TIME')
  return tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
end
local function streamPast(stream, fms, fseq)
  local last = redis.call('XREVRANGE', stream, '+', '-', 'COUNT', 1)[1]
  if not last then return false end
  local ms, seq = string.match(last[1], '^(%d+)%-(%d+)$')
  ms = tonumber(ms)
  seq = tonumber(seq)
  return ms > fms or (ms == fms and seq > fseq)
end
local function streamId(stream, fms, fseq)
  if not fms or streamPast(stream, fms, fseq) then return '*' end
  local ms = nowMs()
  if ms > fms then return fmtId(ms, 0) end
  return fmtId(fms, fseq + 1)
end
local function appendLate(key, log, first, last, skipDeltas)
  log = log or ''
  local lastMs, lastSeq = logLast(log)
  local ms = nowMs()
  local seq = 0
  if lastMs and ms <= lastMs then
    ms = lastMs
    seq = lastSeq + 1
  end
  local lines = {}
  local id = false
  for i = first, last do
    if not (skipDeltas and string.sub(ARGV[i], 1, 21) == '{"type":"text.delta",') then
      id = fmtId(ms, seq)
      seq = seq + 1
      lines[#lines + 1] = id .. ' ' .. ARGV[i]
    end
  end
  if #lines > 0 then
    if log ~= '' then log = log .. '\\n' end
    redis.call('SET', key, log .. table.concat(lines, '\\n'), 'KEEPTTL')
  end
  return id
end
`;

/**
 * Lua: `appendEvents(stream, logKey, recordKey, maxLen, first, last)` XADDs the events
 * `ARGV[first..last]`, in order, and returns the last id. While the conversation is finished (its
 * log is compacted, and the stream has nothing after it), the events go to the compacted log
 * instead (text deltas left out). A conversation that was revived after it finished writes to the
 * stream again, after its compacted log. A stream created here for a conversation whose record
 * expires (parked) expires with it. Needs {@link APPEND_LATE_LUA} before it.
 */
export const APPEND_EVENTS_LUA = `
local function appendEvents(stream, logKey, recordKey, maxLen, first, last)
  local log = redis.call('GET', logKey)
  local fms, fseq
  if log then
    fms, fseq = logLast(log)
    if isEnded(redis.call('HGET', recordKey, 'status') or 'completed') and not (fms and streamPast(stream, fms, fseq)) then
      return appendLate(logKey, log, first, last, true)
    end
  end
  local fresh = redis.call('EXISTS', stream) == 0
  local id = false
  for i = first, last do
    local at = '*'
    if i == first then at = streamId(stream, fms, fseq) end
    id = redis.call('XADD', stream, 'MAXLEN', '~', maxLen, at, 'e', ARGV[i])
  end
  if fresh then
    local left = redis.call('PTTL', recordKey)
    if left > 0 then redis.call('PEXPIRE', stream, left) end
  end
  return id
end
`;

/** KEYS: stream, compacted log, record. ARGV: maxLen, event JSON… — see {@link APPEND_EVENTS_LUA}. */
const APPEND_EVENTS = `${APPEND_LATE_LUA}${APPEND_EVENTS_LUA}
return appendEvents(KEYS[1], KEYS[2], KEYS[3], ARGV[1], 2, #ARGV)
`;

/**
 * KEYS: stream, compacted log, record. ARGV: after (an id), count — when the conversation's log is
 * compacted, `{1, log, entries, from, ended}`: the compacted log, the stream's entries after `from`
 * (the later of `after` and the log's last id; a revived conversation's events after its compacted
 * prefix; at most `count`), and 1 when the conversation is finished (else 0); else `{0, entries}`:
 * the stream's entries after `after` (at most `count`); or, when there is neither (the log of a
 * finished conversation is past its retention), `{2, id, status}`: the id its terminal event had,
 * and its status.
 */
const READ_EVENTS = `${APPEND_LATE_LUA}
local log = redis.call('GET', KEYS[2])
if log then
  local from = ARGV[1]
  local fms, fseq = logLast(log)
  if fms then
    local ams, aseq = string.match(from, '^(%d+)%-?(%d*)$')
    ams = tonumber(ams) or 0
    aseq = tonumber(aseq) or 0
    if fms > ams or (fms == ams and fseq > aseq) then from = fmtId(fms, fseq) end
  end
  local entries = redis.call('XRANGE', KEYS[1], '(' .. from, '+', 'COUNT', ARGV[2])
  local ended = 0
  if isEnded(redis.call('HGET', KEYS[3], 'status') or 'completed') then ended = 1 end
  return {1, log, entries, from, ended}
end
local entries = redis.call('XRANGE', KEYS[1], '(' .. ARGV[1], '+', 'COUNT', ARGV[2])
if #entries == 0 and redis.call('EXISTS', KEYS[1]) == 0 then
  local ended = redis.call('HMGET', KEYS[3], 'endEventId', 'status')
  if ended[1] then return {2, ended[1], ended[2]} end
end
return {0, entries}
`;

/**
 * KEYS: record, history, operations. ARGV: operation id ('' = none) — `{hash pairs, output entry,
 * operation position}`: the record, the history entry its output refers to (when it holds the
 * index of one), and where the operation is among the applied ones (false when it is not).
 */
const READ_RECORD = `
local hash = redis.call('HGETALL', KEYS[1])
local entry = false
for i = 1, #hash, 2 do
  if hash[i] == 'output' and string.match(hash[i + 1], '^%d+$') then entry = redis.call('LINDEX', KEYS[2], tonumber(hash[i + 1])) end
end
local position = false
if ARGV[1] ~= '' then position = redis.call('LPOS', KEYS[3], ARGV[1]) end
return {hash, entry, position}
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
/**
 * Deletes a conversation's starting mark when it is the mark of the start `ARGV[1]` names (its
 * operation id: the mark is that start command, or — from clients before 2026-12 — the id alone).
 * KEYS: starting. Returns 1 when deleted.
 */
const CLEAR_START_MARK = `
local mark = redis.call('GET', KEYS[1])
if not mark then return 0 end
if mark == ARGV[1] or string.find(mark, '"operationId":"' .. ARGV[1] .. '"', 1, true) then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
`;

export interface SmallScripts {
  handoffAppendEvents(stream: string, log: string, record: string, maxLen: number, ...events: string[]): Promise<string | null>;
  handoffReadEvents(stream: string, log: string, record: string, after: string, count: number): Promise<[1, string, [string, string[]][], string, 0 | 1] | [0, [string, string[]][]] | [2, string, string]>;
  handoffReadRecord(record: string, history: string, ops: string, operationId: string): Promise<[string[], string | null, number | null]>;
  handoffClearStartMark(starting: string, operationId: string): Promise<0 | 1>;
  handoffReadTurnInput(record: string, history: string, from: number, to: number): Promise<(string | null)[]>;
  handoffAdmitStart(waitList: string, admissions: string, limit: number, now: number, holdMs: number, member: string): Promise<number>;
}

/** Defines the scripts on a connection (once) and returns it typed with them. */
export function withSmallScripts(redis: RedisClient): RedisClient & SmallScripts {
  const typed = redis as RedisClient & Partial<SmallScripts>;
  if (!typed.handoffAppendEvents) redis.defineCommand('handoffAppendEvents', { numberOfKeys: 3, lua: APPEND_EVENTS });
  if (!typed.handoffReadEvents) redis.defineCommand('handoffReadEvents', { numberOfKeys: 3, lua: READ_EVENTS });
  if (!typed.handoffReadRecord) redis.defineCommand('handoffReadRecord', { numberOfKeys: 3, lua: READ_RECORD });
  if (!typed.handoffReadTurnInput) redis.defineCommand('handoffReadTurnInput', { numberOfKeys: 2, lua: READ_TURN_INPUT });
  if (!typed.handoffAdmitStart) redis.defineCommand('handoffAdmitStart', { numberOfKeys: 2, lua: ADMIT_START });
  if (!typed.handoffClearStartMark) redis.defineCommand('handoffClearStartMark', { numberOfKeys: 1, lua: CLEAR_START_MARK });
  return redis as RedisClient & SmallScripts;
}
