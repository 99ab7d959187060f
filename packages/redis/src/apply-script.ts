import { APPEND_LATE_LUA } from './small-scripts.js';

/**
 * The atomic "apply" step of the coordinator, as one Lua script: a compare-and-set on the
 * conversation's applied sequence and record version, then the history append, the record update
 * and the events, all or nothing. Every key is of one conversation (one hash tag), so it runs on
 * Redis Cluster. Every successful apply increments the record's `version`.
 *
 * KEYS: record, history, events (the stream), done (a list that gets one entry when the
 * conversation parks, for waiters blocked on it — clients before 2026-12 — and a message is
 * published on the channel of the same name, which today's clients subscribe to), ops (the operation ids of the latest commands
 * applied), starting (the marker a client set while the start was queued; deleted when the record
 * is created), finished events (the compacted log of a finished conversation), turn result (the
 * pending turn result a worker stored; every applied step deletes it).
 * ARGV: expectedSeq ('' = the record must not exist yet), newSeq ('' = a step that is not a turn:
 *       the applied sequence stays, and expectedVersion must match), eventsMaxLen, ttlSeconds (> 0:
 *       park — keep it that long and wake waiters; 0: as is; < 0: revive — persist and clear the wake mark),
 *       expectedVersion ('' = any), operationId ('' = none), maxOperations,
 *       eventTtlSeconds (> 0: the step ends the conversation, whose events are kept this long),
 *       lingerMs (how long the wake-up mark, and a compacted stream, outlive a park),
 *       compactFrom ('' = no compaction; else the id of the stream's last entry, '0-0' for none,
 *       that the compacted lines were made from), outputRef ('' or the history index that holds
 *       the output), terminalIndex (0 or which of the events is the terminal one),
 *       parkedResult ('' or, for a step that parks, the result JSON its waiters are told: the
 *       message published is then `{"version":<new version>,"result":<it>}`, else `done`),
 *       nMessages, messages…, nFields, field, value…, nEvents, events…, then with compactFrom:
 *       nLines, lines…, the id of the last line ('' for none), and the events as the log keeps them;
 *       or, with ttl < 0 (a revival), optionally: the compacted log as it is, and as it becomes (its
 *       terminal events with their results written out, as the record that held them changes)
 * A step that ends the conversation with compactFrom set writes the compacted log (the lines, then
 * the step's events with their new ids; after the compacted log it had, when it finished before and
 * was revived) in place of the stream — which only lingers, so that
 * readers blocked on it wake — and rewrites the record compactly (no null fields, the output as a
 * history index, the terminal event's id; fields at their default and the conversation id left out). The operation of a step that creates the record is not
 * recorded: the record's existence already says it was applied.
 * Returns the new version (≥ 1) when applied, 0 when already applied (the record is at or past
 * newSeq, or the operation is recorded: a redelivery, or ioredis re-sending the script after a
 * lost reply), -1 out of order, -2 no record, -3 the record's version is not the expected one,
 * -4 the stream has changed since the compacted lines were made, or the compacted log since a
 * revival's rewrite of it was made (nothing was written).
 */
export const APPLY_SCRIPT = `${APPEND_LATE_LUA}
local op = ARGV[6]
if op ~= '' and redis.call('LPOS', KEYS[5], op) then return 0 end
local current = redis.call('HGET', KEYS[1], 'appliedSeq')
local expected = ARGV[1]
local newSeq = tonumber(ARGV[2])
local creates = expected == '' and ARGV[2] ~= ''
if ARGV[2] == '' then
  -- A step that is not a turn (a failure, a cancellation): the version check alone guards it.
  if not current then return -2 end
  if redis.call('HGET', KEYS[1], 'version') ~= ARGV[5] then return -3 end
  newSeq = tonumber(current)
elseif expected == '' then
  if current then return 0 end
else
  if not current then return -2 end
  local c = tonumber(current)
  if c >= newSeq then return 0 end
  if c ~= tonumber(expected) then return -1 end
  if ARGV[5] ~= '' and redis.call('HGET', KEYS[1], 'version') ~= ARGV[5] then return -3 end
end
local compactFrom = ARGV[10]
if compactFrom ~= '' then
  local last = redis.call('XREVRANGE', KEYS[3], '+', '-', 'COUNT', 1)[1]
  if (last and last[1] or '0-0') ~= compactFrom then return -4 end
end
-- The layout of the variable-length arguments: where the events end (what comes after them).
local tail
do
  local at = 14 + tonumber(ARGV[14]) + 1
  at = at + 2 * tonumber(ARGV[at]) + 1
  tail = at + tonumber(ARGV[at]) + 1
end
local ttl = tonumber(ARGV[4])
local rewrite = false
if ttl < 0 and compactFrom == '' and ARGV[tail + 1] then
  -- A revival that writes out the results its compacted log's terminal events took from the record.
  if redis.call('GET', KEYS[7]) ~= ARGV[tail] then return -4 end
  rewrite = ARGV[tail + 1]
end
-- A new conversation never sees the compacted log of an earlier one with its id.
if creates then redis.call('DEL', KEYS[7]) end
local i = 14
local nMessages = tonumber(ARGV[i])
if nMessages > 0 then
  redis.call('RPUSH', KEYS[2], unpack(ARGV, i + 1, i + nMessages))
end
i = i + nMessages + 1
local nFields = tonumber(ARGV[i])
redis.call('HSET', KEYS[1], 'appliedSeq', newSeq, unpack(ARGV, i + 1, i + 2 * nFields))
local version = redis.call('HINCRBY', KEYS[1], 'version', 1)
i = i + 2 * nFields + 1
local nEvents = tonumber(ARGV[i])
local ids = {}
local log = redis.call('GET', KEYS[7])
local fms, fseq
if log then fms, fseq = logLast(log) end
local ended = isEnded(redis.call('HGET', KEYS[1], 'status'))
if compactFrom == '' and log and ended and not (fms and streamPast(KEYS[3], fms, fseq)) then
  -- The conversation finished before, and stays finished: its events go to its compacted log.
  appendLate(KEYS[7], log, i + 1, i + nEvents, false)
else
  -- Running (or revived after it finished: the stream continues after the compacted log).
  for e = 1, nEvents do
    local at = '*'
    if e == 1 then at = streamId(KEYS[3], fms, fseq) end
    ids[e] = redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[3], at, 'e', ARGV[i + e])
  end
end
if op ~= '' and not creates then
  redis.call('LPUSH', KEYS[5], op)
  redis.call('LTRIM', KEYS[5], 0, tonumber(ARGV[7]) - 1)
end
if creates then redis.call('DEL', KEYS[6]) end
-- A stored turn result is spent by any step: the one that applies it, or one that ends the conversation first.
redis.call('DEL', KEYS[8])
local eventTtl = tonumber(ARGV[8])
local linger = tonumber(ARGV[9])
if ttl > 0 then
  -- Parked (ended, or waiting for the user): wake result waiters (those subscribed to the channel
  -- named like the done list, and those blocked on the list); keep it for the retention period.
  redis.call('RPUSH', KEYS[4], 'done')
  -- Subscribers are told the result with the wake-up, under the version it has (no read needed).
  if ARGV[13] ~= '' then
    redis.call('PUBLISH', KEYS[4], '{"version":' .. version .. ',"result":' .. ARGV[13] .. '}')
  else
    redis.call('PUBLISH', KEYS[4], 'done')
  end
  redis.call('PEXPIRE', KEYS[4], linger)
  if compactFrom ~= '' then
    local lines = {}
    local at = i + nEvents + 1
    local nLines = tonumber(ARGV[at])
    for l = 1, nLines do lines[l] = ARGV[at + l] end
    local previous = ARGV[at + nLines + 1]
    local pms, pseq = string.match(previous, '^(%d+)%-(%d+)$')
    pms = tonumber(pms)
    pseq = tonumber(pseq)
    for e = 1, nEvents do
      lines[#lines + 1] = idToken(pms, pseq, ids[e]) .. ' ' .. ARGV[at + nLines + 1 + e]
      local ms, seq = string.match(ids[e], '^(%d+)%-(%d+)$')
      pms = tonumber(ms)
      pseq = tonumber(seq)
    end
    -- A conversation that finished before (and was revived) keeps its compacted log as the prefix.
    local body = table.concat(lines, '\\n')
    if log and log ~= '' then
      if body == '' then body = log else body = log .. '\\n' .. body end
    end
    redis.call('SET', KEYS[7], body, 'EX', eventTtl)
    redis.call('PEXPIRE', KEYS[3], linger)
    -- The record again, compact: what is null or at its default left out (and the conversation id,
    -- which its key says), the output as the history entry that holds it.
    local hash = redis.call('HGETALL', KEYS[1])
    local kept = {}
    local defaults = { conversationId = true, failures = '[]', depth = '0', runStartSeq = '0' }
    for h = 1, #hash, 2 do
      local value = hash[h + 1]
      if hash[h] == 'output' and ARGV[11] ~= '' then value = ARGV[11] end
      if value ~= 'null' and defaults[hash[h]] ~= true and defaults[hash[h]] ~= value then
        kept[#kept + 1] = hash[h]
        kept[#kept + 1] = value
      end
    end
    local terminal = tonumber(ARGV[12])
    if terminal > 0 and ids[terminal] then
      kept[#kept + 1] = 'endEventId'
      kept[#kept + 1] = ids[terminal]
    end
    redis.call('DEL', KEYS[1])
    redis.call('HSET', KEYS[1], unpack(kept))
  elseif eventTtl > 0 then
    if redis.call('EXISTS', KEYS[3]) == 1 then redis.call('EXPIRE', KEYS[3], eventTtl) end
    if log then redis.call('EXPIRE', KEYS[7], eventTtl) end
  else
    redis.call('EXPIRE', KEYS[3], ttl)
    if log and not ended then redis.call('EXPIRE', KEYS[7], ttl) end
  end
  for _, k in ipairs({1, 2, 5}) do redis.call('EXPIRE', KEYS[k], ttl) end
elseif ttl < 0 then
  -- Revived (a user message after a park): keep it again, and let waiters block until the next park.
  redis.call('DEL', KEYS[4])
  for k = 1, 3 do redis.call('PERSIST', KEYS[k]) end
  redis.call('PERSIST', KEYS[5])
  -- Its compacted log (if it finished before) stays the prefix of its log; the stream continues it.
  if rewrite then redis.call('SET', KEYS[7], rewrite, 'KEEPTTL') end
  redis.call('PERSIST', KEYS[7])
elseif op ~= '' then
  -- A step on a parked conversation (one approval of several): the operations expire with the record.
  local left = redis.call('PTTL', KEYS[1])
  if left > 0 then redis.call('PEXPIRE', KEYS[5], left) end
end
return version
`;

/** What {@link APPLY_SCRIPT} returned. */
export const ApplyOutcome = {
  APPLIED: 'applied',
  ALREADY_APPLIED: 'already-applied',
  OUT_OF_ORDER: 'out-of-order',
  MISSING: 'missing',
  VERSION_CONFLICT: 'version-conflict',
  /** Internal to the store: the event stream changed while the step's compaction was prepared (it is prepared again). */
  LOG_MOVED: 'log-moved',
} as const;
/** What {@link APPLY_SCRIPT} returned. */
export type ApplyOutcome = (typeof ApplyOutcome)[keyof typeof ApplyOutcome];

/** What one apply did: the outcome, and the record's new version when it applied. */
export interface ApplyResult {
  outcome: ApplyOutcome;
  version: number | null;
}

/** Maps the script's return value to an {@link ApplyResult}. */
export function applyResultFromCode(code: number): ApplyResult {
  if (code >= 1) return { outcome: ApplyOutcome.APPLIED, version: code };
  switch (code) {
    case 0:
      return { outcome: ApplyOutcome.ALREADY_APPLIED, version: null };
    case -1:
      return { outcome: ApplyOutcome.OUT_OF_ORDER, version: null };
    case -3:
      return { outcome: ApplyOutcome.VERSION_CONFLICT, version: null };
    case -4:
      return { outcome: ApplyOutcome.LOG_MOVED, version: null };
    default:
      return { outcome: ApplyOutcome.MISSING, version: null };
  }
}
